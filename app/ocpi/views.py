"""Operator pages of the OCPI platform: partners and the state of their pulls (admin role)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from app.accounts.auth import page
from app.core.clock import utcnow
from app.core.web import html_errors
from app.extensions import db
from app.ocpi import pull
from app.ocpi.hubparty import queries as hub_queries
from app.ocpi.hubparty import services as hubparty
from app.ocpi.models import OcpiPartner, SyncStatus

blp = Blueprint("ocpi_web", __name__, url_prefix="/admin/ocpi")
html_errors(blp)
ADMIN = "admin"


@blp.get("/partners")
@page(ADMIN)
def partners() -> ResponseReturnValue:
    """Each partner CPO's pulls (status, progress, failures, next attempt) and hub settings."""
    syncs = pull.sync_states()
    running = any(sync.status == SyncStatus.RUNNING for sync in syncs)
    hubs = [
        (hub, hubparty.rules_for(hub), hub_queries.parties_behind(hub))
        for hub in hub_queries.hub_partners()
    ]
    return render_template(
        "ocpi/partners.html", syncs=syncs, running=running, now=utcnow(), hubs=hubs
    )


@blp.post("/partners/<int:partner_id>/sync")
@page(ADMIN)
def sync_now(partner_id: int) -> ResponseReturnValue:
    """Ask for a full pull of a partner at the next job round."""
    partner = db.session.get(OcpiPartner, partner_id)
    if partner is None:
        abort(404, description=f"No partner {partner_id}")
    pull.request_full_sync(partner)
    flash(f"A full pull of {partner.name} starts with the next job round.", "success")
    return redirect(url_for(".partners"))
