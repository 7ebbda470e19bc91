"""JSON API for owners' listings: /api/v1/listings."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from app.accounts.auth import api_auth, current_user
from app.inventory import queries, services
from app.inventory.schemas import ListingInSchema, ListingSchema, ListingUpdateSchema

blp = Blueprint("listings", __name__, description="Owners' charger listings")

OWNER = ("owner",)


@blp.route("")
class Listings(MethodView):
    @blp.response(200, ListingSchema(many=True))
    @api_auth(blp, *OWNER)
    def get(self) -> list[dict[str, Any]]:
        """List my listings (an admin sees every owner's)."""
        return [queries.listing_view(loc) for loc in services.list_listings(current_user())]

    @blp.response(201, ListingSchema)
    @api_auth(blp, *OWNER)
    @blp.arguments(ListingInSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Create a listing; the response carries the charger's OCPP password, once."""
        created = services.create_listing(current_user(), data)
        return queries.listing_view(created.location, created.station.password)


NOT_FOUND = blp.alt_response(404, response="NOT_FOUND")
# A paid listing is published only when its owner's payout account is ready.
PAYOUTS_NOT_READY = blp.alt_response(409, response="CONFLICT")


@blp.route("/<int:listing_id>")
class ListingById(MethodView):
    @blp.response(200, ListingSchema)
    @NOT_FOUND
    @api_auth(blp, *OWNER)
    def get(self, listing_id: int) -> dict[str, Any]:
        """Read one of my listings."""
        return queries.listing_view(services.get_listing(current_user(), listing_id))

    @blp.response(200, ListingSchema)
    @NOT_FOUND
    @api_auth(blp, *OWNER)
    @blp.arguments(ListingUpdateSchema)
    def patch(self, changes: dict[str, Any], listing_id: int) -> dict[str, Any]:
        """Change a listing; lists given (evses, availability, blackouts) replace the old ones."""
        location = services.update_listing(current_user(), listing_id, changes)
        return queries.listing_view(location)

    @blp.response(204)
    @NOT_FOUND
    @api_auth(blp, *OWNER)
    def delete(self, listing_id: int) -> None:
        """Remove a listing (kept for history, no longer offered)."""
        services.remove_listing(current_user(), listing_id)


@blp.route("/<int:listing_id>/publish")
class Publish(MethodView):
    @blp.response(200, ListingSchema)
    @NOT_FOUND
    @PAYOUTS_NOT_READY
    @api_auth(blp, *OWNER)
    def post(self, listing_id: int) -> dict[str, Any]:
        """Publish a listing to drivers and roaming partners (paid ones need payouts set up)."""
        return queries.listing_view(services.set_published(current_user(), listing_id, True))


@blp.route("/<int:listing_id>/unpublish")
class Unpublish(MethodView):
    @blp.response(200, ListingSchema)
    @NOT_FOUND
    @api_auth(blp, *OWNER)
    def post(self, listing_id: int) -> dict[str, Any]:
        """Take a listing off the market."""
        return queries.listing_view(services.set_published(current_user(), listing_id, False))
