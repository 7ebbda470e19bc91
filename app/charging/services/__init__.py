"""Charging use cases behind the OCPP gateway: stations, authorisation, sessions, bookings.

Each public function is one transaction and commits it. The gateway calls them through
`app.charging.port.DbStationPort`, which gives every call its own app context (and so
its own database session), from a pool of threads.
"""

from app.charging.services.bookings import (
    dispatch_booking,
    record_reservation_update,
    release_reservations,
    remote_start_booking,
    remote_stop_booking,
    retry_reservations,
    start_due_bookings,
)
from app.charging.services.sessions import (
    apply_transaction_event,
    record_meter_values,
    settle_cdr_bookings,
    start_transaction,
    stop_transaction,
)
from app.charging.services.stations import (
    ConnectionChange,
    UnknownStation,
    authenticate_station,
    authorize_token,
    boot_station,
    count_violation,
    driver_token_uid,
    issue_driver_token,
    note_heartbeat,
    record_progress,
    record_security_event,
    record_station_events,
    record_status,
    set_connections,
    set_driver_token_valid,
)

__all__ = [
    "ConnectionChange",
    "UnknownStation",
    "apply_transaction_event",
    "authenticate_station",
    "authorize_token",
    "boot_station",
    "count_violation",
    "dispatch_booking",
    "driver_token_uid",
    "issue_driver_token",
    "note_heartbeat",
    "record_meter_values",
    "record_progress",
    "record_reservation_update",
    "record_security_event",
    "record_station_events",
    "record_status",
    "release_reservations",
    "remote_start_booking",
    "remote_stop_booking",
    "retry_reservations",
    "set_connections",
    "set_driver_token_valid",
    "settle_cdr_bookings",
    "start_due_bookings",
    "start_transaction",
    "stop_transaction",
]
