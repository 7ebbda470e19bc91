"""The Hubject stand-in: OICP 2.3 over HTTPS with mutual TLS, at the network edge of the tests.

It checks every message PlugPool sends against PlugPool's OICP schemas (a message that does
not validate is answered Result false / 022 and kept in `errors`), keeps what was pushed, serves
its own EVSE world for pulls, and drives PlugPool like Hubject does (`/_standin/drive` posts a
message to PlugPool with Hubject's client certificate and times the answer).
"""

from __future__ import annotations

import re
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import requests
from marshmallow import Schema, ValidationError

from app.oicp import mapping
from app.oicp.schemas import charging, evse, loading, pricing
from app.oicp.schemas.charging import notification_schema
from tests.support.hubject_standin import dataset


class World:
    """Everything the stand-in holds; one lock, since handlers run in threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.evse_data: dict[str, dict[str, Any]] = {}
        self.evse_status: dict[str, str] = {}
        self.pushes: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.cdrs: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []
        self.pricing_products: list[dict[str, Any]] = []
        self.evse_pricing: list[dict[str, Any]] = []
        self.authorizations: list[dict[str, Any]] = []
        self.cards: dict[str, str] = {}  # card UID -> ProviderID of the EMP that knows it
        self.remote: list[dict[str, Any]] = []  # PlugPool (EMP) remote start / stop requests
        self.auth_data: list[dict[str, Any]] = []
        self.size = 0  # EVSEs in the stand-in's own world
        self.changes: dict[int, tuple[str, datetime]] = {}
        self.emp_cdrs: list[dict[str, Any]] = []
        self.broken: set[int] = set()  # EVSEs served with a record no schema accepts
        self.plugpool_base = ""
        self.client_cert: tuple[str, str] | None = None
        self.ca = ""

    def summary(self, brief: bool = False) -> dict[str, Any]:
        """What the tests read (counts only when brief)."""
        with self.lock:
            if brief:
                return {
                    "evse_data": len(self.evse_data),
                    "evse_status": len(self.evse_status),
                    "pushes": self.pushes,
                    "errors": self.errors[:5],
                }
            return {
                "evse_data": self.evse_data,
                "evse_status": self.evse_status,
                "pushes": self.pushes,
                "errors": self.errors,
                "cdrs": self.cdrs,
                "notifications": self.notifications,
                "pricing_products": self.pricing_products,
                "evse_pricing": self.evse_pricing,
                "authorizations": self.authorizations,
                "remote": self.remote,
                "auth_data": self.auth_data,
            }


def ack(result: bool = True, code: str = "000", **extra: Any) -> dict[str, Any]:
    """An eRoamingAcknowledgement."""
    return {"Result": result, "StatusCode": {"Code": code}, **extra}


class Handler(BaseHTTPRequestHandler):
    """Routes by path; every OICP answer is HTTP 200 with a JSON body."""

    world: World
    protocol_version = "HTTP/1.1"

    def log_message(self, *_: Any) -> None:  # quiet: tests read the world instead
        return

    def _send(self, body: Any, status: int = 200) -> None:
        data = orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)  # error messages by index
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return orjson.loads(self.rfile.read(length) or b"null")

    def do_GET(self) -> None:
        if self.path.startswith("/_standin/state"):
            self._send(self.world.summary(brief="brief" in self.path))
        else:
            self._send({"error": "not found"}, 404)

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        body = self._body()
        for pattern, handler in ROUTES:
            found = re.fullmatch(pattern, parts.path.rstrip("/"))
            if found:
                self._send(handler(self.world, body, query, *found.groups()))
                return
        self._send({"error": "not found"}, 404)


def _checked(
    world: World, path: str, schema: Schema, body: Any
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(data, None) when the body validates, else (None, a refusing acknowledgement)."""
    try:
        # PlugPool's schemas through their compiled fast path (marshmallow words any error).
        return loading.load(type(schema), body), None
    except ValidationError as error:
        with world.lock:
            world.errors.append({"path": path, "messages": error.messages})
        return None, ack(False, "022", StatusCode={"Code": "022", "AdditionalInfo": str(error)})


# Hubject's side for CPOs (PlugPool pushes)


