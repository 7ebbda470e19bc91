"""Tokens Receiver: eMSPs push, patch and read their tokens; identifiers and parties are checked."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.ocpi.models import Token
from tests.ocpi.conftest import token_header

URL = "/ocpi/cpo/2.2.1/tokens/DE/EMS/012345678"


def token_body(**overrides):
    body = {
        "country_code": "DE",
        "party_id": "EMS",
        "uid": "012345678",
        "type": "RFID",
        "contract_id": "DE8ACC12E46L89",
        "visual_number": "DF000-2001-8999-1",
        "issuer": "TheNewMotion",
        "group_id": "DF000-2001-8999",
        "valid": True,
        "whitelist": "ALLOWED",
        "language": "it",
        "default_profile_type": "GREEN",
        "energy_contract": {"supplier_name": "Greenpeace Energy eG", "contract_id": "0123456789"},
        "last_updated": "2018-12-10T17:25:10Z",
    }
    body.update(overrides)
    return body


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Token))


def test_put_creates_then_replaces_and_get_returns_it(client, make_partner):
    _, token = make_partner()
    created = client.put(URL, json=token_body(), headers=token_header(token))
    assert created.status_code == 201 and created.get_json()["status_code"] == 1000
    replaced = client.put(URL, json=token_body(whitelist="NEVER"), headers=token_header(token))
    assert replaced.status_code == 200
    got = client.get(URL, headers=token_header(token)).get_json()["data"]
    assert got == token_body(whitelist="NEVER")
    assert _count() == 1


def test_patch_updates_fields_and_requires_last_updated(client, make_partner):
    _, token = make_partner()
    client.put(URL, json=token_body(), headers=token_header(token))
    refused = client.patch(URL, json={"valid": False}, headers=token_header(token))
    assert refused.status_code == 200 and refused.get_json()["status_code"] == 2001
    assert client.get(URL, headers=token_header(token)).get_json()["data"]["valid"] is True
    patch = {"valid": False, "last_updated": "2019-06-19T02:11:11Z"}
    assert (
        client.patch(URL, json=patch, headers=token_header(token)).get_json()["status_code"] == 1000
    )
    got = client.get(URL, headers=token_header(token)).get_json()["data"]
    assert got["valid"] is False and got["last_updated"] == "2019-06-19T02:11:11Z"


def test_patch_or_get_of_an_unknown_token_is_2004(client, make_partner):
    _, token = make_partner()
    patch = {"valid": False, "last_updated": "2019-06-19T02:11:11Z"}
    reply = client.patch(URL, json=patch, headers=token_header(token))
    assert reply.status_code == 404 and reply.get_json()["status_code"] == 2004
    assert client.get(URL, headers=token_header(token)).get_json()["status_code"] == 2004


def test_body_identifiers_must_match_the_url(client, make_partner):
    _, token = make_partner()
    for override in ({"uid": "OTHER"}, {"party_id": "XXX"}, {"country_code": "FR"}):
        reply = client.put(URL, json=token_body(**override), headers=token_header(token))
        assert reply.get_json()["status_code"] == 2001, override
    reply = client.put(f"{URL}?type=APP_USER", json=token_body(), headers=token_header(token))
    assert reply.get_json()["status_code"] == 2001
    assert _count() == 0


def test_invalid_token_objects_are_2001_and_nothing_is_written(client, make_partner):
    _, token = make_partner()
    for bad in (token_body(whitelist="SOMETIMES"), token_body(valid="yes"), {"uid": "012345678"}):
        reply = client.put(URL, json=bad, headers=token_header(token))
        assert reply.status_code == 200 and reply.get_json()["status_code"] == 2001
    assert _count() == 0


def test_type_query_parameter_selects_the_token(client, make_partner):
    _, token = make_partner()
    client.put(URL, json=token_body(), headers=token_header(token))
    app_user = token_body(type="APP_USER", whitelist="NEVER")
    assert (
        client.put(f"{URL}?type=APP_USER", json=app_user, headers=token_header(token)).status_code
        == 201
    )
    rfid = client.get(URL, headers=token_header(token)).get_json()["data"]
    app = client.get(f"{URL}?type=APP_USER", headers=token_header(token)).get_json()["data"]
    assert (rfid["type"], app["type"]) == ("RFID", "APP_USER")
    assert app["whitelist"] == "NEVER"
