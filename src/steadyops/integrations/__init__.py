"""Built-in plugins, shaped exactly like third-party ones."""
