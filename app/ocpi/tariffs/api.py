"""Tariffs Sender interface (CPO): the paginated list."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from app.core.replica import stale_reads_ok
from app.ocpi.pagination import page_query, page_request, page_response
from app.ocpi.tariffs import queries
from app.ocpi.tariffs.serialise import tariff_to_ocpi
from app.ocpi.transport import VERSION_RULE, ocpi_endpoint
from app.tariffs.models import Tariff

blp = Blueprint("ocpi_tariffs", __name__, url_prefix=f"/ocpi/cpo/{VERSION_RULE}/tariffs")


@blp.get("")
@stale_reads_ok
@ocpi_endpoint("tariffs")
def list_tariffs(version: str) -> ResponseReturnValue:
    """List own tariffs, oldest change first."""
    page = page_request()
    keys, total = page_query(Tariff, queries.published_filters(), page)
    tariffs = queries.tariffs_in(keys)
    return page_response([tariff_to_ocpi(t, version) for t in tariffs], tariffs, total, page)
