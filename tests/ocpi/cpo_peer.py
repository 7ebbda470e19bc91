"""A small partner CPO on a real port: tokens and commands receivers, for PlugPool as eMSP.

Like a real CPO it keeps the tokens pushed to it (PATCH of an unknown token: 2004), answers
commands with a CommandResponse and, when told to, POSTs the CommandResult to our response_url
later, from its own thread.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

COUNTRY_CODE, PARTY_ID = "BE", "BEC"


@dataclass
class Recorded:
    method: str
    path: str
    body: Any
    headers: dict[str, str]


@dataclass
class CpoState:
    base: str = ""
    version: str = "2.2.1"
    tokens_accepted: set[str] = field(default_factory=set)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)  # "uid:type" -> Token
    requests: list[Recorded] = field(default_factory=list)
    command_response: str = "ACCEPTED"
    command_timeout: int = 30
    result: str | None = "ACCEPTED"  # CommandResult sent back; None: never answers
    token_to_plugpool: str | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _envelope(data: Any = None, status_code: int = 1000) -> dict[str, Any]:
    body: dict[str, Any] = {"status_code": status_code, "timestamp": _now()}
    if data is not None:
        body["data"] = data
    return body


class CpoPeer:
    """Start with `with CpoPeer() as cpo:`; endpoints are under cpo.state.base."""

    def __init__(self, version: str = "2.2.1") -> None:
        self.state = CpoState(version=version)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.state.base = f"http://127.0.0.1:{self.server.server_port}/ocpi"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> CpoPeer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, module: str) -> str:
        return f"{self.state.base}/cpo/{self.state.version}/{module}"

    def endpoints(self) -> tuple[tuple[str, str, str], ...]:
        """The (identifier, role, url) rows a partner row of this peer carries."""
        return (
            ("tokens", "RECEIVER", self.url("tokens")),
            ("commands", "RECEIVER", self.url("commands")),
        )

    def received(self, module: str, method: str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.state.requests
            if f"/{module}" in r.path.split("?")[0] and (method is None or r.method == method)
        ]


def _handler(state: CpoState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, http: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(http)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _token(self) -> str | None:
            scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
            try:
                return (
                    base64.b64decode(value, validate=True).decode() if scheme == "Token" else None
                )
            except ValueError:
                return None

        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            state.requests.append(Recorded(method, self.path, body, dict(self.headers)))
            if self._token() not in state.tokens_accepted:
                self._send(401, _envelope(status_code=2000))
                return
            path, _, query = self.path.partition("?")
            self._route(method, path, query, body)

        def _route(self, method: str, path: str, query: str, body: Any) -> None:
            prefix = f"/ocpi/cpo/{state.version}"
            token_type = dict(p.split("=", 1) for p in query.split("&") if "=" in p).get(
                "type", "RFID"
            )
            if m := re.fullmatch(rf"{prefix}/tokens/(\w+)/(\w+)/([^/]+)", path):
                self._tokens(method, f"{m.group(3)}:{token_type}", body)
            elif m := re.fullmatch(rf"{prefix}/commands/(\w+)", path):
                self._command(m.group(1), body)
            else:
                self._send(404, _envelope(status_code=2000))

        def _tokens(self, method: str, key: str, body: Any) -> None:
            if method == "PUT":
                state.tokens[key] = body
                self._send(201, _envelope())
            elif method == "PATCH" and key in state.tokens:
                state.tokens[key].update(body)
                self._send(200, _envelope())
            else:
                self._send(404, _envelope(status_code=2004))

        def _command(self, name: str, body: Any) -> None:
            self._send(
                200, _envelope({"result": state.command_response, "timeout": state.command_timeout})
            )
            if state.command_response == "ACCEPTED" and state.result is not None:
                threading.Timer(0.2, _send_result, (state, body["response_url"])).start()

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PUT(self) -> None:
            self._handle("PUT")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

    return Handler


def _send_result(state: CpoState, url: str) -> None:
    token = state.token_to_plugpool or ""
    headers = {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}
    requests.post(url, json={"result": state.result}, headers=headers, timeout=10)
