"""Allow-lists: the only paths and commands an action may touch on a target.

Paths are compared after resolving symlinks (``realpath``), so a symlink inside an allowed root
that points at ``/etc`` is refused; ``..`` is refused outright, before any resolution, because a
path that needs it is not one an operator wrote on purpose.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from fnmatch import fnmatchcase
from pathlib import PurePosixPath

from steadyops.config.settings import RemediationConfig
from steadyops.core.errors import Refused


class AllowList:
    def __init__(self, roots: Sequence[str], commands: Sequence[Sequence[str]]) -> None:
        self.roots = [os.path.realpath(r) for r in roots]
        self.commands = [list(c) for c in commands]

    @classmethod
    def for_action(cls, config: RemediationConfig, action: str, target: str) -> AllowList:
        roots: list[str] = []
        commands: list[list[str]] = []
        for rule in config.allow:
            if any(fnmatchcase(action, p) for p in rule.actions) and any(fnmatchcase(target, p) for p in rule.targets):
                roots.extend(rule.paths)
                commands.extend(rule.commands)
        return cls(roots, commands)

    def check_path(self, path: str, *, local: bool = True) -> str:
        """Return the resolved path if allowed; raise Refused naming the reason otherwise."""
        if not path.startswith("/"):
            raise Refused(f"path {path!r} is not absolute")
        if ".." in PurePosixPath(path).parts:
            raise Refused(f"path {path!r} contains '..'")
        try:
            real = os.path.realpath(path) if local else os.path.normpath(path)
        except (OSError, ValueError) as exc:  # e.g. EINVAL: a symlink swapped for a directory mid-resolution
            raise Refused(f"path {path!r} cannot be resolved safely ({exc}); not touched") from None
        for root in self.roots:
            if real == root or real.startswith(root.rstrip("/") + "/"):
                return real
        if real != os.path.normpath(path):
            raise Refused(f"path {path!r} resolves to {real!r} (via a symlink), outside the allow-list")
        raise Refused(f"path {path!r} is outside the allow-list ({', '.join(self.roots) or 'nothing allowed'})")

    def check_command(self, argv: Sequence[str]) -> None:
        if list(argv) not in self.commands:
            raise Refused(f"command {' '.join(argv)!r} is not allow-listed")

    def matches_any_root(self, pattern: str) -> bool:
        return any(fnmatchcase(root, pattern) for root in self.roots)
