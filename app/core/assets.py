"""Third-party browser assets served by the app itself, from their PyPI packages.

Nothing a page needs comes from a CDN: the map (Leaflet, PyPI `xstatic-leaflet`, BSD-2-Clause)
and the API docs (Swagger UI, PyPI `swagger-ui-bundle`, Apache-2.0) work with no internet.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, send_from_directory
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound

blp = Blueprint("vendor", __name__, url_prefix="/vendor")

# A week: the files change only with the package version, which a deploy moves.
_MAX_AGE = 7 * 24 * 3600


def _leaflet_dir() -> Path:
    from xstatic.pkg import leaflet

    return Path(leaflet.BASE_DIR)


def _swagger_dir() -> Path:
    import swagger_ui_bundle

    return Path(swagger_ui_bundle.swagger_ui_path)


PACKAGES = {"leaflet": _leaflet_dir, "swagger-ui": _swagger_dir}


@blp.get("/<package>/<path:filename>")
def asset(package: str, filename: str) -> ResponseReturnValue:
    """Serve one file of a packaged browser library (send_from_directory refuses ../)."""
    folder = PACKAGES.get(package)
    if folder is None:
        raise NotFound()
    return send_from_directory(folder(), filename, max_age=_MAX_AGE)
