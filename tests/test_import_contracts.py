"""The layer contracts in pyproject.toml hold, and each one catches the violation it exists for.

`make test` runs lint-imports on the real tree; a contract that can never fail would pass there
too, so here each contract is shown failing: the package is copied (Python files only) into a
temporary directory, one import that breaks the rule is planted, and lint-imports is run on the
copy with the project's own configuration. The unplanted copy must pass, so a failure below is the
planted import and nothing else.

lint-imports runs in a subprocess with the copy first on ``PYTHONPATH``: in this process
``steadyops`` is already imported from the real tree, and grimp finds packages through the import
system.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is in the test extra")

# (where the planted module goes, what it imports, the contract that must break)
PLANTS = {
    "core imports an integration": (
        "core/_planted.py", "from steadyops.integrations.zookeeper import checks\n",
        "the core never imports an integration"),
    "an integration imports another": (
        "integrations/redis/_planted.py", "from steadyops.integrations.host import checks\n",
        "integrations never import each other"),
    "an integration imports the application": (
        "integrations/nginx/_planted.py", "from steadyops.pipeline import diagnose\n",
        "integrations import only the contracts and lower layers"),
    "a lower layer imports a higher one": (
        "store/_planted.py", "from steadyops.pipeline import engine\n",
        "layers: imports point down"),
    "a cycle between two modules of one package": (
        "core/_planted.py", "from steadyops.core import clock\n",
        "no cycles between the siblings of any package"),
    "a new package placed in no layer": (
        "newpkg/__init__.py", "",
        "layers: imports point down"),
}


def _copy_tree(tmp_path: Path) -> Path:
    """The package's Python files, in the same layout, under tmp_path/src."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "steadyops", src / "steadyops",
                    ignore=lambda d, names: [n for n in names
                                             if not (n.endswith(".py") or (Path(d) / n).is_dir())
                                             or n == "__pycache__"])
    return src


def _lint(src: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src), "COLUMNS": "200"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("pristine")
    return _copy_tree(tmp)


def test_contracts_hold_on_the_tree(pristine: Path, tmp_path: Path) -> None:
    result = _lint(pristine, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("plant", list(PLANTS))
def test_a_planted_violation_breaks_its_contract(plant: str, pristine: Path, tmp_path: Path) -> None:
    where, code, contract = PLANTS[plant]
    src = tmp_path / "src"
    shutil.copytree(pristine, src)
    module = src / "steadyops" / where
    module.parent.mkdir(parents=True, exist_ok=True)
    module.write_text(code)
    if "cycle" in plant:  # the other half of the circle: clock names the planted module
        clock = src / "steadyops" / "core" / "clock.py"
        clock.write_text(clock.read_text() + "\nfrom steadyops.core import _planted  # noqa\n")
    result = _lint(src, tmp_path)
    assert result.returncode != 0, result.stdout
    # the summary has one line per contract: "<name> KEPT|BROKEN [(n ignored imports)]"
    assert any(line.startswith(contract) and " BROKEN" in line for line in result.stdout.splitlines()), result.stdout
