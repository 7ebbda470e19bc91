"""Routing: forward a party's request to the party named in its OCPI-to headers, and back.

The forwarded request gets a new X-Request-ID, keeps the X-Correlation-ID and the from/to
headers, and carries the body as it came, except that a `response_url` (commands, charging
profiles) is swapped for a hub URL that forwards the result to the sender, and that objects
cross the version bridge when the two parties speak different versions. `Link` and `Location`
headers in the answer are swapped for hub URLs. Hub failures answer 4001-4004, a routing rule
4000; in every such case nothing reaches the receiver.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app

from app.core.db import json_dumps, json_loads
from app.extensions import db
from app.ocpi import errors
from app.ocpi.client import OcpiClient, RelayedReply
from app.ocpi.hub import bridge, messages, queries, status, table
from app.ocpi.hub.identity import hub_base_url, hub_party
from app.ocpi.hub.models import HubProxy
from app.ocpi.hub.table import Member
from app.ocpi.models import OcpiPartner

RESPONSE_URL_MODULES = frozenset({"commands", "chargingprofiles"})
STATUS_CODE = re.compile(rb'"status_code"\s*:\s*(-?\d+)\s*[,}]')
PASSED_HEADERS = ("X-Total-Count", "X-Limit")


@dataclass
class HubRequest:
    """A request that arrived at a hub URL."""

    sender_id: int
    version: str
    interface: str  # the interface of the module the sender called: SENDER or RECEIVER
    module: str
    path: str  # what follows the module's URL, e.g. "/NL/PLG/LOC1"
    method: str
    args: list[tuple[str, str]]
    body: bytes
    headers: Mapping[str, str]
    started: float = field(default_factory=time.perf_counter)

    @property
    def sender(self) -> OcpiPartner:
        """The sender's row, loaded only when needed (routing reads the table)."""
        partner = db.session.get(OcpiPartner, self.sender_id)
        assert partner is not None  # authenticated in this request
        return partner

    def party(self, side: str) -> tuple[str, str] | None:
        """The OCPI-from or OCPI-to party of the request, upper case; None when absent."""
        country = self.headers.get(f"OCPI-{side}-country-code")
        party = self.headers.get(f"OCPI-{side}-party-id")
        return (country.upper(), party.upper()) if country and party else None

    @property
    def request_id(self) -> str:
        return self.headers.get("X-Request-ID") or ""

    @property
    def correlation_id(self) -> str:
        return self.headers.get("X-Correlation-ID") or self.request_id or str(uuid.uuid4())


@dataclass
class HubReply:
    """What goes back to the sender."""

    http_status: int
    body: bytes
    headers: dict[str, str]


def route(request: HubRequest) -> HubReply | Response:
    """Forward, broadcast or aggregate, by the request's OCPI-to headers."""
    from app.ocpi.hub import broadcast, getall

    routes = table.table()
    sender = routes.members.get(request.sender_id)
    if sender is None:  # registered since the table was built here
        table.forget()
        routes = table.table()
        sender = routes.members[request.sender_id]
    sender_party = _sender_party(request, sender)
    status.seen(request.sender_id, sender.status)
    if sender.suspended:
        _refuse(request, sender_party, None, errors.RoutingRefused("Sender is suspended"))
    to = request.party("to")
    if to is None or to == hub_party():
        if request.method == "GET":
            return getall.get_all(request, sender_party, sender, routes)
        return broadcast.broadcast(request, sender_party, sender, routes)
    receiver = _receiver(request, sender_party, to, sender, routes)
    url = receiver.endpoint(request.module, request.interface)
    if url is None:
        _refuse(request, sender_party, receiver, errors.ModuleNotOffered(), to)
    return forward(request, sender_party, receiver, to, f"{url.rstrip('/')}{request.path}")


def _sender_party(request: HubRequest, sender: Member) -> tuple[str, str]:
    """The OCPI-from party, which the sender must hold (its first party when absent)."""
    sender_party = request.party("from")
    own = sender.parties
    if sender_party is None and own:
        return own[0]
    if sender_party is None or sender_party not in own:
        raise errors.InvalidParameters("OCPI-from-* headers must name one of your parties")
    return sender_party


