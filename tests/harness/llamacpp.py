"""A REAL llama.cpp server (``llama-cpp-python[server]``) serving a tiny GGUF model written on the spot.

The inference-service checks are only worth something against a real server's protocol, streaming
and timing, so the integration tests start one. The model is a 2-layer llama with random weights
and a byte-level vocabulary, written with the ``gguf`` package (~1 MB, no download): it answers
nonsense, which is fine — the checks measure the server, not the answers::

    with start_llamacpp(tmp_path) as srv:
        srv.target()                 # an ``inference`` Target pointing at it
        srv.pause(); srv.resume()    # SIGSTOP / SIGCONT: a hung server
        srv.stop(); srv.start()      # the process gone, then back

``llama-cpp-python`` has no wheel on the package index used here, so ``make test`` builds it once
from the sdist (``scripts/build-llama-cpp.sh``) and installs the cached wheel afterwards; when it
is not installed, :class:`ServiceMissing` makes the tests skip, or fail under
``STEADYOPS_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from steadyops.core.inventory import Target
from tests.harness.services import ServiceError, ServiceMissing, free_port

__all__ = ["LlamaServer", "start_llamacpp", "write_tiny_gguf"]

READY_TIMEOUT = 60.0
N_EMBD, N_HEAD, N_LAYER, N_FF, N_CTX = 64, 4, 2, 128, 16384  # context fits the agent prompt (bytes)


def write_tiny_gguf(path: Path, *, seed: int = 0) -> Path:
    """A llama-architecture GGUF with random weights and a 259-token byte vocabulary (<unk> <s> </s> + bytes)."""
    import gguf
    import numpy as np

    rng = np.random.default_rng(seed)
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    n_vocab = len(tokens)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("steadyops-tiny-random")
    writer.add_context_length(N_CTX)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYER)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD)
    writer.add_rope_dimension_count(N_EMBD // N_HEAD)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(0)  # all F32
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * n_vocab)
    writer.add_token_types([2, 3, 3] + [6] * 256)  # unknown, control ×2, byte ×256
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_chat_template("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}assistant:")

    def weight(*shape: int) -> np.ndarray[Any, Any]:
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    writer.add_tensor("token_embd.weight", weight(n_vocab, N_EMBD))
    writer.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    writer.add_tensor("output.weight", weight(n_vocab, N_EMBD))
    for i in range(N_LAYER):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(f"blk.{i}.{name}.weight", weight(N_EMBD, N_EMBD))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", weight(N_FF, N_EMBD))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", weight(N_FF, N_EMBD))
        writer.add_tensor(f"blk.{i}.ffn_down.weight", weight(N_EMBD, N_FF))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@dataclass
class LlamaServer:
    model: Path
    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / "llama-server.log"

    def target(self, name: str = "llm-1", **labels: str) -> Target:
        return Target(name=name, kind="inference", address=self.address,
                      labels={"timeout": "3", "probe_timeout": "8", **labels})

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model), "--host", "127.0.0.1",
                "--port", str(self.port), "--n_ctx", str(N_CTX), "--n_threads", "1", "--n_batch", "64",
                "--model_alias", "tiny", "--interrupt_requests", "False"]

    @property
    def pid_file(self) -> Path:
        return self.workdir / "llama-server.pid"

    def restart_script(self) -> Path:
        """A script an operator's ``restart_command`` would be: stop the running server, start a new
        one on the same port in the background (its pid in :attr:`pid_file`, which :meth:`stop` honours)."""
        script = self.workdir / "restart-llama.sh"
        pid = self.proc.pid if self.proc is not None else 0
        port_busy = f"import socket,sys; sys.exit(socket.socket().connect_ex(('127.0.0.1', {self.port})))"
        lines = ["#!/bin/sh",
                 f"for p in {pid} $(cat {self.pid_file} 2>/dev/null); do kill $p; kill -CONT $p; done 2>/dev/null",
                 f'while python3 -c "{port_busy}" 2>/dev/null; do sleep 0.2; done',
                 f"{' '.join(self.argv())} >> {self.log} 2>&1 < /dev/null &",
                 f"echo $! > {self.pid_file}"]
        script.write_text("\n".join(lines) + "\n")
        script.chmod(0o755)
        return script

    def start(self) -> None:
        args = self.argv()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServiceError(f"llama.cpp server exited with {self.proc.returncode}: {self.tail()}")
            try:
                if httpx.get(f"http://{self.address}/v1/models", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise ServiceError(f"llama.cpp server not ready within {READY_TIMEOUT:g}s: {self.tail()}")

    def tail(self, size: int = 3000) -> str:
        try:
            return self.log.read_bytes()[-size:].decode("utf-8", "replace")
        except OSError:
            return ""

    def _pid(self) -> int | None:
        """The running server: the one ``restart_script`` started, if it did, else our own child."""
        with contextlib.suppress(OSError, ValueError):
            return int(self.pid_file.read_text().strip())
        return self.proc.pid if self.proc is not None else None

    def pause(self) -> None:
        """SIGSTOP: the port stays open (the kernel still accepts), nothing answers — a hung server."""
        if (pid := self._pid()) is not None:
            os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        if (pid := self._pid()) is not None:
            os.kill(pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.pid_file.exists():  # a server started by restart_script
            with contextlib.suppress(ValueError, ProcessLookupError):
                os.kill(int(self.pid_file.read_text().strip()), signal.SIGTERM)
            self.pid_file.unlink()
        if self.proc is None:
            return
        self.resume()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


@contextmanager
def start_llamacpp(workdir: Path) -> Iterator[LlamaServer]:
    """A started server on a free loopback port; stopped (SIGCONT first if paused) on exit."""
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("gguf") is None:
        raise ServiceMissing("llama-cpp-python[server] and gguf are not installed (make test builds them: "
                             "scripts/build-llama-cpp.sh)")
    model = write_tiny_gguf(workdir / "tiny-random.gguf")
    server = LlamaServer(model=model, workdir=workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