def push_data(world: World, body: Any, _q: dict[str, str], operator: str) -> dict[str, Any]:
    data, refused = _checked(world, "evse data", evse.PushEvseData(), body)
    if refused:
        return refused
    block = data["OperatorEvseData"]
    records = block["EvseDataRecord"]
    foreign = [r["EvseID"] for r in records if not mapping.evse_belongs(r["EvseID"], operator)]
    if mapping.compact(block["OperatorID"]) != mapping.compact(operator) or foreign:
        with world.lock:
            world.errors.append({"path": "evse data", "messages": {"EvseID": foreign}})
        return ack(False, "018")
    raw = body["OperatorEvseData"]["EvseDataRecord"]
    keep_whole = len(records) <= 100  # a benchmark's 10,000-record batches keep only the ids
    with world.lock:
        if data["ActionType"] == "fullLoad":
            world.evse_data.clear()
        for record, original in zip(records, raw, strict=True):
            if data["ActionType"] == "delete":
                world.evse_data.pop(record["EvseID"], None)
            else:
                world.evse_data[record["EvseID"]] = original if keep_whole else {}
        world.pushes.append({"kind": "data", "action": data["ActionType"], "count": len(records)})
    return ack()


def push_status(world: World, body: Any, _q: dict[str, str], operator: str) -> dict[str, Any]:
    data, refused = _checked(world, "evse status", evse.PushEvseStatus(), body)
    if refused:
        return refused
    records = data["OperatorEvseStatus"]["EvseStatusRecord"]
    if any(not mapping.evse_belongs(r["EvseID"], operator) for r in records):
        return ack(False, "018")
    with world.lock:
        if data["ActionType"] == "fullLoad":
            world.evse_status.clear()
        for record in records:
            world.evse_status[record["EvseID"]] = record["EvseStatus"]
        world.pushes.append({"kind": "status", "action": data["ActionType"], "count": len(records)})
    return ack()


def authorize_start(world: World, body: Any, _q: dict[str, str], operator: str) -> dict[str, Any]:
    data, refused = _checked(world, "authorize start", charging.AuthorizeStart(), body)
    if refused:
        return {"AuthorizationStatus": "NotAuthorized", "StatusCode": {"Code": "022"}}
    uid, _kind = mapping.identification_token(data["Identification"])
    with world.lock:
        world.authorizations.append(body)
        provider = world.cards.get(uid)
    if provider is None:
        return {"AuthorizationStatus": "NotAuthorized", "StatusCode": {"Code": "102"}}
    return {
        "SessionID": str(uuid.uuid4()),
        "CPOPartnerSessionID": data.get("CPOPartnerSessionID"),
        "ProviderID": provider,
        "AuthorizationStatus": "Authorized",
        "StatusCode": {"Code": "000"},
    }


def cdr(world: World, body: Any, _q: dict[str, str], operator: str) -> dict[str, Any]:
    data, refused = _checked(world, "cdr", charging.ChargeDetailRecord(), body)
    if refused:
        return refused
    if not mapping.evse_belongs(data["EvseID"], operator):
        return ack(False, "018")
    with world.lock:
        world.cdrs.append(body)
    return ack(SessionID=data["SessionID"])


def notification(world: World, body: Any, _q: dict[str, str]) -> dict[str, Any]:
    try:
        schema = notification_schema(body)
    except ValidationError:
        return ack(False, "022")
    data, refused = _checked(world, "notification", schema, body)
    if refused:
        return refused
    with world.lock:
        world.notifications.append(body)
    return ack(SessionID=data["SessionID"])


def pricing_products(world: World, body: Any, _q: dict[str, str], _op: str) -> dict[str, Any]:
    data, refused = _checked(world, "pricing products", pricing.PushPricingProductData(), body)
    if refused:
        return refused
    with world.lock:
        world.pricing_products = data["PricingProductData"]["PricingProductDataRecords"] and [
            body["PricingProductData"]
        ]
    return ack()


def evse_pricing(world: World, body: Any, _q: dict[str, str], operator: str) -> dict[str, Any]:
    data, refused = _checked(world, "evse pricing", pricing.PushEvsePricing(), body)
    if refused:
        return refused
    if any(not mapping.evse_belongs(p["EvseID"], operator) for p in data["EVSEPricing"]):
        return ack(False, "018")
    with world.lock:
        if data["ActionType"] == "fullLoad":
            world.evse_pricing = []
        world.evse_pricing += body["EVSEPricing"]
    return ack()


# Hubject's side for EMPs (PlugPool pulls and commands)


