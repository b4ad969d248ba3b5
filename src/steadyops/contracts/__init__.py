"""The plugin contracts: what an integration implements (checks, collectors, actions, notifiers,
toolsets) and the delivery plumbing every notifier shares.

``steadyops.plugins`` holds the registry these classes are registered in; the public names are also
re-exported by ``steadyops`` itself, which is what third-party plugins should import.
"""
