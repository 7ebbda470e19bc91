"""OCPI versions module: GET /ocpi/versions and the details of each version."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from app.ocpi import registry
from app.ocpi.transport import VERSION_RULE, current_partner, envelope, ocpi_endpoint

blp = Blueprint("ocpi_versions", __name__, url_prefix="/ocpi")


@blp.get("/versions")
@ocpi_endpoint("versions", token_a=True, registered=False)
def list_versions() -> ResponseReturnValue:
    """List the OCPI versions PlugPool serves."""
    return envelope(registry.versions())


@blp.get(f"/{VERSION_RULE}")
@ocpi_endpoint("versions", token_a=True, registered=False)
def version_details(version: str) -> ResponseReturnValue:
    """List the modules and interface roles of one version."""
    return envelope(registry.version_details(version, current_partner()))
