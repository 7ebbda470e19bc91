"""Broadcast push: a push addressed to the hub reaches every party allowed to receive it.

The hub answers the sender at once and writes one outbox delivery per receiver in the same
transaction (app.ocpi.hub.delivery sends and retries each on its own). Receivers are the
connected parties with the module's receiver interface, in a role opposite to the sender's
(a CPO's push reaches eMSPs, NSPs and OTHER; an eMSP's reaches CPOs), that both parties' rules
allow. The URL keeps the original party's country_code/party_id; from = the hub.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from flask import Response

from app.core.db import json_dumps, json_loads
from app.extensions import db
from app.ocpi import errors
from app.ocpi.hub import bridge, delivery, messages
from app.ocpi.hub.identity import hub_party
from app.ocpi.hub.services import HubRequest
from app.ocpi.hub.table import Member, Table, pair_allowed
from app.ocpi.transport import envelope

CPO_AUDIENCE = frozenset({"EMSP", "NSP", "OTHER", "NAP", "SCSP"})
OPPOSITE = {"CPO": CPO_AUDIENCE, **{role: frozenset({"CPO"}) for role in CPO_AUDIENCE}}


def broadcast(
    request: HubRequest, sender_party: tuple[str, str], sender: Member, routes: Table
) -> Response:
    """Queue the push for every allowed receiver; answer the sender (from = the hub)."""
    if request.interface != "RECEIVER":
        raise errors.InvalidParameters("A broadcast push goes to a receiver interface")
    audience = _audience(sender, sender_party)
    receivers = _receivers(request, audience, sender, routes)
    body = _Bodies(request)
    delivery.enqueue([_delivery(request, sender_party, r, audience, body) for r in receivers])
    messages.record(
        kind="broadcast",
        method=request.method,
        module=request.module,
        sender_partner_id=request.sender_id,
        receiver_partner_id=None,
        from_party=messages.party_code(sender_party),
        to_party=messages.party_code(hub_party()),
        request_id=request.request_id[:64] or None,
        correlation_id=request.correlation_id[:64],
        status_code=1000,
        http_status=200,
        duration_ms=int((time.perf_counter() - request.started) * 1000),
    )
    db.session.commit()
    return envelope()


def _audience(sender: Member, sender_party: tuple[str, str]) -> frozenset[str]:
    roles = [role for role, cc, pid in sender.roles if (cc, pid) == sender_party]
    audience: set[str] = set()
    for role in roles:
        audience |= OPPOSITE.get(role, frozenset())
    return frozenset(audience)


def _receivers(
    request: HubRequest, audience: frozenset[str], sender: Member, routes: Table
) -> list[Member]:
    return [
        member
        for member in routes.registered()
        if member.id != sender.id
        and member.connected
        and any(role in audience for role, _, _ in member.roles)
        and member.endpoint(request.module, "RECEIVER") is not None
        and pair_allowed(sender, member)
    ]


def _delivery(
    request: HubRequest,
    sender_party: tuple[str, str],
    receiver: Member,
    audience: frozenset[str],
    bodies: _Bodies,
) -> dict[str, Any]:
    url = (receiver.endpoint(request.module, "RECEIVER") or "").rstrip("/") + request.path
    if request.args:
        # A Token's ?type= (RFID when absent) must reach every receiver as sent.
        url = f"{url}?{urlencode(request.args)}"
    to = next(
        (cc + pid for role, cc, pid in receiver.roles if role in audience), "".join(hub_party())
    )
    return {
        "partner_id": receiver.id,
        "sender_partner_id": request.sender_id,
        "method": request.method,
        "url": url,
        "body": bodies.for_version(receiver.version),
        "module": request.module,
        "kind": "broadcast",
        "from": "".join(hub_party()),
        "to": to,
        "request_id": request.request_id[:64] or None,
        "correlation_id": request.correlation_id[:64],
    }


class _Bodies:
    """The push's body per receiving version: as it came, or converted once per version."""

    def __init__(self, request: HubRequest) -> None:
        self.request = request
        self.text = request.body.decode() if request.body else None
        self.converted: dict[str, str] = {}

    def for_version(self, version: str) -> str | None:
        if self.text is None or version == self.request.version:
            return self.text
        if version not in self.converted:
            try:
                data = json_loads(self.text)
            except ValueError:
                return self.text
            self.converted[version] = json_dumps(
                bridge.convert(data, self.request.version, version)
            )
        return self.converted[version]
