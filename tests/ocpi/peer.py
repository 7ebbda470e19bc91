"""A small eMSP OCPI peer on a real port: versions, credentials, authorize, locations receiver.

It is the far side of the network edge in tests: just enough OCPI to register in both directions,
answer real-time authorisation and record the pushes it receives. Like the pydantic- and
Jackson-based peers PlugPool meets, it writes every unset optional field of the objects it sends
as an explicit `null` (turn off with `EmspPeer(nulls=False)`).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import requests

VERSION = "2.2.1"
COUNTRY_CODE, PARTY_ID = "DE", "EMS"


class Required(dict):
    """A required object (or list of objects) whose own optional fields a model writes as null."""


# The optional fields of the objects the peer sends, as its models know them (OCPI 2.2.1 and
# 2.3.0 object tables): None is an optional value, a dict an optional object with its own.
TOKEN = {
    "visual_number": None,
    "group_id": None,
    "language": None,
    "default_profile_type": None,
    "energy_contract": {"contract_id": None},
}
CREDENTIALS = {"roles": Required({"business_details": Required({"website": None, "logo": None})})}
AUTHORIZATION_INFO = {
    "token": Required(TOKEN),
    "location": {"evse_uids": None},
    "authorization_reference": None,
    "info": None,
}
COMMANDS = {
    "START_SESSION": {
        "token": Required(TOKEN),
        "evse_uid": None,
        "connector_id": None,
        "authorization_reference": None,
    },
    "RESERVE_NOW": {"token": Required(TOKEN), "evse_uid": None, "authorization_reference": None},
}
CHARGING_PROFILE = {
    "charging_profile": Required(
        {"start_date_time": None, "duration": None, "min_charging_rate": None}
    )
}
TIMESLOT = {"min_power": None, "max_power": None, "green_energy_support": None}
BOOKING_REQUEST = {
    "booking_option": None,
    "bookable_parking_option": None,
    "evse_uid": None,
    "connector_id": None,
    "tokens": None,
    "period": Required(TIMESLOT),
    "power_required": None,
    "canceled": None,
}


def with_nulls(document: Any, shape: dict[str, Any]) -> Any:
    """The document as a model-based peer writes it: each unset optional field as null."""
    if isinstance(document, list):
        return [with_nulls(item, shape) for item in document]
    if not isinstance(document, dict):
        return document
    filled = dict(document)
    for key, inner in shape.items():
        value = filled.get(key)
        if value is None:
            if not isinstance(inner, Required):
                filled[key] = None
        elif isinstance(inner, dict):
            filled[key] = with_nulls(value, inner)
    return filled


def shape_of(method: str, path: str) -> dict[str, Any] | None:
    """Which object a request to PlugPool carries, by its URL."""
    if path.endswith("/credentials") and method in ("POST", "PUT"):
        return CREDENTIALS
    if "/tokens/" in path and method in ("PUT", "PATCH"):
        return TOKEN
    if "/commands/" in path and method == "POST":
        return COMMANDS.get(path.rsplit("/", 1)[1], {})
    if "/chargingprofiles/" in path and method == "PUT":
        return CHARGING_PROFILE
    if path.endswith("/bookings") and method == "POST":
        return BOOKING_REQUEST
    return None


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
    delay: float = 0.0  # seconds each request takes (a slow partner)
    credentials_only: bool = False  # publish no functional module (for 3003)
    hub_modules: bool = False  # also a hubclientinfo receiver (a party on a hub)
    nulls: bool = True  # write unset optional fields as null, as model-based peers do
    trailing_slash: bool = False  # publish module URLs ending in "/", served only so (no redirect)
    strict_locations: bool = False  # an EVSE PATCH of a Location not PUT before: 404, 2003
    locations_held: set[str] = field(default_factory=set)  # "cc/party/id" of Locations PUT
    # Acting as a HUB: its role in the credentials, its ClientInfo list (hubclientinfo Sender),
    # and extra top-level credentials fields as hubs send them.
    hub_role: bool = False
    client_infos: list[dict[str, Any]] = field(default_factory=list)
    extra_credentials: dict[str, Any] = field(default_factory=dict)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _envelope(data: Any = None, status_code: int = 1000) -> dict[str, Any]:
    body = {"status_code": status_code, "timestamp": _now()}
    if data is not None:
        body["data"] = data
    return body


class EmspPeer:
    """Start with `with EmspPeer() as peer:`; peer.url is its /ocpi/versions."""

    def __init__(
        self, nulls: bool = True, trailing_slash: bool = False, strict_locations: bool = False
    ) -> None:
        self.state = PeerState(
            nulls=nulls, trailing_slash=trailing_slash, strict_locations=strict_locations
        )
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
            **self.state.extra_credentials,
            "token": token,
            "url": self.versions_url,
            "roles": [
                {
                    "role": "HUB" if self.state.hub_role else "EMSP",
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
        shape = shape_of(method, urlsplit(url).path)
        if self.state.nulls and shape is not None and "json" in kwargs:
            kwargs["json"] = with_nulls(kwargs["json"], shape)
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
            time.sleep(state.delay)
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
                self._send(200, _envelope(version_details(state, state.credentials_only)))
            elif path == f"{base}/{VERSION}/credentials":
                self._credentials(method, body)
            elif path == f"{base}/{VERSION}/hubclientinfo" and state.hub_role and method == "GET":
                self._send(200, _envelope(state.client_infos))
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
                self._send(200, _envelope(self._as_sent(info, AUTHORIZATION_INFO)))
            elif path.startswith(f"{base}/emsp/{VERSION}/commands/") and method == "POST":
                self._send(200, _envelope())
            elif path.startswith(f"{base}/emsp/{VERSION}/locations/"):
                self._location(method, path.split("/locations/", 1)[1].split("/"))
            elif path.startswith(f"{base}/emsp/{VERSION}/tariffs/") and method in ("PUT", "DELETE"):
                self._send(201 if method == "PUT" else 200, _envelope())
            elif path.startswith(f"{base}/emsp/{VERSION}/sessions/") and method in ("PUT", "PATCH"):
                self._send(200, _envelope())
            elif path == f"{base}/emsp/{VERSION}/{_module('cdrs', state)}" and method == "POST":
                self._send(201, _envelope())
            elif self._accepted_put(base, path, method):
                self._send(200, _envelope())
            else:
                self._send(404, _envelope(status_code=2000))

        def _accepted_put(self, base: str, path: str, method: str) -> bool:
            """Bookings (2.3.0), and the hub's ClientInfo pushes when on a hub."""
            if path.startswith(f"{base}/emsp/2.3.0/bookings/"):
                return method in ("PUT", "PATCH")
            hub = f"{base}/{VERSION}/hubclientinfo/"
            return state.hub_modules and path.startswith(hub) and method == "PUT"

        def _location(self, method: str, ids: list[str]) -> None:
            key = "/".join(ids[:3])
            if method == "PUT" and len(ids) == 3:
                state.locations_held.add(key)
            elif state.strict_locations and key not in state.locations_held:
                self._send(404, _envelope(status_code=2003))
                return
            self._send(200 if method == "PATCH" else 201, _envelope())

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
            self._send(200, _envelope(self._as_sent(creds, CREDENTIALS)))

        def _as_sent(self, document: Any, shape: dict[str, Any]) -> Any:
            return with_nulls(document, shape) if state.nulls else document

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


