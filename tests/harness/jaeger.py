"""A real HTTP server that answers Jaeger's query API (``/api/services``, ``/api/traces``) from
traces held in memory, the way a Jaeger query service does: traces filtered by service, by start
time (microseconds) and limit, each trace whole. ``failing`` services answer HTTP 500."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

__all__ = ["JaegerServer"]


class JaegerServer:
    def __init__(self, traces: Sequence[dict[str, Any]]) -> None:
        self.traces = list(traces)
        self.failing: set[str] = set()
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                outer.requests.append(self.path)
                if url.path == "/api/services":
                    self._send(200, {"data": sorted(outer.services()), "total": len(outer.services())})
                elif url.path == "/api/traces" and "service" in query:
                    if query["service"] in outer.failing:
                        self._send(500, {"errors": [{"code": 500, "msg": "storage unavailable"}]})
                        return
                    found = outer.find(query["service"], int(query.get("start", 0)),
                                       int(query.get("end", 2**62)), int(query.get("limit", 20)))
                    self._send(200, {"data": found, "total": len(found), "limit": 0, "offset": 0, "errors": None})
                else:
                    self._send(400, {"errors": [{"code": 400, "msg": "parameter 'service' is required"}]})

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @staticmethod
    def _service_names(trace: dict[str, Any]) -> set[str]:
        return {str(p.get("serviceName")) for p in (trace.get("processes") or {}).values()}

    def services(self) -> set[str]:
        return {name for trace in self.traces for name in self._service_names(trace)}

    def find(self, service: str, start_us: int, end_us: int, limit: int) -> list[dict[str, Any]]:
        out = []
        for trace in self.traces:
            first = min(int(s["startTime"]) for s in trace["spans"])
            if service in self._service_names(trace) and start_us <= first <= end_us:
                out.append(trace)
        return out[-limit:]  # Jaeger returns the most recent ones within the limit

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
