"""A partner reads and writes only under the parties it holds: module x foreign party."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.core.security import digest_token, new_token
from app.extensions import db
from app.ocpi.models import OcpiPartner, PartnerRole, Token
from tests.ocpi.conftest import token_header
from tests.ocpi.test_tokens_receiver import token_body

# (country_code, party_id): held by another partner as eMSP, held by nobody, held as CPO only.
FOREIGN = [("NL", "OTH"), ("FR", "XXX"), ("DE", "CPO")]


@pytest.fixture
def parties(make_partner):
    mine, token = make_partner(roles=(("EMSP", "DE", "EMS"), ("CPO", "DE", "CPO")))
    other, other_token = make_partner(roles=(("EMSP", "NL", "OTH"),))
    reply_put = token_body(country_code="NL", party_id="OTH", uid="OTHER1", valid=True)
    return mine, token, other, other_token, reply_put


def _tokens() -> list[tuple[str, str, str, bool]]:
    rows = db.session.scalars(select(Token).order_by(Token.id))
    return [(t.country_code, t.party_id, t.uid, t.valid) for t in rows]


@pytest.mark.parametrize(("country_code", "party_id"), FOREIGN)
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH"])
def test_tokens_under_a_foreign_party_are_refused_and_nothing_is_written(
    client, parties, method, country_code, party_id
):
    _, token, _, other_token, other_body = parties
    # The other partner's token exists, so a leak would be visible.
    client.put(
        "/ocpi/cpo/2.2.1/tokens/NL/OTH/OTHER1", json=other_body, headers=token_header(other_token)
    )
    before = _tokens()
    url = f"/ocpi/cpo/2.2.1/tokens/{country_code}/{party_id}/OTHER1"
    body = {
        "GET": None,
        "PUT": token_body(country_code=country_code, party_id=party_id, uid="OTHER1", valid=False),
        "PATCH": {"valid": False, "last_updated": "2030-01-01T00:00:00Z"},
    }[method]
    reply = client.open(url, method=method, json=body, headers=token_header(token))
    assert reply.status_code == 404
    assert reply.get_json()["status_code"] == 2000
    assert "data" not in reply.get_json()
    assert _tokens() == before


def test_registering_a_party_another_platform_holds_is_2001(client, parties):
    token_a = new_token()
    newcomer = OcpiPartner(name="newcomer", token_a_digest=digest_token(token_a))
    db.session.add(newcomer)
    db.session.flush()
    credentials = {
        "token": "newcomer-b",
        "url": "http://127.0.0.1:9/ocpi/versions",
        "roles": [
            {
                "role": "EMSP",
                "party_id": "OTH",
                "country_code": "NL",
                "business_details": {"name": "Impostor"},
            }
        ],
    }
    reply = client.post("/ocpi/2.2.1/credentials", json=credentials, headers=token_header(token_a))
    assert reply.get_json()["status_code"] == 2001
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(PartnerRole)
            .where(PartnerRole.partner_id == newcomer.id)
        )
        == 0
    )


def test_foreign_cpo_locations_do_not_leak(client, parties, make_location, make_party):
    _, token, *_ = parties
    make_party(country_code="DE", party_id="CPO")
    theirs = make_location(country_code="DE", party_id="CPO")
    ours = make_location()
    listed = client.get("/ocpi/cpo/2.2.1/locations", headers=token_header(token)).get_json()
    assert [item["id"] for item in listed["data"]] == [ours.ocpi_id]
    one = client.get(f"/ocpi/cpo/2.2.1/locations/{theirs.ocpi_id}", headers=token_header(token))
    assert one.status_code == 404
