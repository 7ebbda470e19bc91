"""Meter samples: stored once per natural key, turned into charging periods, checked for sense."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import pairwise

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.charging.enums import ENERGY_REGISTER
from app.charging.models import MeterValue
from app.core.clock import utcnow
from app.extensions import db
from app.gateway.ports import MeterSample
from app.tariffs.engine import PeriodState, SessionPeriod

WH_PER_KWH = Decimal(1000)
SECONDS_PER_HOUR = Decimal(3600)
# A meter may run a little ahead of the connector's rating (rounding, clock skew).
POWER_TOLERANCE = Decimal("1.2")
ENERGY_SLACK_WH = Decimal(200)


def owner_of(transaction_id: str | None, connector_id: int | None) -> str:
    """Return the natural-key owner of a sample: its transaction, else its connector."""
    if transaction_id is not None:
        return f"tx:{transaction_id}"
    return f"connector:{connector_id if connector_id is not None else 0}"


def store_samples(
    station_id: str, owner: str, session_pk: int | None, samples: Iterable[MeterSample]
) -> int:
    """Insert samples not stored yet (a resend is ignored); return how many were new."""
    unique = {_key(sample): sample for sample in samples}  # a batch may repeat a sample
    rows = [_row(station_id, owner, session_pk, sample) for sample in unique.values()]
    if not rows:
        return 0
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(MeterValue).values(rows).on_conflict_do_nothing()
    result = db.session.execute(statement)
    return max(int(getattr(result, "rowcount", 0) or 0), 0)


def _key(sample: MeterSample) -> tuple[object, ...]:
    """Return the part of a sample's natural key that varies within one owner."""
    return (sample.timestamp, sample.measurand, sample.phase or "", sample.context or "")


def _row(
    station_id: str, owner: str, session_pk: int | None, sample: MeterSample
) -> dict[str, object]:
    """Return the column values of one sample."""
    return {
        "station_id": station_id,
        "owner": owner,
        "session_pk": session_pk,
        "timestamp": sample.timestamp,
        "measurand": sample.measurand[:64],
        "phase": (sample.phase or "")[:8],
        "context": (sample.context or "")[:32],
        "value": sample.value,
        "unit": sample.unit,
        "signed_data": sample.signed_data,
        "received_at": utcnow(),
    }


def energy_wh(value: Decimal, unit: str | None) -> Decimal:
    """Return an energy register value in Wh (OCPP's default unit is Wh)."""
    return value * WH_PER_KWH if (unit or "Wh").lower() == "kwh" else value


def is_register(sample: MeterSample) -> bool:
    """Tell whether a sample is the total imported energy register."""
    return sample.measurand == ENERGY_REGISTER and not sample.phase


@dataclass(frozen=True)
class Reading:
    """An energy register reading at an instant, in Wh."""

    at: datetime
    wh: Decimal


def readings(rows: Sequence[MeterValue]) -> list[Reading]:
    """Return register rows as readings in Wh, oldest first."""
    return [Reading(row.timestamp, energy_wh(row.value, row.unit)) for row in rows]


def session_readings(start: Reading, samples: Sequence[Reading], stop: Reading) -> list[Reading]:
    """Return start, the samples strictly inside the session that keep the meter rising, stop."""
    kept = [start]
    for reading in samples:
        inside = start.at < reading.at < stop.at
        if inside and kept[-1].wh <= reading.wh <= stop.wh:
            kept.append(reading)
    return [*kept, stop]


def charging_periods(points: Sequence[Reading]) -> list[SessionPeriod]:
    """Turn readings into engine periods: energy flowing is CHARGING, a flat meter PARKING."""
    if len(points) < 2 or points[0].at == points[-1].at:
        energy = (points[-1].wh - points[0].wh) / WH_PER_KWH if points else Decimal(0)
        at = points[0].at
        return [SessionPeriod(at, points[-1].at, energy, PeriodState.CHARGING)]
    periods: list[SessionPeriod] = []
    for before, after in pairwise(points):
        if after.at <= before.at:
            continue
        energy = (after.wh - before.wh) / WH_PER_KWH
        state = PeriodState.CHARGING if energy > 0 else PeriodState.PARKING
        periods.append(SessionPeriod(before.at, after.at, energy, state))
    return _merged(periods)


def _merged(periods: list[SessionPeriod]) -> list[SessionPeriod]:
    """Join neighbouring periods in the same state (OCPI periods change on a state change)."""
    merged: list[SessionPeriod] = []
    for period in periods:
        last = merged[-1] if merged else None
        if last is not None and last.state is period.state and last.end == period.start:
            merged[-1] = SessionPeriod(
                last.start, period.end, last.energy_kwh + period.energy_kwh, last.state
            )
        else:
            merged.append(period)
    return merged


def implausibility(start: Reading, stop: Reading, max_power_kw: Decimal | None) -> str | None:
    """Return why a session's meter readings cannot be billed, or None when they make sense."""
    if stop.at < start.at:
        return "the session ends before it starts"
    if stop.wh < start.wh:
        return f"meter stop {stop.wh} Wh is below meter start {start.wh} Wh"
    if max_power_kw is not None and max_power_kw > 0:
        hours = Decimal((stop.at - start.at).total_seconds()) / SECONDS_PER_HOUR
        ceiling = max_power_kw * WH_PER_KWH * hours * POWER_TOLERANCE + ENERGY_SLACK_WH
        if stop.wh - start.wh > ceiling:
            return f"{stop.wh - start.wh} Wh is more than the connector can deliver in that time"
    return None
