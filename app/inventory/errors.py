"""Inventory errors, mapped to problem JSON by app.core.errors."""

from app.core.errors import Conflict, Forbidden, NotFound


class ListingNotFound(NotFound):
    title = "Listing not found"


class NotYourListing(Forbidden):
    title = "Not your listing"


class ListingRemoved(Conflict):
    title = "Listing removed"


class EvsesTaken(Conflict):
    title = "EVSEs belong to another station"
