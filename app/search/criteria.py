"""What a driver asks the search for, already validated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from app.core.spatial import BBox

MAX_RADIUS_M = 200_000
MAX_NEAREST = 100
MAX_LIMIT = 100
DEFAULT_LIMIT = 20
# The reference quote shown when no window is asked for: one hour at the connector's power.
REFERENCE_HOURS = 1


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open UTC interval [start, end)."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class SearchCriteria:
    """A validated search: where (circle, rectangle or nearest), filters and paging."""

    lat: float
    lon: float
    radius_m: float | None = None
    bbox: BBox | None = None
    nearest: int | None = None
    standards: tuple[str, ...] = ()
    min_power_kw: Decimal | None = None
    current: str | None = None  # "AC" or "DC"
    window: Window | None = None
    max_price: Decimal | None = None
    currency: str = "EUR"
    energy_kwh: Decimal | None = None  # None: what the connector delivers in the window
    network: str | None = None  # "own" or "roaming"
    limit: int = DEFAULT_LIMIT
    after: tuple[float, int, int] | None = None  # (distance, location id, evse id)
    with_count: bool = False

    @property
    def has_connector_filter(self) -> bool:
        """Tell whether any filter applies to connectors."""
        return bool(self.standards) or self.min_power_kw is not None or self.current is not None

    @property
    def filters_after_sql(self) -> bool:
        """Tell whether some filters run in Python on the SQL candidates (schedule, price)."""
        return self.window is not None or self.max_price is not None
