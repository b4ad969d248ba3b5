"""A real uvicorn server for an App on a free loopback port, in a thread: for CLI and client tests.

The pipeline's background loop is off, so a test drives it explicitly and knows exactly what the
server holds when a command runs.
"""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from steadyops.app import App
from steadyops.auth.roles import Role
from steadyops.server import create_server
from steadyops.testing.auth import admin_token, token_for


class Server:
    def __init__(self, core: App) -> None:
        self.core = core
        #: the first-start admin token; CLI tests pass ``*srv.args`` (``--server URL --token T``)
        self.token = admin_token(core)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(create_server(core, run_pipeline=False), log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def args(self) -> list[str]:
        return ["--server", self.url, "--token", self.token]

    def token_for(self, name: str, role: Role | str) -> str:
        return token_for(self.core, name, role)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            assert self.thread.is_alive(), "server thread died"
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()
