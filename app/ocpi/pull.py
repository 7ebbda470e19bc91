"""Pull partner CPOs' Locations and Tariffs into the one inventory (PlugPool as eMSP).

The first pull of a partner is full; later ones ask for `date_from` = the start of the last
successful pull (less a margin for clock skew: a repeat is harmless, a gap is not). Pages are
followed through `Link`; X-Total-Count feeds the progress shown on the CLI and the admin page.
The next page is fetched while the current one is stored. A failed pull keeps what it stored,
is shown as FAILING and is retried with exponential backoff; each partner is its own job, so a
partner that is down never holds up the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from requests.utils import parse_header_links
from sqlalchemy import or_, select, update

from app.core.clock import iso_utc, utcnow
from app.extensions import db
from app.inventory.roaming import put_partner_party
from app.ocpi.client import OcpiClient, OcpiResponse
from app.ocpi.errors import PartnerCallFailed
from app.ocpi.locations import inbound as locations_inbound
from app.ocpi.models import OcpiPartner, OcpiSync, PartnerStatus, SyncStatus
from app.ocpi.tariffs import inbound as tariffs_inbound

log = logging.getLogger("plugpool.ocpi.pull")

# Tariffs first: the locations that name them are priced as soon as they land.
STORE: dict[str, Callable[[OcpiPartner, str, list[Any]], tuple[int, int]]] = {
    "tariffs": tariffs_inbound.put_pulled,
    "locations": locations_inbound.put_pulled,
}
CLOCK_SKEW = timedelta(minutes=5)
# A RUNNING pull older than this was left by a worker that died: it may be claimed again.
STALE_AFTER = timedelta(hours=2)

Progress = Callable[[str, int, int | None], None]  # module, objects so far, X-Total-Count


@dataclass(frozen=True)
class PullResult:
    """How one module's pull went."""

    module: str
    ok: bool
    received: int
    applied: int
    refused: int
    total: int | None
    error: str | None = None


def on_registered(partner: OcpiPartner) -> None:
    """A partner just registered (either direction): its CPO parties and its first full pull.

    In the caller's transaction; the pull itself runs later (CLI or the beat job), never
    inside the credentials request.
    """
    for role in partner.roles:
        if role.role == "CPO":
            details = role.business_details or {}
            name = details.get("name") or f"{role.country_code}*{role.party_id}"
            roles = ("CPO",)
            put_partner_party(role.country_code, role.party_id, name, roles, details.get("website"))
    if partner.party("CPO") is None:
        return
    existing = {sync.module: sync for sync in _syncs(partner)}
    for module in STORE:
        if partner.endpoint(module, "SENDER") is None:
            continue
        sync = existing.get(module) or OcpiSync(partner_id=partner.id, module=module, failures=0)
        sync.full_due, sync.next_attempt_at, sync.done = True, utcnow(), 0
        sync.status = sync.status or SyncStatus.NEVER.value
        db.session.add(sync)


def _syncs(partner: OcpiPartner) -> list[OcpiSync]:
    query = select(OcpiSync).where(OcpiSync.partner_id == partner.id).order_by(OcpiSync.id)
    return list(db.session.scalars(query))


def due_partner_ids(now: datetime | None = None) -> list[int]:
    """Registered partners with a pull due (first, scheduled or retry), not running now."""
    moment = now or utcnow()
    query = (
        select(OcpiSync.partner_id)
        .join(OcpiPartner, OcpiPartner.id == OcpiSync.partner_id)
        .where(
            OcpiPartner.status == PartnerStatus.REGISTERED.value,
            or_(OcpiSync.next_attempt_at.is_(None), OcpiSync.next_attempt_at <= moment),
            _claimable(moment),
        )
        .distinct()
    )
    return sorted(db.session.scalars(query))


def _claimable(now: datetime) -> Any:
    return or_(OcpiSync.status != SyncStatus.RUNNING.value, OcpiSync.started_at < now - STALE_AFTER)


def sync_partner(
    partner: OcpiPartner, full: bool = False, progress: Progress | None = None
) -> list[PullResult]:
    """Pull each module the partner sends (full, or changes since the last pull); none from a
    hub whose settings do not offer it our eMSP role."""
    from app.ocpi.hubparty.services import offers

    results: list[PullResult] = []
    if not offers(partner, "EMSP"):
        return results
    syncs = {sync.module: sync for sync in _syncs(partner)}
    for module in STORE:
        sync = syncs.get(module)
        if sync is None or partner.endpoint(module, "SENDER") is None:
            continue
        if not _claim(sync):
            continue
        results.append(_pull(partner, sync, full or sync.full_due, progress))
    return results


def _claim(sync: OcpiSync) -> bool:
    """Mark the pull RUNNING unless another worker runs it; commit."""
    now = utcnow()
    claimed = db.session.execute(
        update(OcpiSync)
        .where(OcpiSync.id == sync.id, _claimable(now))
        .values(status=SyncStatus.RUNNING.value, started_at=now, done=0, total=None)
    ).rowcount
    db.session.commit()
    return claimed == 1


