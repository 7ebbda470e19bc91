"""The one clock: timezone-aware UTC, replaceable in tests."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Return value in UTC; naive values are refused because their zone is unknown."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: a time zone is required")
    return value.astimezone(UTC)


def iso_utc(value: datetime) -> str:
    """RFC 3339 text in UTC with a Z (OCPI DateTime): milliseconds only when there are any."""
    value = as_utc(value)
    spec = "milliseconds" if value.microsecond else "seconds"
    return value.isoformat(timespec=spec).replace("+00:00", "Z")
