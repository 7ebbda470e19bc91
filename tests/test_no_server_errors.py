"""Malformed input gets a 4xx in the interface's own terms, never a 500, on every route."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

from app.core.security import digest_token, new_token
from app.extensions import db
from app.ocpi.models import OcpiPartner, PartnerRole, PartnerStatus

BODIES = [
    ("text/plain", b"not json"),
    ("application/json", b"{"),
    ("application/json", b"[]"),
    ("application/json", b"null"),
    ("application/json", b'{"unknown": 1}'),
    ("application/json", b'{"name": 5, "evses": "x", "price": [], "starts_at": 3, "evse_id": "z"}'),
]
QUERIES = [
    "lat=abc&lon=999&radius_m=-1&limit=999999&cursor=!!!&date_from=garbage&offset=-5",
    "date_from=2020-13-45T99:00:00Z&date_to=x&limit=0&offset=1e9",
    "lat=52&lon=4&radius_m=1000&available_from=2030-01-01T10:00:00&available_to=2030-01-01T09:00",
    "bbox=1,2,3&nearest=0&connector=FOO&min_power_kw=-3&max_price=abc&currency=XXXX",
    "lat=52&lon=4&radius_m=1000&cursor=WzY5OC4yLDEwXQ&count=maybe",
    "type=BOGUS&duration=-1&response_url=ftp://x",
]
# Stripe webhooks answer 400 on a bad signature; they are tested on their own.
SKIPPED = ("/static", "/webhooks")


def _routes(app: Any) -> Iterator[tuple[str, str]]:
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(SKIPPED):
            continue
        path = re.sub(
            r"<(?:[^:<>]+:)?([^<>]+)>",
            lambda m: "1" if "id" in m.group(1) else "XX",
            rule.rule,
        )
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, path


def _ocpi_token() -> str:
    token = new_token()
    partner = OcpiPartner(
        name="fuzz",
        status=PartnerStatus.REGISTERED.value,
        token_in_digest=digest_token(token),
        token_out="their-token",
        version="2.2.1",
    )
    partner.roles.append(
        PartnerRole(role="EMSP", country_code="DE", party_id="EMS", business_details={})
    )
    db.session.add(partner)
    db.session.flush()
    return base64.b64encode(token.encode()).decode()


def _requests(method: str, path: str) -> Iterator[dict[str, Any]]:
    if method in {"POST", "PUT", "PATCH"}:
        for content_type, body in BODIES:
            yield {"data": body, "content_type": content_type}
    elif method == "GET":
        yield {}
        for query in QUERIES:
            yield {"query_string": query}
    else:
        yield {}


def test_no_route_answers_500_to_malformed_input(app, client, make_user, bearer, make_location):
    make_location()
    api_headers = bearer(make_user(role="admin"))
    ocpi_headers = {"Authorization": f"Token {_ocpi_token()}"}
    failures = []
    for method, path in _routes(app):
        headers = ocpi_headers if path.startswith("/ocpi") else api_headers
        for request in _requests(method, path):
            response = client.open(path, method=method, headers=headers, **request)
            if response.status_code >= 500:
                failures.append((method, path, request, response.status_code))
    assert failures == []


def test_the_sweep_reaches_every_interface(app):
    prefixes = {path.split("/")[1] for _, path in _routes(app)}
    assert {"api", "ocpi", "healthz"} <= prefixes
