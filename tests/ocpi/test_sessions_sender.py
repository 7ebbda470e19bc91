"""Sessions and CDRs senders: a partner pages through the sessions of its own tokens only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, update

from app.charging.models import ChargingSession
from app.extensions import db as _db
from app.ocpi.models import OcpiBooking, OcpiChargingProfile, OcpiCommand
from app.ocpi.schemas.sessions import CDR, SESSION
from tests.ocpi.conformance import assert_exact
from tests.ocpi.conftest import token_header

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def sessions(make_session):
    """Three sessions of DE*EMS (two ended), one of NL*OTH, one of PlugPool's own driver."""
    ours = [make_session(signed=True), make_session(), make_session(ended=False)]
    theirs = make_session(token_party=("NL", "OTH"))
    own_driver = make_session(token_party=("NL", "PLG"))
    # Back-date last_updated one hour apart, oldest first (the flush hook stamps now).
    for n, session in enumerate([*ours, theirs, own_driver]):
        stamp = T0 + timedelta(hours=n)
        _db.session.execute(
            update(ChargingSession)
            .where(ChargingSession.id == session.id)
            .values(last_updated=stamp)
        )
    _db.session.flush()
    return ours, theirs, own_driver


def _get(client, token, url):
    reply = client.get(url, headers=token_header(token))
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return reply


def _pull(client, token, url):
    """Follow the Link headers; return every item and each page's X-Total-Count."""
    items, totals = [], []
    while url:
        reply = _get(client, token, url)
        items += reply.get_json()["data"]
        totals.append(reply.headers["X-Total-Count"])
        link = reply.headers.get("Link")
        url = None
        if link:
            parts = urlsplit(link.split(";")[0].strip("<>"))
            url = f"{parts.path}?{parts.query}"
    return items, totals


def test_a_partner_pages_through_its_tokens_sessions_only(client, make_partner, sessions):
    ours, _, _ = sessions
    _, token = make_partner()
    items, totals = _pull(client, token, "/ocpi/cpo/2.2.1/sessions?limit=2")
    assert [item["id"] for item in items] == [s.ocpi_id for s in ours]
    assert totals == ["3", "3"]
    for item in items:
        assert_exact(SESSION["2.2.1"](), item)
        assert item["cdr_token"]["party_id"] == "EMS"
    ended, _, running = items
    assert ended["status"] == "COMPLETED" and ended["total_cost"]["excl_vat"] > 0
    assert running["status"] == "ACTIVE" and "end_date_time" not in running
    assert running["location_id"] and running["evse_uid"] and running["connector_id"] == "1"
    window = "date_from=2026-03-01T01:00:00Z&date_to=2026-03-01T02:00:00Z"
    items, _ = _pull(client, token, f"/ocpi/cpo/2.3.0/sessions?{window}")
    assert [item["id"] for item in items] == [ours[1].ocpi_id]
    assert_exact(SESSION["2.3.0"](), items[0])
    assert set(items[0]["total_cost"]) <= {"before_taxes", "taxes"}


def test_cdrs_carry_signed_meter_data_in_both_versions(client, make_partner, sessions):
    ours, _, _ = sessions
    _, token = make_partner()
    for version in ("2.2.1", "2.3.0"):
        items, totals = _pull(client, token, f"/ocpi/cpo/{version}/cdrs?limit=1")
        assert totals == ["2", "2"]
        assert [item["id"] for item in items] == [f"CDR-{s.ocpi_id}" for s in ours[:2]]
        for item in items:
            assert_exact(CDR[version](), item)
        signed = items[0]["signed_data"]
        assert signed["encoding_method"] == "OCMF"
        assert signed["signed_values"][0]["signed_data"] == "SIGNED-BLOB"
        assert "signed_data" not in items[1]


FOREIGN_READS = [
    "/ocpi/cpo/2.2.1/sessions",
    "/ocpi/cpo/2.3.0/sessions",
    "/ocpi/cpo/2.2.1/cdrs",
    "/ocpi/cpo/2.3.0/cdrs",
    "/ocpi/cpo/2.3.0/bookings",
]


@pytest.mark.parametrize("url", FOREIGN_READS)
@pytest.mark.parametrize(
    "roles",
    [(("EMSP", "NL", "OTH"),), (("CPO", "DE", "EMS"),), (("EMSP", "FR", "XXX"),)],
    ids=["other-emsp", "same-party-as-cpo", "unknown-party"],
)
def test_a_foreign_party_reads_nothing_of_others(client, make_partner, sessions, url, roles):
    ours, theirs, own_driver = sessions
    _, token = make_partner(roles=roles)
    items, _ = _pull(client, token, url)
    others = {s.ocpi_id for s in [*ours, own_driver]} | {f"CDR-{s.ocpi_id}" for s in ours}
    assert not {item["id"] for item in items} & others
    if roles[0][1:] == ("NL", "OTH") and "bookings" not in url:
        assert {item["id"] for item in items} <= {theirs.ocpi_id, f"CDR-{theirs.ocpi_id}"}
        assert len(items) == 1


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_a_foreign_party_cannot_touch_others_sessions(client, make_partner, sessions, method):
    ours, _, _ = sessions
    running = ours[2]
    _, token = make_partner(roles=(("EMSP", "NL", "OTH"),))
    target = "http://127.0.0.1:9/ocpi/emsp/2.2.1/results/1"
    profile = {
        "response_url": target,
        "charging_profile": {
            "charging_rate_unit": "W",
            "charging_profile_period": [{"start_period": 0, "limit": 3000}],
        },
    }
    reply = client.open(
        f"/ocpi/cpo/2.2.1/chargingprofiles/{running.ocpi_id}?response_url={target}&duration=60",
        method=method,
        json=profile if method == "PUT" else None,
        headers=token_header(token),
    )
    assert reply.get_json()["data"] == {"result": "UNKNOWN_SESSION", "timeout": 0}
    stop = client.post(
        "/ocpi/cpo/2.2.1/commands/STOP_SESSION",
        json={"response_url": target, "session_id": running.ocpi_id},
        headers=token_header(token),
    )
    assert stop.get_json()["data"]["result"] == "UNKNOWN_SESSION"
    for model in (OcpiChargingProfile, OcpiCommand, OcpiBooking):
        assert _db.session.scalar(select(func.count()).select_from(model)) == 0
    _db.session.refresh(running)
    assert running.status == "ACTIVE" and running.is_open


def test_charging_preferences_are_answered_for_own_sessions_only(client, make_partner, sessions):
    ours, theirs, _ = sessions
    _, token = make_partner()
    preferences = {"profile_type": "FAST", "departure_time": "2030-01-01T10:00:00Z"}
    url = "/ocpi/cpo/2.2.1/sessions/{}/charging_preferences"
    mine = client.put(url.format(ours[2].ocpi_id), json=preferences, headers=token_header(token))
    assert mine.get_json()["data"] == "NOT_POSSIBLE"
    other = client.put(url.format(theirs.ocpi_id), json=preferences, headers=token_header(token))
    assert other.status_code == 404 and "data" not in other.get_json()
