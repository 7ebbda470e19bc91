"""Booking states, who acts, and the listing's cancellation policies."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BookingStatus(StrEnum):
    QUOTE = "quote"  # a priced window, never stored: quotes are answered, not kept
    PENDING = "pending"  # a hold on the slot, waiting for payment until expires_at
    REQUESTED = "requested"  # paid, waiting for the owner to accept or decline
    CONFIRMED = "confirmed"
    ACTIVE = "active"  # charging started
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    NO_SHOW = "no_show"
    DECLINED = "declined"


# The states that occupy the slot: the exclusion constraint / trigger covers exactly these.
HOLDING_STATUSES = (
    BookingStatus.PENDING,
    BookingStatus.REQUESTED,
    BookingStatus.CONFIRMED,
    BookingStatus.ACTIVE,
)
HOLDING_SQL = ", ".join(f"'{status.value}'" for status in HOLDING_STATUSES)
# The driver may see how to get in only once the owner's side is settled.
ACCESS_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.ACTIVE)


class Party(StrEnum):
    DRIVER = "driver"
    OWNER = "owner"


@dataclass(frozen=True)
class CancellationPolicy:
    """Free cancellation until cutoff_hours before the start; later, fee_percent of the quote."""

    name: str
    cutoff_hours: int
    fee_percent: int

    def snapshot(self) -> dict[str, int | str]:
        """Return the policy as stored on the booking, so later edits do not change it."""
        return {
            "name": self.name,
            "cutoff_hours": self.cutoff_hours,
            "fee_percent": self.fee_percent,
        }


POLICIES = {
    policy.name: policy
    for policy in (
        CancellationPolicy("flexible", cutoff_hours=2, fee_percent=25),
        CancellationPolicy("moderate", cutoff_hours=12, fee_percent=50),
        CancellationPolicy("strict", cutoff_hours=48, fee_percent=100),
    )
}
