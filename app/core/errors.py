"""Domain errors and their mapping to HTTP problem JSON (RFC 9457)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    """Base of every business-rule failure; carries an HTTP status for the JSON API edge."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"


class TooManyRequests(DomainError):
    status = 429
    title = "Too many requests"


class ValidationFailed(DomainError):
    """Input that is well-formed but breaks a rule; errors maps each field to its messages."""

    status = 422
    title = "Unprocessable content"

    def __init__(self, errors: dict[str, Any], detail: str = "Invalid input") -> None:
        super().__init__(detail, errors=errors)


def problem(status: int, title: str, detail: str = "", **extra: Any) -> Response:
    """Build a problem+json response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail or title}
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def register_error_handlers(app: Flask) -> None:
    """Map domain errors and HTTP errors to problem JSON."""
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(HTTPException, _http_error)


def _domain_error(error: DomainError) -> Response:
    return problem(error.status, error.title, error.detail, **error.extra)


def _http_error(error: HTTPException) -> Response:
    extra: dict[str, Any] = {}
    data = getattr(error, "data", None)
    if isinstance(data, dict) and "messages" in data:
        # webargs/smorest put per-location field errors here; flatten json/query to one map.
        extra["errors"] = _flatten_messages(data["messages"])
    status = error.code or 500
    return problem(status, error.name, error.description or "", **extra)


def _flatten_messages(messages: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for location_errors in messages.values():
        if isinstance(location_errors, dict):
            flat.update(location_errors)
    return flat or messages
