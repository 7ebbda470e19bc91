"""OCPI transport: the response envelope, token authentication and the routing/tracing headers."""

from __future__ import annotations

import base64
import binascii
import functools
import logging
import uuid
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, g, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from app.core.clock import iso_utc, utcnow
from app.core.db import json_dumps
from app.core.errors import DomainError, ValidationFailed, with_error_headers
from app.core.http import contains_nul
from app.core.logs import emits
from app.core.replica import read_primary
from app.core.security import digest_token
from app.extensions import db
from app.ocpi import errors
from app.ocpi.credentials.queries import TokenHolder
from app.ocpi.models import OcpiPartner, PartnerStatus

log = logging.getLogger("plugpool.ocpi")

SUCCESS = 1000
SUPPORTED_VERSIONS = ("2.2.1", "2.3.0")
# Werkzeug converter that limits routes to the versions we serve.
VERSION_RULE = "<any('2.2.1', '2.3.0'):version>"
CONFIGURATION_MODULES = frozenset({"versions", "credentials", "hubclientinfo"})


def ocpi_timestamp(value: Any = None) -> str:
    """Format a UTC datetime the OCPI way (RFC 3339, Z suffix)."""
    return iso_utc(value or utcnow())


def envelope(
    data: Any = None,
    status_code: int = SUCCESS,
    message: str | None = None,
    http_status: int = 200,
    headers: dict[str, str] | None = None,
    raw_data: str | None = None,
) -> Response:
    """Wrap data in the OCPI response format and add the tracing and routing headers.

    raw_data: `data` already serialised as JSON text (pages built by the database).
    """
    body: dict[str, Any] = {"status_code": status_code, "timestamp": ocpi_timestamp()}
    if data is not None:
        body["data"] = data
    if message:
        body["status_message"] = message
    # Decimal prices must stay JSON numbers (Flask's provider would write strings).
    text = json_dumps(body)
    if raw_data is not None:
        text = '{"data":' + raw_data + "," + text[1:]
    response = current_app.response_class(text, status=http_status, mimetype="application/json")
    response.headers.update(_trace_headers())
    response.headers.update(_routing_headers())
    response.headers.update(headers or {})
    return response


def error_envelope(error: errors.OcpiError) -> Response:
    """The envelope of an OCPI error."""
    return envelope(error.data, error.status_code, error.status_message, error.http_status)


def _trace_headers() -> dict[str, str]:
    request_id = request.headers.get("X-Request-ID") or str(uuid.uuid4())
    correlation_id = request.headers.get("X-Correlation-ID") or request_id
    return {"X-Request-ID": request_id, "X-Correlation-ID": correlation_id}


def _routing_headers() -> dict[str, str]:
    """Functional modules answer from the addressed party to the requesting one."""
    if getattr(g, "ocpi_module", None) in (None, *CONFIGURATION_MODULES):
        return {}
    config = current_app.config
    headers = {
        "OCPI-from-country-code": request.headers.get(
            "OCPI-to-country-code", config["OWN_COUNTRY_CODE"]
        ),
        "OCPI-from-party-id": request.headers.get("OCPI-to-party-id", config["OWN_PARTY_ID"]),
    }
    if request.headers.get("OCPI-from-party-id"):
        headers["OCPI-to-country-code"] = request.headers.get("OCPI-from-country-code", "")
        headers["OCPI-to-party-id"] = request.headers["OCPI-from-party-id"]
    return headers


