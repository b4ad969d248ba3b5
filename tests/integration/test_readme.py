"""The README is executable documentation: its tour runs against a real ``steadyops serve``.

Every fenced block whose info string is ``sh readme-test`` is taken from README.md as it is and run,
in order, by one bash script (so a variable set in one block is seen by the next), in a temporary
directory holding a copy of ``steadyops.demo.yaml``, against ``steadyops serve`` started as the
README says (``STEADYOPS_CONFIG=…/steadyops.demo.yaml``) on a free port. The conventions:

* ``# => text`` under a command: ``text`` must appear in what the command printed (stdout + stderr);
* ``# exit: 0 1 2`` under a command: the exit codes it may end with (default: 0 only);
* read-only ``list``/``show`` commands are retried for a few seconds until their lines appear,
  since the pipeline files alerts into incidents in the background.

The only edit to the text: ``127.0.0.1:8900`` becomes the test server's address.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
BIN = Path(sys.executable).parent
RETRIED = re.compile(r"^steadyops (--lang \w+ )?(incidents|alerts|silences) (list|show)\b|^steadyops (--lang \w+ )?do ")


@dataclass
class Command:
    text: str
    line: int
    expect: list[str] = field(default_factory=list)
    exits: set[int] = field(default_factory=lambda: {0})


def readme_blocks(text: str) -> list[list[Command]]:
    """The ``sh readme-test`` blocks, each a list of commands with their expectations."""
    blocks: list[list[Command]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() != "```sh readme-test":
            i += 1
            continue
        block: list[Command] = []
        i += 1
        pending = ""
        start = i
        while lines[i].strip() != "```":
            raw = lines[i]
            stripped = raw.strip()
            if not pending and stripped.startswith("# => "):
                block[-1].expect.append(stripped.removeprefix("# => "))
            elif not pending and stripped.startswith("# exit:"):
                block[-1].exits = {int(c) for c in stripped.removeprefix("# exit:").split()}
            elif pending or (stripped and not stripped.startswith("#")):
                if not pending:
                    start = i + 1
                pending += raw + "\n"
                if _complete(pending):
                    block.append(Command(pending.rstrip("\n"), start))
                    pending = ""
            i += 1
        assert not pending, f"README.md:{start}: unterminated command"
        blocks.append(block)
        i += 1
    return blocks


def _complete(command: str) -> bool:
    """A command ends at a line without a trailing backslash and with its quotes closed."""
    if command.rstrip("\n").endswith("\\"):
        return False
    try:
        shlex.split(command, comments=True)
    except ValueError:
        return False
    return True


def script(blocks: list[list[Command]], port: int) -> str:
    """One bash script; each command's output is framed by markers carrying its index and exit code."""
    out = ["exec 2>&1"]
    n = 0
    for block in blocks:
        for cmd in block:
            text = cmd.text.replace("127.0.0.1:8900", f"127.0.0.1:{port}")
            out.append(f"echo '@@begin {n}'")
            if RETRIED.match(text.strip()) and cmd.expect:
                greps = " && ".join(f"printf '%s' \"$_out\" | grep -qF -- {shlex.quote(e)}" for e in cmd.expect)
                out.append(f"_t0=$SECONDS; while :; do _out=$({text}\n); _rc=$?; if {greps}; then break; fi; "
                           "if (( SECONDS - _t0 > 20 )); then break; fi; sleep 0.5; done; "
                           "printf '%s\\n' \"$_out\"; (exit $_rc)")
            else:
                out.append(text)
            out.append(f"echo \"@@end {n} $? $SECONDS\"")
            n += 1
    return "\n".join(out) + "\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str], int]]:
    shutil.copy(REPO / "steadyops.demo.yaml", tmp_path / "steadyops.demo.yaml")
    port = _free_port()
    env = {**os.environ, "STEADYOPS_CONFIG": str(tmp_path / "steadyops.demo.yaml"), "STEADYOPS_PORT": str(port),
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "STEADYOPS_LANG": "en", "USER": "newcomer"}
    for var in ("STEADYOPS_SERVER", "STEADYOPS_DATA_DIR", "STEADYOPS_DATABASE_URL"):
        env.pop(var, None)
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([str(BIN / "steadyops"), "serve"], cwd=tmp_path, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "steadyops serve did not come up"
            time.sleep(0.2)
        yield tmp_path, env, port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_the_readme_documents_how_the_demo_server_is_started() -> None:
    text = README.read_text(encoding="utf-8")
    assert "export STEADYOPS_CONFIG=$PWD/steadyops.demo.yaml" in text and "steadyops serve" in text
    assert "shared/DESIGN.md" not in text and "docs/architecture.md" in text, "the architecture lives in the repo"


def test_the_parser_reads_the_conventions() -> None:
    text = "```sh readme-test\nA=1 \\\n  B=2\n# => x\n# exit: 0 1\necho 'a\nb'  # c\n# => a\n```\n"
    (block,) = readme_blocks(text)
    assert [c.text for c in block] == ["A=1 \\\n  B=2", "echo 'a\nb'  # c"]
    assert block[0].expect == ["x"] and block[0].exits == {0, 1} and block[1].expect == ["a"]


def test_readme_tour_runs_as_documented(demo_server: tuple[Path, dict[str, str], int]) -> None:
    cwd, env, port = demo_server
    text = README.read_text(encoding="utf-8")
    blocks = readme_blocks(text)
    commands = [c for b in blocks for c in b]
    covered = " ".join(c.text for c in commands)
    for needed in ("curl", "alerts send", "incidents list", "incidents show", "incidents ack", "incidents resolve",
                   "silences add", "silences list", "silences expire", "inspect", "do ", "kb search",
                   "act plan", "act approve", "act apply", "audit verify"):
        assert needed in covered, f"the README tour no longer shows {needed!r}"
    transcript = cwd / "readme-transcript.txt"  # written as it runs: `tail -f` it when this test is slow
    with transcript.open("w", encoding="utf-8") as fh:
        subprocess.run(["bash", "-c", script(blocks, port)], cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT,
                       text=True, timeout=600)
    stdout = transcript.read_text(encoding="utf-8")
    outputs: dict[int, tuple[str, int]] = {}
    for m in re.finditer(r"@@begin (\d+)\n(.*?)@@end \1 (\d+) (\d+)\n", stdout, re.S):
        outputs[int(m.group(1))] = (m.group(2), int(m.group(3)))
        print(f"{m.group(4):>4}s  {commands[int(m.group(1))].text.splitlines()[0][:90]}")
    problems = []
    for n, cmd in enumerate(commands):
        if n not in outputs:
            problems.append(f"README.md:{cmd.line}: did not run: {cmd.text}")
            continue
        out, rc = outputs[n]
        if rc not in cmd.exits:
            problems.append(f"README.md:{cmd.line}: exit {rc}, documented {sorted(cmd.exits)}: {cmd.text}\n{out}")
        for want in cmd.expect:
            if want not in out:
                problems.append(f"README.md:{cmd.line}: {want!r} not in the output of {cmd.text}\n{out}")
    assert not problems, "\n\n".join(problems) + "\n\nserver log:\n" + (cwd / "serve.log").read_text()[-3000:]


def test_the_readme_names_every_debian_package_make_test_installs() -> None:
    script_text = (REPO / "scripts" / "install-test-deps.sh").read_text(encoding="utf-8")
    packages = set(re.findall(r'^\s*"[^"=]+=([a-z0-9.+-]+)"', script_text, re.M))
    assert len(packages) >= 6, packages
    readme = README.read_text(encoding="utf-8")
    missing = sorted(p for p in packages if f"`{p}`" not in readme)
    assert not missing, f"README.md does not name these packages `make test` installs: {missing}"
