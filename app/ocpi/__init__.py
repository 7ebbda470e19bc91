"""OCPI 2.2.1 / 2.3.0 platform: transport, versions, credentials, client and the CPO modules.

Plain Flask blueprints rather than a second smorest Api: every OCPI answer, errors included,
must be the OCPI envelope with the spec's HTTP and OCPI status codes, and smorest's own
response and error wrapping (problem JSON, 422s) would have to be undone on every route.
"""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from app.core.errors import http_error_response
from app.core.http import NulInInput


def init_app(app: Flask) -> None:
    """Answer routing errors and too large bodies under /ocpi with an OCPI envelope."""
    for code in (404, 405, 413):
        app.register_error_handler(code, _routing_error)
    app.register_error_handler(NulInInput, _routing_error)


def _routing_error(error: HTTPException) -> Response:
    from app.ocpi.transport import http_error

    if request.path == "/ocpi" or request.path.startswith("/ocpi/"):
        return http_error(error)
    return http_error_response(error)
