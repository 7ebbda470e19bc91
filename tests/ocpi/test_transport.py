"""Transport: the envelope, status codes, token parsing and the tracing/routing headers."""

from __future__ import annotations

import base64
import re

from tests.ocpi.conftest import token_header

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")


def test_success_envelope_has_exactly_the_spec_fields(client, make_partner):
    _, token = make_partner()
    reply = client.get("/ocpi/versions", headers=token_header(token))
    body = reply.get_json()
    assert reply.status_code == 200
    assert set(body) == {"data", "status_code", "timestamp"}
    assert body["status_code"] == 1000 and TIMESTAMP.match(body["timestamp"])
    assert [v["version"] for v in body["data"]] == ["2.2.1", "2.3.0"]


def test_version_details_list_every_module_and_role(client, make_partner):
    _, token = make_partner()
    for version in ("2.2.1", "2.3.0"):
        data = client.get(f"/ocpi/{version}", headers=token_header(token)).get_json()["data"]
        assert data["version"] == version
        pairs = {(e["identifier"], e["role"]) for e in data["endpoints"]}
        common = {
            ("credentials", "SENDER"),
            ("credentials", "RECEIVER"),
            ("locations", "SENDER"),
            ("tariffs", "SENDER"),
            ("sessions", "SENDER"),
            ("cdrs", "SENDER"),
            ("tokens", "RECEIVER"),
            ("commands", "RECEIVER"),
            ("chargingprofiles", "RECEIVER"),
            ("sessions", "RECEIVER"),
            ("cdrs", "RECEIVER"),
            ("tokens", "SENDER"),
            ("commands", "SENDER"),
            # PlugPool as eMSP.
            ("locations", "RECEIVER"),
            ("tariffs", "RECEIVER"),
            # PlugPool as a party behind another hub: the hub PUTs ClientInfo.
            ("hubclientinfo", "RECEIVER"),
        }
        # The Bookings module exists in 2.3.0 only.
        booking = {("Booking", "SENDER"), ("Booking", "RECEIVER")}
        assert pairs == common | (booking if version == "2.3.0" else set())
        assert all(f"/{version}/" in e["url"] for e in data["endpoints"])


def test_missing_or_unknown_token_is_401_with_an_envelope(client):
    for headers in ({}, token_header("nope"), {"Authorization": "Bearer x"}):
        reply = client.get("/ocpi/versions", headers=headers)
        assert reply.status_code == 401
        assert reply.get_json()["status_code"] == 2000


def test_request_and_correlation_ids_are_echoed_or_minted(client, make_partner):
    _, token = make_partner()
    headers = {**token_header(token), "X-Request-ID": "req-1", "X-Correlation-ID": "corr-1"}
    reply = client.get("/ocpi/versions", headers=headers)
    assert reply.headers["X-Request-ID"] == "req-1"
    assert reply.headers["X-Correlation-ID"] == "corr-1"
    minted = client.get("/ocpi/versions", headers=token_header(token))
    assert len(minted.headers["X-Request-ID"]) == 36


def test_functional_modules_answer_with_routing_headers(client, make_partner, own_party):
    _, token = make_partner()
    headers = {
        **token_header(token),
        "OCPI-from-country-code": "DE",
        "OCPI-from-party-id": "EMS",
        "OCPI-to-country-code": "NL",
        "OCPI-to-party-id": "PLG",
    }
    reply = client.get("/ocpi/cpo/2.2.1/locations", headers=headers)
    assert reply.headers["OCPI-from-country-code"] == "NL"
    assert reply.headers["OCPI-from-party-id"] == "PLG"
    assert reply.headers["OCPI-to-country-code"] == "DE"
    assert reply.headers["OCPI-to-party-id"] == "EMS"
    # Configuration modules are not routed.
    assert "OCPI-from-party-id" not in client.get("/ocpi/versions", headers=headers).headers


def test_raw_tokens_only_from_partners_configured_for_them(client, make_partner):
    _, strict = make_partner()
    _, lenient = make_partner(raw_tokens=True, roles=(("EMSP", "DE", "RAW"),))

    def status(value: str) -> int:
        return client.get("/ocpi/versions", headers={"Authorization": f"Token {value}"}).status_code

    assert status(strict) == 401
    assert status(lenient) == 200
    assert status(base64.b64encode(lenient.encode()).decode()) == 200


def test_unknown_ocpi_url_and_wrong_method_answer_with_envelopes(client, make_partner):
    _, token = make_partner()
    missing = client.get("/ocpi/cpo/2.2.1/nothing", headers=token_header(token))
    assert missing.status_code == 404 and missing.get_json()["status_code"] == 2000
    wrong = client.delete("/ocpi/versions", headers=token_header(token))
    assert wrong.status_code == 405 and "status_code" in wrong.get_json()
    unsupported = client.get("/ocpi/2.1.1", headers=token_header(token))
    assert unsupported.status_code == 404
    # Outside /ocpi the JSON API keeps problem+json.
    assert client.get("/nowhere").mimetype == "application/problem+json"


def test_body_that_is_not_json_is_400_with_2001(client, make_partner):
    _, token = make_partner()
    reply = client.put(
        "/ocpi/cpo/2.2.1/tokens/DE/EMS/T1",
        data="{not json",
        headers={**token_header(token), "Content-Type": "application/json"},
    )
    assert reply.status_code == 400
    assert reply.get_json()["status_code"] == 2001


def test_an_unexpected_failure_is_500_with_3000_not_an_html_page(client, make_partner, monkeypatch):
    from app.ocpi.locations import api

    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(api, "page_request", broken)
    _, token = make_partner()
    reply = client.get("/ocpi/cpo/2.2.1/locations", headers=token_header(token))
    assert reply.status_code == 500
    assert reply.mimetype == "application/json"
    assert reply.get_json()["status_code"] == 3000
    assert "fire" not in reply.get_data(as_text=True)
