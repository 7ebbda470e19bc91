"""A recording OCPI party on a real port, for hub tests: it answers every module and keeps
what it received, so a test can assert what reached it (or that nothing did).

Behaviour per instance: `reply` (status code, data, extra headers) for module calls, `delay`
seconds before answering (to make the hub time out), `stop()` to make it unreachable,
`drop` to close connections without an answer: "reused" on a keep-alive connection's second
and later requests (a server whose idle timeout fires as a request arrives), "always" on all;
"idle" closes each connection right after its answer (an idle timeout between two requests).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    raw: bytes
    headers: dict[str, str]

    @property
    def body(self) -> Any:
        return json.loads(self.raw) if self.raw else None

    @property
    def token(self) -> str:
        value = self.headers.get("Authorization", "").partition(" ")[2]
        return base64.b64decode(value).decode()


@dataclass
class Party:
    """One platform: its base URL, what it got, and how it answers."""

    base: str = ""
    received: list[Received] = field(default_factory=list)
    data: Any = None
    status_code: int = 1000
    http_status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: str = ""
    dropped: int = 0
    server: ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def calls(self, fragment: str = "") -> list[Received]:
        return [r for r in self.received if fragment in r.path]

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def start_party() -> Party:
    """Serve a Party on a free loopback port (daemon thread)."""
    party = Party()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            reused, self.served = getattr(self, "served", 0) > 0, getattr(self, "served", 0) + 1
            if party.drop == "always" or (party.drop == "reused" and reused):
                party.dropped += 1
                self.close_connection = True  # closed with no status line: nothing was done
                return
            party.received.append(Received(self.command, self.path, raw, dict(self.headers)))
            if party.delay:
                time.sleep(party.delay)
            body: dict[str, Any] = {"status_code": party.status_code, "timestamp": _now()}
            if party.data is not None:
                body["data"] = party.data
            payload = json.dumps(body).encode()
            self.send_response(party.http_status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("X-Request-ID", self.headers.get("X-Request-ID", ""))
            for key, value in party.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)
            if party.drop == "idle":
                self.close_connection = True  # after a complete answer, unannounced

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    party.server = server
    party.base = f"http://127.0.0.1:{server.server_port}/ocpi"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return party
