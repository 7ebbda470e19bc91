"""GET /api/v1/chargers: geographic search over the one inventory."""

from __future__ import annotations

from flask import Response, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from app.search import services
from app.search.criteria import SearchCriteria
from app.search.schemas import ChargerPageSchema, SearchArgsSchema, page_json

blp = Blueprint("search", __name__, description="Find chargers near a place, priced")


@blp.route("")
class Chargers(MethodView):
    @blp.arguments(SearchArgsSchema, location="query", as_kwargs=False)
    @blp.response(200, ChargerPageSchema)
    def get(self, criteria: SearchCriteria) -> Response:
        """Search chargers by distance, with filters and a price quote."""
        page = services.search_chargers(criteria)
        return jsonify(page_json(page, criteria))
