"""Deliveries the hub makes on its own (broadcast pushes, ClientInfo pushes), via the outbox.

Each delivery is one outbox row for one receiver, written in the transaction that caused it,
and retried on its own (HUB_DELIVERY_ATTEMPTS, HUB_DELIVERY_RETRY_SECONDS apart) when the
receiver cannot be reached or answers with a server error; a client error (2xxx) is final.
A round leases due rows in one statement and commits (`outbox.lease_attempts`: skip locked,
so several workers share the work), sends them from a pool of threads with keep-alive
connections, and writes the outcomes in bulk. A round that stops after leasing (a worker
killed mid-send) leaves its rows in flight: once the lease (OCPI_PUSH_LEASE_SECONDS) is over
they are closed as interrupted, never sent a second time.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import insert, select, update

from app.core.clock import utcnow
from app.core.db import json_loads
from app.core.outbox import OutboxEvent, lease_attempts
from app.extensions import db
from app.ocpi.client import OcpiClient
from app.ocpi.errors import PartnerCallFailed, PartnerTimeout
from app.ocpi.hub.models import HubMessage
from app.ocpi.models import OcpiPartner

TOPIC = "hub.deliver"
Job = tuple[int, dict[str, Any], OcpiClient | None]
_pool: ThreadPoolExecutor | None = None


@dataclass
class Outcome:
    event_id: int
    ok: bool
    final: bool  # no retry: delivered, or refused by the receiver
    error: str | None
    status_code: int | None
    http_status: int | None
    request_id: str
    duration_ms: int
    unreachable: bool = False


def enqueue(deliveries: list[dict[str, Any]]) -> None:
    """Add deliveries to the caller's transaction (one outbox row each).

    A delivery: partner_id, method, url, body (JSON text or None), module, kind,
    from/to (5-letter parties) and correlation_id.
    """
    if not deliveries:
        return
    now = utcnow()
    rows = [
        {
            "topic": TOPIC,
            "aggregate_type": "hub_party",
            "aggregate_id": str(item["partner_id"]),
            "payload": item,
            "created_at": now,
            "available_at": now,
            "attempts": 0,
        }
        for item in deliveries
    ]
    # One Core executemany (psycopg pipelines it: one round trip), in the caller's transaction.
    # Measured for 50 rows: 1.2 ms client + 0.8 ms server CPU; one multi-VALUES statement
    # built by SQLAlchemy costs 5.6 + 0.65 ms, the ORM bulk path more than executemany.
    db.session.execute(insert(OutboxEvent.__table__), rows)


def deliver_round(batch: int | None = None) -> int:
    """Send one round of due deliveries; return how many were attempted."""
    config = current_app.config
    claimed = _claim(batch or config["HUB_DELIVERY_BATCH"])
    if not claimed:
        return 0
    clients = _clients({payload["partner_id"] for _, payload, _ in claimed})
    jobs = [
        (event_id, payload, clients.get(payload["partner_id"])) for event_id, payload, _ in claimed
    ]
    workers = config["HUB_DELIVERY_WORKERS"]
    # A few jobs per task, not a future per delivery: a round has thousands.
    size = max(1, len(jobs) // (workers * 4))
    chunks = [jobs[start : start + size] for start in range(0, len(jobs), size)]
    outcomes = [o for done in _executor(workers).map(_send_group, chunks) for o in done]
    _record(claimed, outcomes)
    db.session.commit()
    return len(claimed)


def deliver_all(batch: int | None = None) -> int:
    """Deliver until nothing is due; return how many deliveries were attempted."""
    total = 0
    while (done := deliver_round(batch)) > 0:
        total += done
    return total


def _claim(batch: int) -> list[tuple[int, dict[str, Any], int]]:
    """Lease a batch (committed before any send); (id, payload, attempts with this one)."""
    lease = float(current_app.config["OCPI_PUSH_LEASE_SECONDS"])
    leased = lease_attempts(db.session, OutboxEvent.topic == TOPIC, batch, lease)
    return [(row.id, row.payload, row.attempts) for row in leased]


def _clients(partner_ids: set[int]) -> dict[int, OcpiClient]:
    partners = db.session.scalars(select(OcpiPartner).where(OcpiPartner.id.in_(partner_ids)))
    timeout = current_app.config["HUB_FORWARD_TIMEOUT"]
    return {
        p.id: OcpiClient(p.token_out, raw_token=p.raw_tokens, timeout=timeout)
        for p in partners
        if p.token_out
    }


def _executor(workers: int) -> ThreadPoolExecutor:
    # One long-lived pool: its threads keep their keep-alive connections between rounds.
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hub-delivery")
    return _pool


def _send_group(jobs: list[Job]) -> list[Outcome]:
    return [_send(job) for job in jobs]


def _send(job: Job) -> Outcome:
    event_id, payload, client = job
    request_id = str(uuid.uuid4())
    started = time.perf_counter()
    if client is None:
        return Outcome(
            event_id, False, True, "party no longer registered", None, None, request_id, 0
        )
    headers = {
        "X-Request-ID": request_id,
        "X-Correlation-ID": payload.get("correlation_id") or request_id,
        "OCPI-from-country-code": payload["from"][:2],
        "OCPI-from-party-id": payload["from"][2:],
        "OCPI-to-country-code": payload["to"][:2],
        "OCPI-to-party-id": payload["to"][2:],
    }
    body = payload.get("body")
    try:
        reply = client.relay(
            payload["method"], payload["url"], body.encode() if body else None, headers
        )
    except PartnerCallFailed as error:
        elapsed = int((time.perf_counter() - started) * 1000)
        unreachable = not isinstance(error, PartnerTimeout)
        return Outcome(
            event_id, False, False, str(error), None, None, request_id, elapsed, unreachable
        )
    elapsed = int((time.perf_counter() - started) * 1000)
    status = _status_code(reply.body)
    ok = reply.http_status < 300 and status is not None and status < 2000
    final = ok or (reply.http_status < 500 and status is not None and status < 3000)
    error = None if ok else f"HTTP {reply.http_status}, OCPI {status}"
    return Outcome(event_id, ok, final, error, status, reply.http_status, request_id, elapsed)


def _status_code(body: bytes) -> int | None:
    try:
        status = json_loads(body).get("status_code")
    except (ValueError, AttributeError):
        return None
    return status if isinstance(status, int) else None


def _record(claimed: list[tuple[int, dict[str, Any], int]], outcomes: list[Outcome]) -> None:
    config = current_app.config
    now = utcnow()
    attempts = {event_id: done for event_id, _, done in claimed}
    payloads = {event_id: payload for event_id, payload, _ in claimed}
    delivered = []
    updates = []
    for outcome in outcomes:
        if outcome.ok:
            delivered.append(outcome.event_id)
            continue
        tries = attempts[outcome.event_id]  # counted when the batch was leased
        give_up = outcome.final or tries >= config["HUB_DELIVERY_ATTEMPTS"]
        retry_at = now + timedelta(seconds=config["HUB_DELIVERY_RETRY_SECONDS"] * tries)
        updates.append(
            {
                "id": outcome.event_id,
                "attempts": tries,
                "last_error": outcome.error,
                "delivered_at": now if give_up else None,
                "available_at": now if give_up else retry_at,
            }
        )
    if delivered:  # the usual case: one statement for all of them
        db.session.execute(
            update(OutboxEvent.__table__)
            .where(OutboxEvent.id.in_(delivered))
            .values(last_error=None, delivered_at=now, available_at=now)
        )
    if updates:
        db.session.execute(update(OutboxEvent), updates)
    log = [_message(payloads[o.event_id], o, now) for o in outcomes]
    db.session.execute(insert(HubMessage.__table__), log)
    _note_unreachable({payloads[o.event_id]["partner_id"] for o in outcomes if o.unreachable})


def _message(payload: dict[str, Any], outcome: Outcome, now: Any) -> dict[str, Any]:
    return {
        "created_at": now,
        "kind": payload.get("kind", "broadcast"),
        "method": payload["method"],
        "module": payload.get("module", ""),
        "sender_partner_id": payload.get("sender_partner_id"),
        "receiver_partner_id": payload["partner_id"],
        "from_party": payload["from"],
        "to_party": payload["to"],
        "request_id": payload.get("request_id"),
        "forwarded_request_id": outcome.request_id,
        "correlation_id": payload.get("correlation_id"),
        "status_code": outcome.status_code,
        "http_status": outcome.http_status,
        "duration_ms": outcome.duration_ms,
    }


def _note_unreachable(partner_ids: set[int]) -> None:
    from app.ocpi.hub import status

    for partner_id in partner_ids:
        partner = db.session.get(OcpiPartner, partner_id)
        if partner is not None:
            status.offline(partner)
