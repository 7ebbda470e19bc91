"""Tariffs Sender interface (CPO): the paginated list."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from app.ocpi.pagination import page_request, page_response, paged
from app.ocpi.tariffs import queries
from app.ocpi.tariffs.serialise import tariff_to_ocpi
from app.ocpi.transport import VERSION_RULE, ocpi_endpoint
from app.tariffs.models import Tariff

blp = Blueprint("ocpi_tariffs", __name__, url_prefix=f"/ocpi/cpo/{VERSION_RULE}/tariffs")


@blp.get("")
@ocpi_endpoint("tariffs")
def list_tariffs(version: str) -> ResponseReturnValue:
    """List own tariffs, oldest change first."""
    page = page_request()
    rows, total = paged(queries.published_tariffs(), Tariff, page)
    return page_response([tariff_to_ocpi(t, version) for t in rows], rows, total, page)