def pull_data(world: World, body: Any, query: dict[str, str], provider: str) -> dict[str, Any]:
    data, refused = _checked(world, "pull evse data", evse.PullEvseData(), body)
    if refused:
        return {**_page([], 0, 0, 0), "StatusCode": {"Code": "022"}}
    page, size = int(query.get("page", 0)), min(int(query.get("size", 20)), 2000)
    if data.get("LastCall"):
        with world.lock:
            changed = sorted(i for i, (_, at) in world.changes.items() if at > data["LastCall"])
            items = [dataset.record(i, *world.changes[i]) for i in changed]
        chosen = items[page * size : (page + 1) * size]
        return _page(chosen, page, size, len(items))
    total = world.size
    indices = range(page * size, min((page + 1) * size, total))
    return _page([_served(world, i) for i in indices], page, size, total)


def _served(world: World, index: int) -> dict[str, Any]:
    record = dataset.record(index)
    if index in world.broken:
        record["Plugs"] = []  # at least one plug is required
    return record


def _page(content: list[dict[str, Any]], page: int, size: int, total: int) -> dict[str, Any]:
    pages = max((total + size - 1) // size, 1) if size else 1
    return {
        "content": content,
        "number": page,
        "size": size,
        "totalElements": total,
        "last": page >= pages - 1,
        "totalPages": pages,
        "first": page == 0,
        "numberOfElements": len(content),
        "StatusCode": {"Code": "000"},
    }


def pull_status(world: World, body: Any, _q: dict[str, str], provider: str) -> dict[str, Any]:
    _data, refused = _checked(world, "pull evse status", evse.PullEvseStatus(), body)
    if refused:
        return {"EvseStatuses": {"OperatorEvseStatus": []}, "StatusCode": {"Code": "022"}}
    blocks: dict[str, list[dict[str, str]]] = {}
    for index in range(world.size):
        blocks.setdefault(dataset.operator_of(index)[0], []).append(
            {"EvseID": dataset.evse_id(index), "EvseStatus": dataset.status(index)}
        )
    return {
        "EvseStatuses": {
            "OperatorEvseStatus": [
                {"OperatorID": op, "EvseStatusRecord": records} for op, records in blocks.items()
            ]
        },
        "StatusCode": {"Code": "000"},
    }


def pull_products(world: World, body: Any, _q: dict[str, str], provider: str) -> dict[str, Any]:
    _data, refused = _checked(world, "pull products", pricing.PullPricingProductData(), body)
    if refused:
        return {"PricingProductData": [], "StatusCode": {"Code": "022"}}
    # Offered to all, answered with the asking provider (the EMP answer cannot say "*").
    products = [{**p, "ProviderID": provider} for p in dataset.pricing_products()]
    return {"PricingProductData": products, "StatusCode": {"Code": "000"}}


def pull_evse_pricing(world: World, body: Any, _q: dict[str, str], provider: str) -> dict[str, Any]:
    _data, refused = _checked(world, "pull evse pricing", pricing.PullEvsePricing(), body)
    if refused:
        return {"OperatorEVSEPricing": [], "StatusCode": {"Code": "022"}}
    blocks: dict[str, list[dict[str, Any]]] = {}
    for index in range(min(world.size, 5000)):
        blocks.setdefault(dataset.operator_of(index)[0], []).append(
            {
                "EvseID": dataset.evse_id(index),
                "ProviderID": provider,
                "EvseIDProductList": [{"ProductID": dataset.PRODUCT}],
            }
        )
    return {
        "OperatorEVSEPricing": [{"OperatorID": op, "EVSEPricing": p} for op, p in blocks.items()],
        "StatusCode": {"Code": "000"},
    }


def remote_start(world: World, body: Any, _q: dict[str, str], provider: str) -> dict[str, Any]:
    data, refused = _checked(world, "remote start", charging.AuthorizeRemoteStart(), body)
    if refused:
        return refused
    session_id = str(uuid.uuid4())
    with world.lock:
        world.remote.append({"kind": "start", "SessionID": session_id, **body})
    return ack(SessionID=session_id, EMPPartnerSessionID=data.get("EMPPartnerSessionID"))


def remote_stop(world: World, body: Any, _q: dict[str, str], provider: str) -> dict[str, Any]:
    data, refused = _checked(world, "remote stop", charging.AuthorizeRemoteStop(), body)
    if refused:
        return refused
    with world.lock:
        known = any(r["SessionID"] == data["SessionID"] for r in world.remote)
        world.remote.append({"kind": "stop", **body})
    return ack(SessionID=data["SessionID"]) if known else ack(False, "400")


def get_cdrs(world: World, body: Any, query: dict[str, str], provider: str) -> dict[str, Any]:
    _data, refused = _checked(world, "get cdrs", charging.GetChargeDetailRecords(), body)
    if refused:
        return {**_page([], 0, 0, 0), "StatusCode": {"Code": "022"}}
    page, size = int(query.get("page", 0)), min(int(query.get("size", 20)), 2000)
    with world.lock:
        items = list(world.emp_cdrs)
    return {**_page(items[page * size : (page + 1) * size], page, size, len(items)), "pageable": {}}


def auth_data(world: World, body: Any, _q: dict[str, str], provider: str) -> dict[str, Any]:
    _data, refused = _checked(world, "auth data", charging.PushAuthenticationData(), body)
    if refused:
        return refused
    with world.lock:
        world.auth_data.append(body)
    return ack()


# Control from the tests


def configure(world: World, body: Any, _q: dict[str, str]) -> dict[str, Any]:
    with world.lock:
        world.cards.update(body.get("cards", {}))
        world.size = int(body.get("size", world.size))
        world.plugpool_base = body.get("plugpool_base", world.plugpool_base)
        for index in body.get("change", []):
            world.changes[int(index)] = (body.get("delta", "update"), datetime.now(UTC))
        world.emp_cdrs += body.get("emp_cdrs", [])
        world.broken.update(int(index) for index in body.get("broken", []))
    return {"ok": True}


def drive(world: World, body: Any, _q: dict[str, str]) -> dict[str, Any]:
    """POST a message to PlugPool as Hubject (client certificate) and time the answer."""
    started = time.perf_counter()
    try:
        reply = requests.post(
            world.plugpool_base + body["path"],
            data=orjson.dumps(body["body"]),
            headers={"Content-Type": "application/json"},
            cert=world.client_cert,
            verify=world.ca,
            timeout=15,
        )
    except requests.RequestException as error:
        return {"error": f"{type(error).__name__}: {error}"}
    elapsed = (time.perf_counter() - started) * 1000
    return {"status": reply.status_code, "body": reply.json(), "elapsed_ms": elapsed}


OPERATOR = r"([^/]+)"
ROUTES: list[tuple[str, Callable[..., dict[str, Any]]]] = [
    (rf"/api/oicp/evsepush/v23/operators/{OPERATOR}/data-records", push_data),
    (rf"/api/oicp/evsepush/v21/operators/{OPERATOR}/status-records", push_status),
    (rf"/api/oicp/charging/v21/operators/{OPERATOR}/authorize/start", authorize_start),
    (rf"/api/oicp/cdrmgmt/v22/operators/{OPERATOR}/charge-detail-record", cdr),
    (r"/api/oicp/notificationmgmt/v11/charging-notifications", notification),
    (rf"/api/oicp/dynamicpricing/v10/operators/{OPERATOR}/pricing-products", pricing_products),
    (rf"/api/oicp/dynamicpricing/v10/operators/{OPERATOR}/evse-pricing", evse_pricing),
    (rf"/api/oicp/evsepull/v23/providers/{OPERATOR}/data-records", pull_data),
    (rf"/api/oicp/evsepull/v21/providers/{OPERATOR}/status-records", pull_status),
    (rf"/api/oicp/dynamicpricing/v10/providers/{OPERATOR}/pricing-products", pull_products),
    (rf"/api/oicp/dynamicpricing/v10/providers/{OPERATOR}/evse-pricing", pull_evse_pricing),
    (rf"/api/oicp/charging/v21/providers/{OPERATOR}/authorize-remote/start", remote_start),
    (rf"/api/oicp/charging/v21/providers/{OPERATOR}/authorize-remote/stop", remote_stop),
    (rf"/api/oicp/cdrmgmt/v22/providers/{OPERATOR}/get-charge-detail-records-request", get_cdrs),
    (rf"/api/oicp/authdata/v21/providers/{OPERATOR}/push-request", auth_data),
    (r"/_standin/configure", configure),
    (r"/_standin/drive", drive),
]


def make_server(
    port: int, cert: str, key: str, ca: str, client: tuple[str, str]
) -> ThreadingHTTPServer:
    """The stand-in on 127.0.0.1:port, HTTPS that requires a client certificate from `ca`."""
    world = World()
    world.client_cert, world.ca = client, ca
    handler = type("BoundHandler", (Handler,), {"world": world})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.load_verify_locations(ca)
    context.verify_mode = ssl.CERT_REQUIRED
    server.socket = context.wrap_socket(server.socket, server_side=True)
    return server