def _pull(
    partner: OcpiPartner, sync: OcpiSync, full: bool, progress: Progress | None
) -> PullResult:
    started = sync.started_at or utcnow()
    params = {}
    if not full and sync.synced_until is not None:
        params["date_from"] = iso_utc(sync.synced_until - CLOCK_SKEW)
    received = applied = refused = 0
    total: int | None = None
    try:
        for reply in _pages(partner, sync.module, params):
            items = reply.data if isinstance(reply.data, list) else None
            if items is None:
                raise PartnerCallFailed(f"{sync.module}: page data is not a list")
            stored, skipped = STORE[sync.module](partner, partner.version or "2.2.1", items)
            received, applied, refused = received + len(items), applied + stored, refused + skipped
            total = _int(_header(reply, "X-Total-Count")) or total
            _record_progress(sync, received, total)
            if progress is not None:
                progress(sync.module, received, total)
    except PartnerCallFailed as error:
        log.warning("pull of %s from partner %s failed: %s", sync.module, partner.id, error)
        return _failed(sync, str(error), received, applied, refused, total)
    except Exception as error:  # a job must record any failure, or the pull stays RUNNING
        log.exception("pull of %s from partner %s failed", sync.module, partner.id)
        return _failed(sync, type(error).__name__, received, applied, refused, total)
    _record_success(sync, started, full)
    return PullResult(sync.module, True, received, applied, refused, total)


def _failed(
    sync: OcpiSync, error: str, received: int, applied: int, refused: int, total: int | None
) -> PullResult:
    db.session.rollback()
    module = sync.module
    _record_failure(sync, error)
    return PullResult(module, False, received, applied, refused, total, error)


def _pages(partner: OcpiPartner, module: str, params: dict[str, str]) -> Any:
    """The partner's pages in order; the next one is fetched while the caller stores this one."""
    client = OcpiClient(
        partner.token_out or "", raw_token=partner.raw_tokens, to_party=partner.party("CPO")
    )
    url: str | None = partner.endpoint(module, "SENDER")
    with ThreadPoolExecutor(max_workers=1) as fetcher:
        pending: Future[OcpiResponse] | None = fetcher.submit(client.get, url or "", params)
        while pending is not None:
            reply = pending.result()
            url = _next_link(reply)
            # The Link carries the filters: the next request sends no params of its own.
            pending = fetcher.submit(client.get, url) if url else None
            try:
                yield reply
            except GeneratorExit:
                if pending is not None:
                    pending.cancel()
                raise


def _header(reply: OcpiResponse, name: str) -> str | None:
    """A response header by name, whatever case the partner wrote it in."""
    wanted = name.lower()
    return next((v for k, v in reply.headers.items() if k.lower() == wanted), None)


def _next_link(reply: OcpiResponse) -> str | None:
    link = _header(reply, "Link")
    if not link:
        return None
    for entry in parse_header_links(link):
        if entry.get("rel") == "next" and entry.get("url"):
            return entry["url"]
    return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _record_progress(sync: OcpiSync, done: int, total: int | None) -> None:
    db.session.execute(
        update(OcpiSync).where(OcpiSync.id == sync.id).values(done=done, total=total)
    )
    db.session.commit()


def _record_success(sync: OcpiSync, started: datetime, full: bool) -> None:
    interval = timedelta(seconds=float(current_app.config["OCPI_SYNC_INTERVAL"]))
    now = utcnow()
    db.session.execute(
        update(OcpiSync)
        .where(OcpiSync.id == sync.id)
        .values(
            status=SyncStatus.OK.value,
            synced_until=started,
            finished_at=now,
            failures=0,
            last_error=None,
            full_due=False,
            next_attempt_at=now + interval,
        )
    )
    db.session.commit()


def retry_delay(failures: int) -> timedelta:
    """Exponential backoff after the n-th failure in a row, capped by OCPI_SYNC_RETRY_MAX."""
    config = current_app.config
    base, cap = float(config["OCPI_SYNC_RETRY_BASE"]), float(config["OCPI_SYNC_RETRY_MAX"])
    return timedelta(seconds=min(cap, base * 2 ** max(0, failures - 1)))


def _record_failure(sync: OcpiSync, error: str) -> None:
    now = utcnow()
    failures = (db.session.scalar(select(OcpiSync.failures).where(OcpiSync.id == sync.id)) or 0) + 1
    db.session.execute(
        update(OcpiSync)
        .where(OcpiSync.id == sync.id)
        .values(
            status=SyncStatus.FAILING.value,
            finished_at=now,
            failures=failures,
            last_error=error[:2000],
            next_attempt_at=now + retry_delay(failures),
        )
    )
    db.session.commit()


def request_full_sync(partner: OcpiPartner) -> None:
    """Ask for a full pull of the partner at the next job round (admin page)."""
    db.session.execute(
        update(OcpiSync)
        .where(OcpiSync.partner_id == partner.id)
        .values(full_due=True, next_attempt_at=utcnow())
    )
    db.session.commit()


def sync_states() -> list[OcpiSync]:
    """Every partner's pulls, for the admin page."""
    query = select(OcpiSync).join(OcpiPartner).order_by(OcpiPartner.name, OcpiSync.module)
    return list(db.session.scalars(query))
