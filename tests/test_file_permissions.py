"""Safe defaults on disk: the data dir is owner-only, and so are the database, its journal and WAL
files, the audit key, the first-start admin token and every backup archive."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from steadyops.execution import archive
from steadyops.testing.auth import admin_token


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_dir_database_and_secrets_are_owner_only(make_app: Any, tmp_path: Path) -> None:
    old = os.umask(0o022)  # a typical umask: without care, files would come out 0644
    try:
        app = make_app(data_dir=tmp_path / "fresh" / "data")
        admin_token(app)
        with app.store.transaction() as s:
            s.connection().exec_driver_sql("SELECT 1")
        data = app.settings.data_dir
        assert mode(data) == 0o700
        files = [p for p in data.iterdir() if p.is_file()]
        assert {p.name for p in files} >= {"steadyops.db", "admin.token"}
        for p in files:
            assert mode(p) & 0o077 == 0, f"{p.name} is {oct(mode(p))}"
        keys = data.parent / "data-keys"  # the audit key lives apart from the data (i10b)
        assert mode(keys) == 0o700 and mode(keys / "audit.key") == 0o600 and not (data / "audit.key").exists()

        loose = tmp_path / "old"
        loose.mkdir(mode=0o755)
        (loose / "steadyops.db").touch(mode=0o644)
        make_app(data_dir=loose)  # an install from before: tightened at start
        assert mode(loose) == 0o700 and mode(loose / "steadyops.db") == 0o600

        secret = tmp_path / "logs" / "app.log"
        secret.parent.mkdir()
        secret.write_text("password=hunter2\n")
        secret.chmod(0o600)
        made = archive.create(tmp_path / "backups" / "web-1" / "a.tar.gz", [str(secret)])
        assert mode(made.path) == 0o600 and mode(made.path.parent) == 0o700
    finally:
        os.umask(old)
