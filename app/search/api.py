"""GET /api/v1/chargers: geographic search over the one inventory."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from app.core.replica import stale_reads_ok
from app.search import services
from app.search.criteria import SearchCriteria
from app.search.schemas import ChargerPageSchema, SearchArgsSchema, dumps_page, page_json

blp = Blueprint("search", __name__, description="Find chargers near a place, priced")

# Parsing the query string is the same work every time: one schema instance, not one per call.
_ARGS = SearchArgsSchema()


@blp.route("")
class Chargers(MethodView):
    @stale_reads_ok
    @blp.arguments(_ARGS, location="query", as_kwargs=False)
    @blp.response(200, ChargerPageSchema)
    def get(self, criteria: SearchCriteria) -> Response:
        """Search chargers by distance, with filters and a price quote."""
        page = services.search_chargers(criteria)
        # page_json gives plain types (and UTC datetimes); orjson writes them several times
        # faster than the stdlib encoder behind jsonify.
        return Response(dumps_page(page_json(page, criteria)), mimetype="application/json")
