"""Outbox topics the inventory writes; the OCPI push job and other processes read them."""

LOCATION_CHANGED = "location.changed"
EVSE_STATUS_CHANGED = "evse.status_changed"
TARIFF_CHANGED = "tariff.changed"
