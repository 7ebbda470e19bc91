"""A small eMSP OCPI peer on a real port: versions, credentials, authorize, locations receiver.

It is the far side of the network edge in tests: just enough OCPI to register in both directions,
answer real-time authorisation and record the pushes it receives.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

VERSION = "2.2.1"
COUNTRY_CODE, PARTY_ID = "DE", "EMS"


@dataclass
class Recorded:
    method: str
    path: str
    body: Any
    headers: dict[str, str]


@dataclass
class PeerState:
    base: str = ""
    tokens_accepted: set[str] = field(default_factory=set)  # tokens that may call the peer
    token_to_plugpool: str | None = None  # the token the peer uses towards PlugPool
    plugpool_versions: str | None = None
    authorizations: dict[str, str] = field(default_factory=dict)  # uid -> AllowedType
    requests: list[Recorded] = field(default_factory=list)
    down: bool = False
    credentials_only: bool = False  # publish no functional module (for 3003)
    hub_modules: bool = False  # also a tariffs and a hubclientinfo receiver (a party on a hub)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _envelope(data: Any = None, status_code: int = 1000) -> dict[str, Any]:
    body = {"status_code": status_code, "timestamp": _now()}
    if data is not None:
        body["data"] = data
    return body


class EmspPeer:
    """Start with `with EmspPeer() as peer:`; peer.url is its /ocpi/versions."""

    def __init__(self) -> None:
        self.state = PeerState()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.state.base = f"http://127.0.0.1:{self.server.server_port}/ocpi"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> EmspPeer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def versions_url(self) -> str:
        return f"{self.state.base}/versions"

    def credentials(self, token: str) -> dict[str, Any]:
        """The peer's Credentials object carrying `token` for PlugPool to use."""
        return {
            "token": token,
            "url": self.versions_url,
            "roles": [
                {
                    "role": "EMSP",
                    "party_id": PARTY_ID,
                    "country_code": COUNTRY_CODE,
                    "business_details": {"name": "Test eMSP"},
                }
            ],
        }

    def issue_token_a(self) -> str:
        """A TOKEN_A for PlugPool to register with the peer."""
        token = f"peer-a-{uuid.uuid4().hex}"
        self.state.tokens_accepted.add(token)
        return token

    def call(self, method: str, url: str, token: str, **kwargs: Any) -> requests.Response:
        """Call PlugPool as this peer, with routing and tracing headers."""
        headers = {
            "Authorization": "Token " + base64.b64encode(token.encode()).decode(),
            "X-Request-ID": str(uuid.uuid4()),
            "X-Correlation-ID": str(uuid.uuid4()),
            "OCPI-from-country-code": COUNTRY_CODE,
            "OCPI-from-party-id": PARTY_ID,
            "OCPI-to-country-code": "NL",
            "OCPI-to-party-id": "PLG",
            **kwargs.pop("headers", {}),
        }
        return requests.request(method, url, headers=headers, timeout=10, **kwargs)

    def register_with(self, plugpool_versions: str, token_a: str) -> dict[str, Any]:
        """Run the peer-initiated handshake; return PlugPool's credentials (TOKEN_C)."""
        versions = self.call("GET", plugpool_versions, token_a).json()["data"]
        details_url = next(v["url"] for v in versions if v["version"] == VERSION)
        details = self.call("GET", details_url, token_a).json()["data"]
        credentials_url = next(
            e["url"] for e in details["endpoints"] if e["identifier"] == "credentials"
        )
        token_b = f"peer-b-{uuid.uuid4().hex}"
        self.state.tokens_accepted.add(token_b)
        reply = self.call("POST", credentials_url, token_a, json=self.credentials(token_b))
        body = reply.json()
        if body["status_code"] == 1000:
            self.state.token_to_plugpool = body["data"]["token"]
            self.state.plugpool_versions = plugpool_versions
        return {"http": reply.status_code, **body}

    def command_results(self) -> list[Recorded]:
        """CommandResults PlugPool POSTed to the peer's response URLs."""
        return [r for r in self.state.requests if "/commands/" in r.path]

    def received(self, module: str, method: str | None = None) -> list[Recorded]:
        """Requests PlugPool made to one of the peer's receivers (sessions, cdrs, bookings)."""
        return [
            r
            for r in self.state.requests
            if f"/{module}" in r.path.split("?")[0] and (method is None or r.method == method)
        ]

    def pushes(self, method: str | None = None) -> list[Recorded]:
        """Requests PlugPool made to the locations receiver."""
        return [
            r
            for r in self.state.requests
            if "/locations/" in r.path and (method is None or r.method == method)
        ]