def _module(name: str, state: PeerState) -> str:
    """A module's path segment as the peer publishes and serves it."""
    return f"{name}/" if state.trailing_slash else name


def version_details(state: PeerState, credentials_only: bool = False) -> dict[str, Any]:
    base = state.base
    if credentials_only:
        url = f"{base}/{VERSION}/credentials"
        return {
            "version": VERSION,
            "endpoints": [{"identifier": "credentials", "role": "SENDER", "url": url}],
        }
    modules = (
        ("tokens", "SENDER"),
        ("locations", "RECEIVER"),
        ("tariffs", "RECEIVER"),
        ("sessions", "RECEIVER"),
        ("cdrs", "RECEIVER"),
    )
    hub = [
        {
            "identifier": "hubclientinfo",
            "role": "RECEIVER",
            "url": f"{base}/{VERSION}/hubclientinfo",
        }
    ]
    return {
        "version": VERSION,
        "endpoints": [
            {"identifier": "credentials", "role": role, "url": f"{base}/{VERSION}/credentials"}
            for role in ("SENDER", "RECEIVER")
        ]
        + [
            {
                "identifier": name,
                "role": role,
                "url": f"{base}/emsp/{VERSION}/{_module(name, state)}",
            }
            for name, role in modules
        ]
        + (hub if state.hub_modules else [])
        + ([{**hub[0], "role": "SENDER"}] if state.hub_role else []),
    }
