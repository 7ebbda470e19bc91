"""GET all via the hub: every CPO's Locations or Tariffs in one list, paged by the hub.

Stateless paging over the parties in a fixed order (oldest registration first): the hub asks
each party for its count (limit=1, same date filters) and then for just the slice the page
needs, following the party's own pages. X-Total-Count is the sum, `Link` the hub's own; each
object keeps its own party's country_code and party_id. A party that does not answer is left
out of that page (and logged).
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app
from flask import request as flask_request

from app.extensions import db
from app.ocpi import errors
from app.ocpi.client import OcpiClient
from app.ocpi.hub import bridge, messages, status
from app.ocpi.hub.identity import hub_party
from app.ocpi.hub.services import HubRequest
from app.ocpi.hub.table import Member, Table, pair_allowed
from app.ocpi.models import OcpiPartner
from app.ocpi.pagination import page_request
from app.ocpi.registry import ocpi_base_url
from app.ocpi.transport import envelope

log = logging.getLogger("plugpool.ocpi.hub")
MODULES = frozenset({"locations", "tariffs"})
FILTERS = ("date_from", "date_to")


def get_all(
    request: HubRequest, sender_party: tuple[str, str], sender: Member, routes: Table
) -> Response:
    """One page of all allowed CPOs' objects of the module."""
    if request.interface != "SENDER" or request.module not in MODULES or request.path.strip("/"):
        raise errors.InvalidParameters("GET all via the hub covers the locations and tariffs lists")
    page = page_request()
    filters = {key: flask_request.args[key] for key in FILTERS if flask_request.args.get(key)}
    sources = [(p, _client(p)) for p in _sources(request, sender, routes)]
    counts = [_count(client, p, request.module, filters) for p, client in sources]
    items: list[Any] = []
    skip, wanted = page.offset, page.limit
    for (partner, client), count in zip(sources, counts, strict=True):
        if wanted <= 0:
            break
        if skip >= count:
            skip -= count
            continue
        taken = _slice(client, partner, request.module, filters, skip, min(wanted, count - skip))
        items.extend(bridge.convert(taken, partner.version, request.version))
        wanted -= len(taken)
        skip = 0
    total = sum(counts)
    _log(request, sender_party, total)
    db.session.commit()
    return envelope(items, headers=page_headers(page.offset, page.limit, len(items), total))


def _sources(request: HubRequest, sender: Member, routes: Table) -> list[Member]:
    return [
        member
        for member in routes.registered()
        if member.id != sender.id
        and member.connected
        and any(role == "CPO" for role, _, _ in member.roles)
        and member.endpoint(request.module, "SENDER") is not None
        and pair_allowed(sender, member)
    ]


def _client(partner: Member) -> OcpiClient:
    to = next(((cc, pid) for role, cc, pid in partner.roles if role == "CPO"), None)
    return OcpiClient(
        partner.token_out,
        raw_token=partner.raw_tokens,
        to_party=to,
        from_party=hub_party(),
        timeout=current_app.config["HUB_FORWARD_TIMEOUT"],
    )


def _count(client: OcpiClient, partner: Member, module: str, filters: dict[str, str]) -> int:
    url = partner.endpoint(module, "SENDER") or ""
    try:
        reply = client.get(url, {**filters, "offset": 0, "limit": 1})
    except errors.PartnerCallFailed as error:
        log.warning("GET all: party %s left out: %s", partner.id, error)
        row = db.session.get(OcpiPartner, partner.id) if error.http_status is None else None
        if row is not None:
            status.offline(row)
        return 0
    headers = {key.lower(): value for key, value in reply.headers.items()}
    try:
        return int(headers.get("x-total-count", len(reply.data or [])))
    except ValueError:
        return len(reply.data or [])


def _slice(
    client: OcpiClient,
    partner: Member,
    module: str,
    filters: dict[str, str],
    offset: int,
    limit: int,
) -> list[Any]:
    """Objects offset..offset+limit of one party's list, over as many of its pages as it takes."""
    url = partner.endpoint(module, "SENDER") or ""
    taken: list[Any] = []
    while len(taken) < limit:
        params = {**filters, "offset": offset + len(taken), "limit": limit - len(taken)}
        try:
            data = client.get(url, params).data or []
        except errors.PartnerCallFailed as error:
            log.warning("GET all: party %s page failed: %s", partner.id, error)
            break
        if not data:
            break
        taken.extend(data[: limit - len(taken)])
    return taken


def page_headers(offset: int, limit: int, served: int, total: int) -> dict[str, str]:
    headers = {"X-Total-Count": str(total), "X-Limit": str(current_app.config["OCPI_PAGE_LIMIT"])}
    next_offset = offset + served
    if served and next_offset < total:
        params = dict(flask_request.args.items())
        params.update(offset=str(next_offset), limit=str(limit))
        root = ocpi_base_url().removesuffix("/ocpi")
        headers["Link"] = f'<{root}{flask_request.path}?{urlencode(params)}>; rel="next"'
    return headers


def _log(request: HubRequest, sender_party: tuple[str, str], total: int) -> None:
    messages.record(
        kind="getall",
        method="GET",
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