def _handler(state: PeerState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, http: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(http)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.send_header("X-Request-ID", self.headers.get("X-Request-ID", ""))
            self.end_headers()
            self.wfile.write(raw)

        def _token(self) -> str | None:
            scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
            if scheme != "Token":
                return None
            try:
                return base64.b64decode(value, validate=True).decode()
            except ValueError:
                return None

        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            path = self.path.split("?")[0]
            state.requests.append(Recorded(method, self.path, body, dict(self.headers)))
            if state.down:
                self._send(503, _envelope(status_code=3000))
                return
            if self._token() not in state.tokens_accepted:
                self._send(401, _envelope(status_code=2000))
                return
            self._route(method, path, body)

        def _route(self, method: str, path: str, body: Any) -> None:
            base = state.base.split("127.0.0.1")[1].split("/", 1)[1]
            base = "/" + base
            if path == f"{base}/versions":
                self._send(200, _envelope([{"version": VERSION, "url": f"{state.base}/{VERSION}"}]))
            elif path == f"{base}/{VERSION}":
                details = _details(state.base, state.credentials_only, state.hub_modules)
                self._send(200, _envelope(details))
            elif path == f"{base}/{VERSION}/credentials":
                self._credentials(method, body)
            elif m := re.fullmatch(rf"{base}/emsp/{VERSION}/tokens/([^/]+)/authorize", path):
                allowed = state.authorizations.get(m.group(1))
                if allowed is None:
                    self._send(404, _envelope(status_code=2004))
                    return
                token = {
                    "country_code": COUNTRY_CODE,
                    "party_id": PARTY_ID,
                    "uid": m.group(1),
                    "type": "RFID",
                    "contract_id": "DE-EMS-C1",
                    "issuer": "Test eMSP",
                    "valid": allowed == "ALLOWED",
                    "whitelist": "ALLOWED_OFFLINE",
                    "last_updated": _now(),
                }
                info = {"allowed": allowed, "token": token, "authorization_reference": "REF1"}
                self._send(200, _envelope(info))
            elif path.startswith(f"{base}/emsp/{VERSION}/commands/") and method == "POST":
                self._send(200, _envelope())
            elif path.startswith(f"{base}/emsp/{VERSION}/locations/"):
                self._send(200 if method == "PATCH" else 201, _envelope())
            elif path.startswith(f"{base}/emsp/{VERSION}/sessions/") and method in ("PUT", "PATCH"):
                self._send(200, _envelope())
            elif path == f"{base}/emsp/{VERSION}/cdrs" and method == "POST":
                self._send(201, _envelope())
            elif path.startswith(f"{base}/emsp/2.3.0/bookings/") and method in ("PUT", "PATCH"):
                self._send(200, _envelope())
            elif state.hub_modules and path.startswith(f"{base}/emsp/{VERSION}/tariffs/"):
                self._send(201 if method == "PUT" else 200, _envelope())
            elif state.hub_modules and path.startswith(f"{base}/{VERSION}/hubclientinfo/"):
                self._send(200, _envelope())
            else:
                self._send(404, _envelope(status_code=2000))

        def _credentials(self, method: str, body: Any) -> None:
            # PlugPool registers (POST) or rotates (PUT): call it back with its new token.
            if method == "DELETE":
                state.token_to_plugpool = None
                state.tokens_accepted = set()
                self._send(200, _envelope())
                return
            if method not in ("POST", "PUT"):
                self._send(405, _envelope(status_code=2000))
                return
            encoded = base64.b64encode(body["token"].encode()).decode()
            reply = requests.get(
                body["url"], headers={"Authorization": f"Token {encoded}"}, timeout=10
            )
            if reply.status_code != 200:
                self._send(200, _envelope(status_code=3001))
                return
            state.token_to_plugpool = body["token"]
            state.plugpool_versions = body["url"]
            token_c = f"peer-c-{uuid.uuid4().hex}"
            state.tokens_accepted = {t for t in state.tokens_accepted if t.startswith("peer-b-")}
            state.tokens_accepted.add(token_c)
            creds = {
                "token": token_c,
                "url": f"{state.base}/versions",
                "roles": [
                    {
                        "role": "EMSP",
                        "party_id": PARTY_ID,
                        "country_code": COUNTRY_CODE,
                        "business_details": {"name": "Test eMSP"},
                    }
                ],
            }
            self._send(200, _envelope(creds))

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PUT(self) -> None:
            self._handle("PUT")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

        def do_DELETE(self) -> None:
            self._handle("DELETE")

    return Handler


def _details(base: str, credentials_only: bool = False, hub: bool = False) -> dict[str, Any]:
    if credentials_only:
        url = f"{base}/{VERSION}/credentials"
        return {
            "version": VERSION,
            "endpoints": [{"identifier": "credentials", "role": "SENDER", "url": url}],
        }
    return {
        "version": VERSION,
        "endpoints": [
            {"identifier": "credentials", "role": role, "url": f"{base}/{VERSION}/credentials"}
            for role in ("SENDER", "RECEIVER")
        ]
        + [
            {"identifier": "tokens", "role": "SENDER", "url": f"{base}/emsp/{VERSION}/tokens"},
            {
                "identifier": "locations",
                "role": "RECEIVER",
                "url": f"{base}/emsp/{VERSION}/locations",
            },
            {
                "identifier": "sessions",
                "role": "RECEIVER",
                "url": f"{base}/emsp/{VERSION}/sessions",
            },
            {"identifier": "cdrs", "role": "RECEIVER", "url": f"{base}/emsp/{VERSION}/cdrs"},
        ]
        + (_hub_endpoints(base) if hub else []),
    }


def _hub_endpoints(base: str) -> list[dict[str, str]]:
    """What a party on a hub adds: tariffs and the hub's ClientInfo pushes."""
    return [
        {"identifier": "tariffs", "role": "RECEIVER", "url": f"{base}/emsp/{VERSION}/tariffs"},
        {
            "identifier": "hubclientinfo",
            "role": "RECEIVER",
            "url": f"{base}/{VERSION}/hubclientinfo",
        },
    ]
