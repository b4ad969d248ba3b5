"""The public surface is deliberate: ``__all__`` is tested, and every name in it exists."""

from __future__ import annotations

import steadyops
from steadyops.core.i18n import MESSAGES
from steadyops.plugins import load_plugins


def test_all_names_exist_and_are_sorted() -> None:
    for name in steadyops.__all__:
        assert hasattr(steadyops, name), name
    assert steadyops.__all__ == sorted(steadyops.__all__, key=str)


def test_every_message_has_both_languages() -> None:
    for key, entry in MESSAGES.items():
        assert set(entry) == {"zh", "en"}, key
        assert all(v.strip() for v in entry.values()), key


def test_every_builtin_plugin_is_documented() -> None:
    registry = load_plugins(entry_points_too=False)
    assert len(registry.notifiers) >= 6
    for name in registry.notifiers.names():
        cls = registry.notifiers.get(name)
        assert (cls.__doc__ or "").strip(), f"notifier {name} has no docstring"
        assert cls.Config.__doc__ or cls.Config.model_fields is not None
