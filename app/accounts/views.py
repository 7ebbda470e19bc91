"""Pages: sign-up, log-in, log-out (flask-login sessions)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user

from app.accounts import devices, services
from app.core.errors import DomainError
from app.core.web import check_csrf, html_errors, safe_next

blp = Blueprint("accounts_web", __name__)
html_errors(blp)


@blp.get("/")
def home() -> ResponseReturnValue:
    """Landing page."""
    return render_template("home.html")


@blp.route("/signup", methods=["GET", "POST"])
def sign_up() -> ResponseReturnValue:
    """Sign up as a driver or an owner, then log in."""
    if request.method == "GET":
        return render_template("accounts/signup.html", form={})
    check_csrf()
    form = request.form
    try:
        user = services.sign_up(
            form.get("email", ""),
            form.get("password", ""),
            form.get("name", ""),
            form.get("role", "driver"),
        )
    except DomainError as error:
        return render_template("accounts/signup.html", form=form, error=error), error.status
    login_user(user)
    return redirect(url_for("accounts_web.home"))


@blp.route("/login", methods=["GET", "POST"])
def log_in() -> ResponseReturnValue:
    """Log in with e-mail and password (rate limited like the API)."""
    if request.method == "GET":
        return render_template("accounts/login.html", form={})
    check_csrf()
    form = request.form
    email = services.normalise_email(form.get("email", ""))
    try:
        user = services.log_in(
            email,
            form.get("password", ""),
            request.remote_addr or "unknown",
            known_device=devices.trusted_for(email),
        )
    except DomainError as error:
        return render_template("accounts/login.html", form=form, error=error), error.status
    login_user(user)
    return devices.remember(redirect(_safe_next() or url_for("accounts_web.home")), user.email)


@blp.post("/logout")
@login_required
def log_out() -> ResponseReturnValue:
    """End the session."""
    check_csrf()
    services.end_sessions(current_user._get_current_object())
    logout_user()
    return redirect(url_for("accounts_web.home"))


def _safe_next() -> str | None:
    return safe_next(request.args.get("next", ""))
