"""PlugPool as CPO: EVSE data (fullLoad, then insert/update/delete) and status to Hubject.

Inventory changes reach us as copies of the inventory's outbox events (topics prefixed
`oicp:`), written in the change's own transaction while the bridge is enabled; a job delivers
them in batches of at most OICP_PUSH_BATCH records, with retries (Hubject keeps a history and
takes a repeated update as the same data).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from flask import current_app
from sqlalchemy import delete, select

from app.core.clock import utcnow
from app.core.outbox import OutboxEvent, lease_attempts
from app.extensions import db
from app.inventory.events import EVSE_STATUS_CHANGED, LOCATION_CHANGED
from app.oicp import bulk, mapping, queries
from app.oicp.client import HubjectClient
from app.oicp.errors import HubjectCallFailed
from app.oicp.models import OicpPushedEvse, OicpState

log = logging.getLogger("plugpool.oicp.push")
PREFIX = "oicp:"
LOCATION_TOPIC = PREFIX + LOCATION_CHANGED
STATUS_TOPIC = PREFIX + EVSE_STATUS_CHANGED
FULL_LOAD = "evse_full_load"
MAX_ATTEMPTS = 10


def operator() -> str:
    """PlugPool's OperatorID, normalised."""
    return mapping.operator_id(current_app.config["OICP_OPERATOR_ID"])


def data_path() -> str:
    return f"evsepush/v23/operators/{quote(operator(), safe='*')}/data-records"


def status_path() -> str:
    return f"evsepush/v21/operators/{quote(operator(), safe='*')}/status-records"


def full_load(client: HubjectClient | None = None) -> int:
    """Push every own published EVSE (fullLoad, then insert per further batch); return records.

    OICP's fullLoad replaces all of an operator's records, so only the first request of a
    large inventory can be one: the others insert into what it loaded. While Hubject reads
    one batch, the next is read and mapped here (one request in flight, in order).
    """
    client = client or HubjectClient()
    size = int(current_app.config["OICP_PUSH_BATCH"])
    action, total, statuses = "fullLoad", 0, []
    db.session.execute(delete(OicpPushedEvse))
    path = data_path()
    with (
        bulk.few_collections(),
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="oicp-push") as sender,
    ):
        in_flight: tuple[Future[Any], list[tuple[Any, dict[str, Any]]]] | None = None
        for batch in queries.own_evse_batches(size):
            records = _records(batch)
            body = _data_body(action, [r for _, r in records])
            if in_flight is not None:
                _sent(*in_flight)
            in_flight = (sender.submit(client.acknowledged, path, body), records)
            statuses += [(r["EvseID"], evse.status) for evse, r in records]
            action, total = "insert", total + len(records)
        if in_flight is not None:
            _sent(*in_flight)
    if total == 0:
        _push_data(client, "fullLoad", [])
    push_statuses(client, statuses, "fullLoad")
    _set_state(FULL_LOAD)
    db.session.commit()
    return total


def _sent(answer: Future[Any], records: list[tuple[Any, dict[str, Any]]]) -> None:
    """Wait for a batch's acknowledgement (HubjectCallFailed when refused), then note it."""
    answer.result()
    _remember(records)


def _records(batch: Iterable[tuple[Any, Any]]) -> list[tuple[Any, dict[str, Any]]]:
    """(evse view, EvseDataRecord) of the batch's EVSEs that OICP can describe."""
    found = []
    for location, evse in batch:
        record = mapping.evse_record(location, evse, current_app.config)
        if record is None:
            log.info("EVSE %s has no plug OICP knows; not pushed", evse.uid)
            continue
        evse.location_pk = location.id
        found.append((evse, record))
    return found


def _push_data(client: HubjectClient, action: str, records: list[dict[str, Any]]) -> None:
    client.acknowledged(data_path(), _data_body(action, records))


def _data_body(action: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "ActionType": action,
        "OperatorEvseData": {
            "OperatorID": operator(),
            "OperatorName": current_app.config["OICP_OPERATOR_NAME"][:100],
            "EvseDataRecord": records,
        },
    }


def push_statuses(
    client: HubjectClient, statuses: list[tuple[str, str]], action: str = "update"
) -> None:
    """PushEvseStatus of (EvseID, OCPI status) pairs, in batches."""
    size = int(current_app.config["OICP_PUSH_BATCH"])
    for start in range(0, max(len(statuses), 1 if action == "fullLoad" else 0), size or 1):
        chunk = statuses[start : start + size]
        body = {
            "ActionType": action if start == 0 else "insert",
            "OperatorEvseStatus": {
                "OperatorID": operator(),
                "OperatorName": current_app.config["OICP_OPERATOR_NAME"][:100],
                "EvseStatusRecord": [
                    {"EvseID": evse_id, "EvseStatus": mapping.STATUS_OUT.get(status, "Unknown")}
                    for evse_id, status in chunk
                ],
            },
        }
        client.acknowledged(status_path(), body)


