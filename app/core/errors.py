"""Domain errors and their mapping to HTTP problem JSON (RFC 9457)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, make_response, render_template, request
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

    def __init__(self, detail: str = "", retry_after: int = 1) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after


class ValidationFailed(DomainError):
    """Input that is well-formed but breaks a rule; errors maps each field to its messages."""

    status = 422
    title = "Unprocessable content"

    def __init__(self, errors: dict[str, Any], detail: str = "Invalid input") -> None:
        super().__init__(detail, errors=flatten_errors(errors))
        self.errors = self.extra["errors"]


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
    app.register_error_handler(HTTPException, http_error_response)


def _domain_error(error: DomainError) -> Response:
    response = problem(error.status, error.title, error.detail, **error.extra)
    if isinstance(error, TooManyRequests):
        response.headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, Unauthorized):
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


# Machine interfaces answer problem JSON; every other path is a page a person looks at.
MACHINE_PREFIXES = ("/api/", "/ocpi", "/webhooks/", "/healthz", "/ocpp")


def is_page_request() -> bool:
    """Tell whether the request is for a page (HTML errors) rather than an API (problem JSON)."""
    if request.path.startswith(MACHINE_PREFIXES):
        return False
    # Browsers name text/html; scripts and API clients (no Accept, */*, JSON) keep problem JSON.
    return any(value == "text/html" for value, _ in request.accept_mimetypes)


def http_error_response(error: HTTPException) -> Response:
    """An HTTP error as an HTML page for pages, as problem JSON for machine interfaces."""
    if is_page_request():
        page = render_template("error.html", title=error.name, detail=error.description)
        response = make_response(page, error.code or 500)
        for name, value in error.get_headers():
            if name.lower() == "allow":  # a 405 still says which methods the page takes
                response.headers[name] = value
        return response
    return http_problem(error)


def http_problem(error: HTTPException) -> Response:
    """Problem JSON for an HTTP error, with its field errors and headers."""
    extra: dict[str, Any] = {}
    data = getattr(error, "data", None)
    if isinstance(data, dict) and "messages" in data:
        # webargs/smorest put per-location field errors here; flatten json/query to one map.
        extra["errors"] = _flatten_messages(data["messages"])
        # Same title and detail as ValidationFailed: clients see one shape for every 422.
        if error.code == ValidationFailed.status:
            return problem(error.code, ValidationFailed.title, "Invalid input", **extra)
    status = error.code or 500
    response = problem(status, error.name, error.description or "", **extra)
    return with_error_headers(response, error)


def with_error_headers(response: Response, error: HTTPException) -> Response:
    """Keep the headers an HTTP error carries (Allow on 405, Retry-After...) on our body."""
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _flatten_messages(messages: dict[str, Any]) -> dict[str, list[str]]:
    flat: dict[str, list[str]] = {}
    for location_errors in messages.values():
        if isinstance(location_errors, dict):
            flat.update(flatten_errors(location_errors))
    return flat or flatten_errors(messages)


def flatten_errors(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten nested marshmallow errors to dotted paths, e.g. "evses.0.connectors.0.standard"."""
    if not isinstance(errors, dict):
        messages = errors if isinstance(errors, list) else [errors]
        return {prefix or "_schema": [str(message) for message in messages]}
    flat: dict[str, list[str]] = {}
    for key, value in errors.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        flat.update(flatten_errors(value, path))
    return flat
