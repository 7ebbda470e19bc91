"""The hub operator's pages (admin role): parties, traffic, routing rules, the message log."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.accounts.auth import page
from app.core.errors import ValidationFailed
from app.core.web import html_errors
from app.extensions import db
from app.ocpi.hub import queries, rules, status
from app.ocpi.models import OcpiPartner

blp = Blueprint("hub_web", __name__, url_prefix="/admin/hub")
html_errors(blp)
ADMIN = "admin"


def _party(partner_id: int) -> OcpiPartner:
    partner = db.session.get(OcpiPartner, partner_id)
    if partner is None or not partner.hub_member:
        abort(404)
    return partner


@blp.get("")
@page(ADMIN)
def parties() -> ResponseReturnValue:
    """Every party on the hub with its status and traffic over the last hour and day."""
    return render_template("hub/parties.html", rows=queries.overview())


@blp.get("/parties/<int:partner_id>")
@page(ADMIN)
def party(partner_id: int) -> ResponseReturnValue:
    """One party: endpoints, rules, suspend/resume, and its latest messages."""
    partner = _party(partner_id)
    row = next(r for r in queries.overview() if r["partner"].id == partner.id)
    recent = queries.recent_messages(50, partner.id)
    return render_template("hub/party.html", row=row, partner=partner, messages=recent)


@blp.post("/parties/<int:partner_id>/suspend")
@page(ADMIN)
def suspend(partner_id: int) -> ResponseReturnValue:
    """Suspend a party: nothing is routed to or from it."""
    status.suspend(_party(partner_id))
    flash("Party suspended: its ClientInfo SUSPENDED goes to the other parties.")
    return redirect(url_for("hub_web.party", partner_id=partner_id))


@blp.post("/parties/<int:partner_id>/resume")
@page(ADMIN)
def resume(partner_id: int) -> ResponseReturnValue:
    """Lift a party's suspension."""
    status.resume(_party(partner_id))
    flash("Party resumed.")
    return redirect(url_for("hub_web.party", partner_id=partner_id))


@blp.post("/parties/<int:partner_id>/rules")
@page(ADMIN)
def add_rule(partner_id: int) -> ResponseReturnValue:
    """Put a counter-party on the party's allow-list or deny-list."""
    partner = _party(partner_id)
    try:
        rules.add_rule(partner, request.form.get("kind", ""), request.form.get("party", ""))
    except ValidationFailed as error:
        problems = "; ".join(m for found in error.errors.values() for m in found)
        flash(f"Rule not added: {problems}", "error")
    return redirect(url_for("hub_web.party", partner_id=partner_id))


@blp.post("/parties/<int:partner_id>/rules/remove")
@page(ADMIN)
def remove_rule(partner_id: int) -> ResponseReturnValue:
    """Take a counter-party off the party's lists."""
    rules.remove_rules(_party(partner_id), request.form.get("party", ""))
    return redirect(url_for("hub_web.party", partner_id=partner_id))


@blp.get("/messages")
@page(ADMIN)
def messages() -> ResponseReturnValue:
    """The routed-message log: metadata only, kept HUB_MESSAGE_RETENTION_DAYS."""
    names = {p.id: p.name for p in queries.members(registered_only=False)}
    return render_template(
        "hub/messages.html",
        messages=queries.recent_messages(500),
        names=names,
        retention=current_app.config["HUB_MESSAGE_RETENTION_DAYS"],
    )