def _remember(records: list[tuple[Any, dict[str, Any]]]) -> None:
    """Note which EvseIDs Hubject now holds (one upsert per batch)."""
    now = utcnow()
    rows = {
        r["EvseID"]: {"evse_id": r["EvseID"], "location_pk": evse.location_pk, "pushed_at": now}
        for evse, r in records
    }
    bulk.upsert(
        OicpPushedEvse,
        list(rows.values()),
        keys=("evse_id",),
        changed=("location_pk", "pushed_at"),
    )


def _set_state(key: str) -> None:
    row = db.session.get(OicpState, key) or OicpState(key=key)
    row.value = utcnow()
    db.session.add(row)


# Deltas from the outbox


def claim(topics: Iterable[str], batch: int) -> list[OutboxEvent]:
    """Lease due events of these topics, their attempt counted and committed before any send
    (`outbox.lease_attempts`: a worker killed after sending never has them sent again)."""
    lease = float(current_app.config["OCPI_PUSH_LEASE_SECONDS"])
    which = OutboxEvent.topic.in_(list(topics))
    ids = [row.id for row in lease_attempts(db.session, which, batch, lease)]
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(OutboxEvent).where(OutboxEvent.id.in_(ids)).order_by(OutboxEvent.id)
        )
    )


def deliver_inventory(batch: int, client: HubjectClient | None = None) -> int:
    """Push the EVSE data and status changes of up to `batch` events; return events handled."""
    events = claim((LOCATION_TOPIC, STATUS_TOPIC), batch)
    if not events:
        return 0
    client = client or HubjectClient()
    locations = {e.payload.get("pk") for e in events if e.topic == LOCATION_TOPIC}
    status_events = [e for e in events if e.topic == STATUS_TOPIC]
    try:
        push_location_changes(client, {pk for pk in locations if isinstance(pk, int)})
        _push_status_events(client, status_events)
    except HubjectCallFailed as error:
        _retry_later(events, str(error))
        db.session.commit()
        return len(events)
    now = utcnow()
    for event in events:
        event.delivered_at = now
        event.last_error = None
    db.session.commit()
    return len(events)


def _retry_later(events: list[OutboxEvent], error: str) -> None:
    """Back off exponentially; after MAX_ATTEMPTS the event is closed with its error (the
    attempt was counted when the event was leased)."""
    log.warning("Hubject push failed: %s", error)
    now = utcnow()
    for event in events:
        event.last_error = error[:1000]
        if event.attempts >= MAX_ATTEMPTS:
            event.delivered_at = now
        else:
            event.available_at = now + timedelta(seconds=min(2**event.attempts, 600))


def push_location_changes(client: HubjectClient, location_pks: set[int]) -> None:
    """Insert new, update known and delete gone EVSE records of these locations."""
    if not location_pks:
        return
    views = queries.evses_of_locations(sorted(location_pks))
    live, gone = [], []
    for location, evse in views:
        usable = location.publish and location.deleted_at is None and evse.status != "REMOVED"
        (live if usable else gone).append((location, evse))
    records = _records(live)
    held = queries.pushed([r["EvseID"] for _, r in records])
    size = int(current_app.config["OICP_PUSH_BATCH"])
    for action, chosen in (
        ("insert", [(e, r) for e, r in records if r["EvseID"] not in held]),
        ("update", [(e, r) for e, r in records if r["EvseID"] in held]),
    ):
        for start in range(0, len(chosen), size):
            part = chosen[start : start + size]
            _push_data(client, action, [r for _, r in part])
            _remember(part)
    _delete_gone(client, gone, {r["EvseID"] for _, r in records}, location_pks)


def _delete_gone(
    client: HubjectClient, gone: list[tuple[Any, Any]], live_ids: set[str], location_pks: set[int]
) -> None:
    """Delete the records Hubject holds for EVSEs no longer offered (unpublished, removed)."""
    held_rows = db.session.scalars(
        select(OicpPushedEvse).where(OicpPushedEvse.location_pk.in_(location_pks))
    ).all()
    held = {row.evse_id for row in held_rows} - live_ids
    if not held:
        return
    # Records of removed EVSEs are rebuilt from the inventory (EVSEs are never deleted there);
    # Hubject deletes by EvseID.
    records = [r for _, r in _records(gone) if r["EvseID"] in held]
    if records:
        _push_data(client, "delete", records)
    db.session.execute(delete(OicpPushedEvse).where(OicpPushedEvse.evse_id.in_(held)))


def _push_status_events(client: HubjectClient, events: list[OutboxEvent]) -> None:
    """PushEvseStatus of the newest status of each EVSE the events name."""
    if not events:
        return
    location_pks = {e.payload.get("pk") for e in events}
    uids = {(e.payload.get("pk"), e.payload.get("evse_uid")) for e in events}
    statuses = []
    for location, evse in queries.evses_of_locations(
        sorted(pk for pk in location_pks if isinstance(pk, int))
    ):
        if (location.id, evse.uid) in uids and location.publish and location.deleted_at is None:
            evse_id = mapping.own_evse_id(evse.evse_id, evse.uid, operator())
            statuses.append((evse_id, evse.status))
    if statuses:
        push_statuses(client, statuses)