def token_candidates(header: str | None) -> list[tuple[str, bool]]:
    """Tokens an Authorization header may carry: (base64-decoded, False) then (raw, True)."""
    scheme, _, value = (header or "").partition(" ")
    value = value.strip()
    if scheme.lower() != "token" or not value:
        return []
    candidates: list[tuple[str, bool]] = []
    try:
        decoded = base64.b64decode(value, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    if decoded.isprintable() and decoded:
        candidates.append((decoded, False))
    candidates.append((value, True))
    return candidates


def encode_token(token: str, raw: bool = False) -> str:
    """The Authorization header value for a token (Base64 unless the peer wants it raw)."""
    if raw:
        return f"Token {token}"
    return "Token " + base64.b64encode(token.encode()).decode("ascii")


def ocpi_endpoint(
    module: str, *, token_a: bool = False, registered: bool = True, hub: bool = False
) -> Callable:
    """Decorate an OCPI route: authenticate, record the headers, map errors to envelopes.

    token_a: TOKEN_A is accepted (credentials and versions only; elsewhere it gets a 401).
    registered: the caller must have finished the credentials exchange.
    hub: a route of the hub (/ocpi/hub): only parties on the hub get in, and they only there.
    """

    def decorate(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            g.ocpi_module = module
            try:
                if hub and registered and not token_a:
                    g.ocpi_partner_id = _authenticate_hub_party()
                else:
                    holder = _authenticate(token_a, registered, hub)
                    g.ocpi_partner_id = holder.id
                _record_request(module)
                if not hub:
                    _check_addressee(module)
                    _check_offered(module, holder)
                return view(*args, **kwargs)
            except errors.OcpiError as error:
                return error_envelope(error)
            except ValidationFailed as error:
                return error_envelope(errors.InvalidParameters(str(error.extra.get("errors"))))
            except DomainError as error:
                return error_envelope(_from_domain(error))
            except HTTPException:
                raise
            except Exception:
                log.exception("OCPI %s %s failed", request.method, request.path)
                return error_envelope(errors.ServerError())

        return wrapper

    return decorate


def _from_domain(error: DomainError) -> errors.OcpiError:
    if error.status == 404:
        return errors.UnknownObject(error.detail)
    if error.status == 403:
        return errors.ForeignParty(error.detail)
    return errors.OcpiError(error.detail)


def current_partner() -> OcpiPartner:
    """The authenticated partner's row, loaded only when a view needs it (authentication reads
    what it needs in one statement of its own)."""
    partner = g.get("ocpi_partner")
    if partner is None or partner.id != g.ocpi_partner_id:  # g may outlive a request (tests)
        partner = g.ocpi_partner = db.session.get(OcpiPartner, g.ocpi_partner_id)
    return partner


def _authenticate_hub_party() -> int:
    """A registered hub party's id, from the hub's routing table (no read beyond its version).

    Every change to a hub party's token or status writes a new routing version in its own
    transaction, so the table never accepts a token its version no longer holds. A token the
    table does not hold gets the full lookup (and its precise refusal).
    """
    from app.ocpi.hub import table

    routes = table.table()
    for token, raw in token_candidates(request.headers.get("Authorization")):
        member = routes.authenticate(digest_token(token), raw)
        if member is not None:
            g.ocpi_presented_token = token  # for GET credentials; never logged
            return member.id
    return _authenticate(False, True, True).id


def _authenticate(token_a_allowed: bool, registered: bool, hub: bool = False) -> TokenHolder:
    from app.ocpi.credentials.queries import holder_for_token

    match = None
    for token, raw in token_candidates(request.headers.get("Authorization")):
        match = holder_for_token(token, raw)
        if match:
            # Kept for GET credentials, which answers with the token in use; never logged.
            g.ocpi_presented_token = token
            break
    if match is None and read_primary():
        # A token issued a moment ago may not have reached the read replica yet.
        return _authenticate(token_a_allowed, registered, hub)
    if match is None:
        raise errors.Unauthorized()
    if match.hub_member != hub:
        # A hub party's token opens the hub only; a direct partner's token never opens it.
        raise errors.Unauthorized()
    if match.kind == "A" and not token_a_allowed:
        raise errors.Unauthorized("TOKEN_A is only valid on credentials and versions")
    if registered and match.status != PartnerStatus.REGISTERED:
        raise errors.Unauthorized("Credentials exchange not finished")
    return match


def _record_request(module: str) -> None:
    """Log who called what, with the tracing and routing headers (never the token)."""
    headers = request.headers
    g.ocpi_from = (headers.get("OCPI-from-country-code"), headers.get("OCPI-from-party-id"))
    if not emits(log, logging.INFO):
        return
    log.info(
        "OCPI in %s %s module=%s partner=%s request_id=%s correlation_id=%s from=%s/%s to=%s/%s",
        request.method,
        request.path,
        module,
        g.ocpi_partner_id,
        headers.get("X-Request-ID"),
        headers.get("X-Correlation-ID"),
        headers.get("OCPI-from-country-code"),
        headers.get("OCPI-from-party-id"),
        headers.get("OCPI-to-country-code"),
        headers.get("OCPI-to-party-id"),
    )


def _check_addressee(module: str) -> None:
    """A functional request addressed (OCPI-to) to a party PlugPool is not: 2001, nothing done.

    PlugPool is an end party here, not a router: the hub's 4001 (unknown receiver) is the
    hub's own answer, so the platform answers with the client error for a bad parameter.
    """
    if module in CONFIGURATION_MODULES:
        return
    country_code = request.headers.get("OCPI-to-country-code")
    party_id = request.headers.get("OCPI-to-party-id")
    if not country_code and not party_id:
        return
    config = current_app.config
    own = (config["OWN_COUNTRY_CODE"].upper(), config["OWN_PARTY_ID"].upper())
    if ((country_code or "").upper(), (party_id or "").upper()) != own:
        raise errors.InvalidParameters(
            f"OCPI-to {country_code}*{party_id} is not a party of this platform"
        )


def _check_offered(module: str, holder: TokenHolder) -> None:
    """A hub partner reaches only the roles of ours its settings offer it; else 2001."""
    if module in CONFIGURATION_MODULES or not holder.is_hub:
        return
    from app.ocpi.hubparty.services import rules_from, rules_offer
    from app.ocpi.registry import our_role

    role = our_role(request.path.removeprefix("/ocpi"))
    if role is not None and not rules_offer(rules_from(holder.name, holder.settings), role):
        raise errors.InvalidParameters(f"PlugPool's {role} role is not offered to this hub")


def json_body() -> Any:
    """The request's JSON body; a body that is not JSON is refused with HTTP 400."""
    data = request.get_json(silent=True)
    if data is None:
        raise errors.InvalidJson()
    if contains_nul(data):
        raise errors.InvalidParameters("Text must not contain NUL characters")
    return data


def http_error(error: HTTPException) -> Response:
    """Answer HTTP errors under /ocpi with an envelope (unknown URL, wrong method, bad JSON)."""
    codes = {404: errors.UnknownObject, 405: errors.MethodNotAllowed, 400: errors.InvalidJson}
    ocpi_error = codes.get(error.code or 500, errors.OcpiError)(error.description or "")
    ocpi_error.http_status = error.code or 500
    return with_error_headers(error_envelope(ocpi_error), error)
