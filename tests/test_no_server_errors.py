"""Malformed input gets a 4xx in the interface's own terms, never a 500, on every route."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

import pytest

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


BEYOND_INT64 = str(2**63)
BEYOND_ID = str(2**31)
HUGE = "99999999999999999999999"


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_a_body_above_the_size_limit_is_413_in_each_interfaces_terms(
    app, client, make_user, bearer
):
    too_big = b'{"pad": "' + b"x" * app.config["MAX_CONTENT_LENGTH"] + b'"}'
    api = client.post(
        "/api/v1/users", data=too_big, content_type="application/json", headers=bearer(make_user())
    )
    assert api.status_code == 413 and api.mimetype == "application/problem+json"
    ocpi = client.put(
        "/ocpi/cpo/2.2.1/tokens/DE/EMS/T1",
        data=too_big,
        content_type="application/json",
        headers={"Authorization": f"Token {_ocpi_token()}"},
    )
    assert ocpi.status_code == 413 and ocpi.get_json()["status_code"] == 2000


def test_deeply_nested_json_is_2001_in_ocpi_and_400_in_the_api(app, client, make_user, bearer):
    ocpi = client.put(
        "/ocpi/cpo/2.2.1/tokens/DE/EMS/T1",
        data=_nested(5000),
        content_type="application/json",
        headers={"Authorization": f"Token {_ocpi_token()}"},
    )
    assert ocpi.status_code == 400 and ocpi.get_json()["status_code"] == 2001
    api = client.post(
        "/api/v1/bookings",
        data=_nested(5000),
        content_type="application/json",
        headers=bearer(make_user()),
    )
    assert api.status_code == 400 and api.mimetype == "application/problem+json"


def test_ids_beyond_64_bits_are_404_or_422(client, make_user, bearer):
    headers = bearer(make_user(role="admin"))
    for path in (
        f"/api/v1/bookings/{BEYOND_INT64}",
        f"/api/v1/listings/{BEYOND_INT64}",
        f"/api/v1/listings/{BEYOND_ID}",
        f"/api/v1/bookings/{BEYOND_INT64}/cancel",
        f"/chargers/{BEYOND_INT64}",
    ):
        method = "POST" if path.endswith("cancel") else "GET"
        assert client.open(path, method=method, headers=headers).status_code == 404, path
    for path in (
        f"/api/v1/bookings/owner?location_id={BEYOND_INT64}",
        f"/api/v1/bookings/owner?location_id={HUGE}",
        f"/api/v1/bookings/owner?location_id={BEYOND_ID}",
    ):
        assert client.get(path, headers=headers).status_code in {404, 422}, path
    body = {"evse_id": int(BEYOND_INT64), "starts_at": "2030-01-01T10:00:00Z"}
    body["ends_at"] = "2030-01-01T11:00:00Z"
    assert client.post("/api/v1/bookings", json=body, headers=headers).status_code in {404, 422}
    for path in ("/api/v1/roaming/sessions", "/api/v1/roaming/hubject/sessions"):
        roaming = client.post(path, json={"evse_id": int(BEYOND_ID)}, headers=headers)
        assert roaming.status_code in {404, 422}, path


@pytest.mark.parametrize(
    "query",
    [
        f"offset={HUGE}",
        f"limit={HUGE}",
        "cursor=not-a-cursor",
        f"offset=0&cursor=0.{HUGE}.1",
        f"offset=0&cursor=0.1.{HUGE}",
    ],
)
@pytest.mark.parametrize("module", ["locations", "tariffs", "sessions", "cdrs"])
def test_ocpi_out_of_range_paging_is_2001(client, module, query):
    headers = {"Authorization": f"Token {_ocpi_token()}"}
    response = client.get(f"/ocpi/cpo/2.2.1/{module}?{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status_code"] == 2001


@pytest.mark.parametrize("payment_method_id", ["pm_1/0", "pm_../../v1/x", "pm_1?x=1", "pm_ 1"])
def test_a_payment_method_id_that_is_not_an_id_is_422(client, make_user, bearer, payment_method_id):
    response = client.post(
        "/api/v1/payments/cards",
        json={"payment_method_id": payment_method_id},
        headers=bearer(make_user()),
    )
    assert response.status_code == 422
    assert "payment_method_id" in response.get_json()["errors"]