def _receiver(
    request: HubRequest,
    sender_party: tuple[str, str],
    to: tuple[str, str],
    sender: Member,
    routes: table.Table,
) -> Member:
    receiver = routes.holder(to)
    if receiver is None:
        return _refuse(request, sender_party, None, errors.UnknownReceiver(), to)
    if not table.pair_allowed(sender, receiver):
        _refuse(request, sender_party, receiver, errors.RoutingRefused(), to)
    if not receiver.connected:
        refusal = errors.ReceiverUnreachable(f"Hub: receiving party is {receiver.status}")
        _refuse(request, sender_party, receiver, refusal, to)
    return receiver


def _refuse(
    request: HubRequest,
    sender_party: tuple[str, str],
    receiver: Member | None,
    error: errors.OcpiError,
    to: tuple[str, str] | None = None,
) -> Any:
    """Log the refusal and raise it (answered as an OCPI envelope)."""
    _log(request, sender_party, receiver, to, None, error.status_code, error.http_status)
    db.session.commit()
    raise error


def forward(
    request: HubRequest,
    sender_party: tuple[str, str],
    receiver: Member,
    to: tuple[str, str],
    url: str,
) -> HubReply:
    """Send the request to the receiver's URL and return its answer, rewritten for the sender."""
    body, args = _outgoing(request, receiver)
    forwarded_id = str(uuid.uuid4())
    headers = _headers(request, forwarded_id, sender_party, to)
    try:
        reply = _client(receiver).relay(request.method, url, body, headers, args)
    except errors.PartnerTimeout:
        error: errors.OcpiError = errors.ReceiverTimeout()
        _log(request, sender_party, receiver, to, forwarded_id, error.status_code, None)
        db.session.commit()
        raise error from None
    except errors.PartnerCallFailed:
        partner = db.session.get(OcpiPartner, receiver.id)
        if partner is not None:
            status.offline(partner)
        error = errors.ReceiverUnreachable()
        _log(request, sender_party, receiver, to, forwarded_id, error.status_code, None)
        db.session.commit()
        raise error from None
    answer = _answer(request, receiver, reply, sender_party, to)
    code = _status_code(reply.body)
    _log(request, sender_party, receiver, to, forwarded_id, code, reply.http_status)
    _commit()
    return answer


def _commit() -> None:
    """Commit what the request wrote (hub URLs handed out: durably, a party relies on them); a
    request that began no transaction (the usual forward) has nothing to commit."""
    session = db.session()
    if session.in_transaction() or session.new:
        session.commit()


def _client(receiver: Member) -> OcpiClient:
    timeout = current_app.config["HUB_FORWARD_TIMEOUT"]
    return OcpiClient(receiver.token_out, raw_token=receiver.raw_tokens, timeout=timeout)


def _headers(
    request: HubRequest, forwarded_id: str, sender_party: tuple[str, str], to: tuple[str, str]
) -> dict[str, str]:
    return {
        "X-Request-ID": forwarded_id,
        "X-Correlation-ID": request.correlation_id,
        "OCPI-from-country-code": sender_party[0],
        "OCPI-from-party-id": sender_party[1],
        "OCPI-to-country-code": to[0],
        "OCPI-to-party-id": to[1],
    }


def _outgoing(request: HubRequest, receiver: Member) -> tuple[bytes | None, list[tuple[str, str]]]:
    """The body and query to send: untouched unless a response_url or the version changes."""
    args = list(request.args)
    body: bytes | None = request.body or None
    rewrites = request.module in RESPONSE_URL_MODULES and request.interface == "RECEIVER"
    if rewrites:
        args = [
            (key, _callback_url(request, receiver, value) if key == "response_url" else value)
            for key, value in args
        ]
    converts = receiver.version != request.version
    if body is None or not (rewrites or converts):
        return body, args
    data = _json(body)
    if data is None:
        return body, args
    if rewrites and isinstance(data, dict) and isinstance(data.get("response_url"), str):
        data["response_url"] = _callback_url(request, receiver, data["response_url"])
    if converts:
        data = bridge.convert(data, request.version, receiver.version or request.version)
    return json_dumps(data).encode(), args


def _callback_url(request: HubRequest, receiver: Member, original: str) -> str:
    """A hub URL the receiver posts the result to; the hub forwards it to `original`."""
    proxy = _proxy(request, "callback", receiver.id, request.sender_id, original)
    return f"{hub_base_url()}/{receiver.version}/callback/{proxy.id}"


def _proxy(request: HubRequest, kind: str, owner_id: int, target_id: int, url: str) -> HubProxy:
    proxy = HubProxy(
        id=uuid.uuid4().hex,
        kind=kind,
        module=request.module,
        owner_partner_id=owner_id,
        target_partner_id=target_id,
        url=url,
    )
    db.session.add(proxy)
    return proxy


