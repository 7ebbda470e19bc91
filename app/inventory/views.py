"""Owner portal pages."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from app.inventory import services

blp = Blueprint("inventory_web", __name__)


@blp.get("/owner/listings")
@login_required
def my_listings() -> ResponseReturnValue:
    """The owner's listings with their stations."""
    if current_user.role not in ("owner", "admin"):
        abort(403)
    return render_template(
        "inventory/my_listings.html", listings=services.list_listings(current_user)
    )
