"""Pages: a driver's sessions on partner networks (live), starting one, receipts; the admin's
tariff audit of partner CDRs."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from app.accounts.auth import page, page_user
from app.charging import queries, roaming_views
from app.charging.services import roaming_commands as commands
from app.core.errors import DomainError
from app.core.web import html_errors

blp = Blueprint("roaming_web", __name__)
html_errors(blp)

DRIVER, ADMIN = "driver", "admin"


@blp.get("/roaming")
@page(DRIVER)
def my_roaming() -> ResponseReturnValue:
    """The driver's sessions on partner networks (live figures), commands and receipts."""
    driver_id = page_user().id
    sessions = roaming_views.driver_sessions(driver_id)
    recent = roaming_views.driver_commands(driver_id, limit=10)
    live = any(s["status"] in ("ACTIVE", "PENDING") for s in sessions) or any(
        c["status"] == commands.PENDING for c in recent
    )
    return render_template(
        "charging/roaming.html",
        sessions=sessions,
        commands=recent,
        receipts=roaming_views.driver_receipts(driver_id),
        refresh=live,
    )


@blp.get("/roaming/start/<int:evse_id>")
@page(DRIVER)
def start_form(evse_id: int) -> ResponseReturnValue:
    """What starting at this partner charger holds and costs, before the driver confirms."""
    location, evse, _ = commands.roaming_place(evse_id)
    terms = commands.quote_terms(evse_id)
    return render_template("charging/roaming_start.html", location=location, evse=evse, terms=terms)


@blp.post("/roaming/start/<int:evse_id>")
@page(DRIVER)
def start(evse_id: int) -> ResponseReturnValue:
    """Hold the estimate and ask the partner network to start."""
    try:
        command = commands.start_roaming_session(page_user(), evse_id, None)
    except DomainError as error:
        flash(error.detail, "error")
        return redirect(url_for(".start_form", evse_id=evse_id))
    status = commands.command_status(command)
    flash(f"Start sent to the network: {status.lower().replace('_', ' ')}.", "success")
    return redirect(url_for(".my_roaming"))


@blp.post("/roaming/sessions/<int:session_id>/stop")
@page(DRIVER)
def stop(session_id: int) -> ResponseReturnValue:
    """Ask the partner network to stop the driver's session."""
    try:
        commands.stop_roaming_session(page_user(), session_id)
        flash("Stop sent to the network.", "success")
    except DomainError as error:
        flash(error.detail, "error")
    return redirect(url_for(".my_roaming"))


@blp.post("/roaming/sessions/<int:session_id>/unlock")
@page(DRIVER)
def unlock(session_id: int) -> ResponseReturnValue:
    """Ask the partner network to unlock the connector of the driver's session."""
    try:
        commands.unlock_roaming_connector(page_user(), session_id)
        flash("Unlock sent to the network.", "success")
    except DomainError as error:
        flash(error.detail, "error")
    return redirect(url_for(".my_roaming"))


@blp.get("/admin/tariff-audit")
@page(ADMIN)
def tariff_audit() -> ResponseReturnValue:
    """Partner CDRs our engine priced differently, or that match no session or driver."""
    return render_template("charging/tariff_audit.html", cdrs=queries.flagged_cdrs())