def _answer(
    request: HubRequest,
    receiver: Member,
    reply: RelayedReply,
    sender_party: tuple[str, str],
    to: tuple[str, str],
) -> HubReply:
    """The receiver's answer for the sender: its body (bridged if need be) and headers."""
    body = reply.body
    if receiver.version != request.version:
        envelope = _json(body)
        if isinstance(envelope, dict) and "data" in envelope:
            envelope["data"] = bridge.convert(
                envelope["data"], receiver.version or request.version, request.version
            )
            body = json_dumps(envelope).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Request-ID": request.request_id or str(uuid.uuid4()),
        "X-Correlation-ID": request.correlation_id,
        "OCPI-from-country-code": to[0],
        "OCPI-from-party-id": to[1],
        "OCPI-to-country-code": sender_party[0],
        "OCPI-to-party-id": sender_party[1],
    }
    lowered = {key.lower(): value for key, value in reply.headers.items()}
    headers.update(
        {name: lowered[name.lower()] for name in PASSED_HEADERS if name.lower() in lowered}
    )
    if "link" in lowered:
        headers["Link"] = _proxied_link(request, receiver, lowered["link"])
    if "location" in lowered:
        headers["Location"] = _page_url(request, receiver, lowered["location"])
    return HubReply(reply.http_status, body, headers)


def _proxied_link(request: HubRequest, receiver: Member, link: str) -> str:
    """`<party URL>; rel="next"` -> `<hub URL>; rel="next"`."""
    target, _, rest = link.strip().partition(">")
    return f"<{_page_url(request, receiver, target.lstrip('<'))}>{rest}"


def _page_url(request: HubRequest, receiver: Member, url: str) -> str:
    proxy = _proxy(request, "page", request.sender_id, receiver.id, url)
    return f"{hub_base_url()}/{request.version}/page/{proxy.id}"


def _json(body: bytes) -> Any:
    try:
        return json_loads(body)
    except ValueError:
        return None


def _status_code(body: bytes) -> int | None:
    """The envelope's status_code, for the log; a body with one `"status_code"` is not parsed
    (a page of objects can be megabytes), only one with several (a nested one) is."""
    if body.count(b'"status_code"') == 1:
        found = STATUS_CODE.search(body)
        return int(found.group(1)) if found else None
    data = _json(body)
    code = data.get("status_code") if isinstance(data, dict) else None
    return code if isinstance(code, int) else None


def _log(
    request: HubRequest,
    sender_party: tuple[str, str] | None,
    receiver: Member | None,
    to: tuple[str, str] | None,
    forwarded_id: str | None,
    status_code: int | None,
    http_status: int | None,
    kind: str = "forward",
) -> None:
    messages.record(
        kind=kind,
        method=request.method,
        module=request.module,
        sender_partner_id=request.sender_id,
        receiver_partner_id=receiver.id if receiver else None,
        from_party=messages.party_code(sender_party),
        to_party=messages.party_code(to),
        request_id=request.request_id[:64] or None,
        forwarded_request_id=forwarded_id,
        correlation_id=request.correlation_id[:64],
        status_code=status_code,
        http_status=http_status,
        duration_ms=int((time.perf_counter() - request.started) * 1000),
    )


def relay_proxy(request: HubRequest, kind: str, proxy_id: str) -> HubReply:
    """Forward a call to a hub URL standing in for a party's URL (a result, or the next page)."""
    proxy = db.session.get(HubProxy, proxy_id)
    if proxy is None or proxy.kind != kind or proxy.owner_partner_id != request.sender_id:
        raise errors.UnknownObject()
    routes = table.table()
    target = routes.members.get(proxy.target_partner_id)
    if target is None:
        raise errors.ReceiverUnreachable()
    status.seen(request.sender)
    own = queries.parties_of(request.sender)
    sender_party = request.party("from") or (own[0] if own else hub_party())
    theirs = target.parties
    to = (
        request.party("to")
        if request.party("to") in theirs
        else (theirs[0] if theirs else hub_party())
    )
    request.module = proxy.module
    url = proxy.url
    if kind == "page" and request.args:
        url = f"{url}{'&' if '?' in url else '?'}{urlencode(request.args)}"
        request.args = []
    return forward(request, sender_party, target, to, url)
