"""JSON API for accounts: sign-up, the caller's profile, bearer tokens."""

from __future__ import annotations

from typing import Any

from flask import Response, after_this_request, request
from flask.views import MethodView
from flask_smorest import Blueprint

from app.accounts import devices, services
from app.accounts.auth import api_auth, current_token, current_user
from app.accounts.models import User
from app.accounts.schemas import SignUpSchema, TokenRequestSchema, TokenSchema, UserSchema

blp = Blueprint("accounts", __name__, description="Accounts and API tokens")


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(SignUpSchema)
    @blp.response(201, UserSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data: dict[str, Any]) -> User:
        """Sign up as a driver or a charger owner."""
        return services.sign_up(data["email"], data["password"], data["name"], data["role"])


@blp.route("/users/me")
class Me(MethodView):
    @blp.response(200, UserSchema)
    @api_auth(blp)
    def get(self) -> User:
        """Return the calling user."""
        return current_user()


@blp.route("/auth/tokens")
class Tokens(MethodView):
    @blp.arguments(TokenRequestSchema)
    @blp.response(201, TokenSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Log in with e-mail and password; the token is shown once."""
        email = services.normalise_email(data["email"])
        issued = services.create_token(
            email,
            data["password"],
            request.remote_addr or "unknown",
            data["name"],
            known_device=devices.trusted_for(email),
        )
        record = issued.record

        @after_this_request
        def _remember_device(response: Response) -> Response:
            return devices.remember(response, record.user.email)

        return {"token": issued.token, "expires_at": record.expires_at, "user": record.user}

    @blp.response(204)
    @api_auth(blp)
    def delete(self) -> None:
        """Log out: revoke the bearer token of this request."""
        services.revoke_token(current_token())
