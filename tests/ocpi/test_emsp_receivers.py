"""eMSP Locations and Tariffs receivers: partner CPOs push into the one inventory, scoped to
their own parties; bad input is refused with OCPI codes and writes nothing."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.inventory.models import Connector, Evse, Location
from app.ocpi import pull
from app.tariffs.models import Tariff
from tests.ocpi.conftest import token_header

BASE = "/ocpi/emsp/2.2.1/locations/DE/CPX"
TARIFFS = "/ocpi/emsp/2.2.1/tariffs/DE/CPX"
# Amsterdam, where tests/search/conftest.py searches.
LAT, LON = "52.370000", "4.895000"


def connector_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "id": "1",
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 16,
        "max_electric_power": 11000,
        "tariff_ids": ["T-AC"],
        "last_updated": "2026-03-01T10:00:00Z",
    }
    body.update(overrides)
    return body


def evse_body(uid: str = "E1", **overrides: Any) -> dict[str, Any]:
    body = {
        "uid": uid,
        "evse_id": f"DE*CPX*{uid}",
        "status": "AVAILABLE",
        "capabilities": ["RFID_READER"],
        "connectors": [connector_body()],
        "last_updated": "2026-03-01T10:00:00Z",
    }
    body.update(overrides)
    return body


def location_body(location_id: str = "LOC1", **overrides: Any) -> dict[str, Any]:
    body = {
        "country_code": "DE",
        "party_id": "CPX",
        "id": location_id,
        "publish": True,
        "name": "Partner hub",
        "address": "Dam 1",
        "city": "Amsterdam",
        "postal_code": "1012 JS",
        "country": "NLD",
        "coordinates": {"latitude": LAT, "longitude": LON},
        "evses": [evse_body("E1"), evse_body("E2")],
        "time_zone": "Europe/Amsterdam",
        "last_updated": "2026-03-01T10:00:00Z",
    }
    body.update(overrides)
    return body


def tariff_body(tariff_id: str = "T-AC", **overrides: Any) -> dict[str, Any]:
    body = {
        "country_code": "DE",
        "party_id": "CPX",
        "id": tariff_id,
        "currency": "EUR",
        "elements": [
            {"price_components": [{"type": "ENERGY", "price": 0.40, "vat": 21.0, "step_size": 1}]}
        ],
        "last_updated": "2026-03-01T09:00:00Z",
    }
    body.update(overrides)
    return body


@pytest.fixture
def cpo(make_partner):
    """A registered partner CPO holding DE*CPX, its party in the inventory; its token."""
    partner, token = make_partner(
        roles=(("CPO", "DE", "CPX"),),
        endpoints=(("locations", "SENDER", "http://cpo.test/locations"),),
    )
    partner.roles[0].business_details = {"name": "ChargeX"}
    pull.on_registered(partner)
    db.session.flush()
    return token_header(token)


@pytest.fixture
def other_cpo(make_partner):
    """A second partner CPO holding DE*OTH."""
    partner, token = make_partner(roles=(("CPO", "DE", "OTH"),))
    pull.on_registered(partner)
    db.session.flush()
    return token_header(token)


def _status(reply) -> tuple[int, int]:
    return reply.status_code, reply.get_json()["status_code"]


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _evse(uid: str) -> Evse:
    db.session.expire_all()
    return db.session.scalars(select(Evse).where(Evse.uid == uid)).one()


def _search(client) -> list[dict[str, Any]]:
    reply = client.get("/api/v1/chargers", query_string={"lat": LAT, "lon": LON, "radius_m": 500})
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()["results"]


def test_pushed_location_lands_in_the_inventory_and_the_search_with_the_partner_quote(client, cpo):
    assert _status(client.put(f"{TARIFFS}/T-AC", json=tariff_body(), headers=cpo)) == (200, 1000)
    assert _status(client.put(f"{BASE}/LOC1", json=location_body(), headers=cpo)) == (200, 1000)

    location = db.session.scalars(select(Location)).one()
    assert (location.country_code, location.party_id, location.ocpi_id) == ("DE", "CPX", "LOC1")
    assert location.owner_id is None and location.publish
    assert [e.uid for e in location.evses] == ["E1", "E2"]
    results = _search(client)
    assert [r["evse"]["uid"] for r in results] == ["E1", "E2"]
    assert results[0]["network"] == {"name": "ChargeX", "own": False}
    # The reference hour on an 11 kW connector: 11 kWh x 0.40 EUR + 21% VAT, by the one engine.
    quote = results[0]["quote"]
    assert quote["currency"] == "EUR" and quote["tariff_id"] == "T-AC"
    assert quote["amount_minor"] == 532

    got = client.get(f"{BASE}/LOC1/E1", headers=cpo).get_json()
    assert got["status_code"] == 1000 and got["data"]["evse_id"] == "DE*CPX*E1"


def test_evse_status_patch_is_live_in_search_and_an_older_one_is_ignored(client, cpo):
    client.put(f"{BASE}/LOC1", json=location_body(), headers=cpo)
    patch = {"status": "CHARGING", "last_updated": "2026-03-01T11:00:00Z"}
    assert _status(client.patch(f"{BASE}/LOC1/E1", json=patch, headers=cpo)) == (200, 1000)
    assert _evse("E1").status == "CHARGING"
    assert {r["evse"]["uid"]: r["status"] for r in _search(client)}["E1"] == "CHARGING"
    location = db.session.scalars(select(Location)).one()
    assert location.last_updated.isoformat().startswith("2026-03-01T11:00")

    older = {"status": "AVAILABLE", "last_updated": "2026-03-01T10:30:00Z"}
    assert _status(client.patch(f"{BASE}/LOC1/E1", json=older, headers=cpo)) == (200, 1000)
    assert _evse("E1").status == "CHARGING"
    # A whole Location older than the stored one is ignored too.
    stale = location_body(name="Old name", last_updated="2026-02-01T00:00:00Z")
    assert _status(client.put(f"{BASE}/LOC1", json=stale, headers=cpo)) == (200, 1000)
    db.session.expire_all()
    assert db.session.scalars(select(Location.name)).one() == "Partner hub"


def test_patch_of_an_object_we_do_not_hold_answers_2003(client, cpo):
    patch = {"status": "CHARGING", "last_updated": "2026-03-01T11:00:00Z"}
    assert _status(client.patch(f"{BASE}/NOPE/E1", json=patch, headers=cpo)) == (404, 2003)
    client.put(f"{BASE}/LOC1", json=location_body(), headers=cpo)
    assert _status(client.patch(f"{BASE}/LOC1/E9", json=patch, headers=cpo)) == (404, 2003)
    assert _status(client.patch(f"{BASE}/LOC1/E1/9", json=patch, headers=cpo)) == (404, 2003)
    # An EVSE PUT for an unknown Location as well: the CPO must send the Location.
    assert _status(client.put(f"{BASE}/NOPE/E1", json=evse_body(), headers=cpo)) == (404, 2003)
    assert _count(Location) == 1 and _count(Evse) == 2


@pytest.mark.parametrize(
    ("path", "method", "body"),
    [
        ("/LOC1/E1", "patch", {"status": "CHARGING"}),  # no last_updated
        ("/LOC1/E1", "patch", {"uid": "E2", "status": "CHARGING", "last_updated": "2026-04-01"}),
        ("/LOC1/E1", "patch", {"status": "ON_FIRE", "last_updated": "2026-04-01T00:00:00Z"}),
        ("/LOC1", "patch", {"id": "LOC2", "name": "x", "last_updated": "2026-04-01T00:00:00Z"}),
        ("/LOC1", "put", location_body(id="LOC2", last_updated="2026-04-01T00:00:00Z")),
        ("/LOC1", "put", location_body(party_id="OTH", last_updated="2026-04-01T00:00:00Z")),
        ("/LOC1/E1", "put", evse_body("E2", last_updated="2026-04-01T00:00:00Z")),
        ("/LOC1/E1/1", "put", connector_body(id="2", last_updated="2026-04-01T00:00:00Z")),
        ("/LOC1", "put", {**location_body(last_updated="2026-04-01T00:00:00Z"), "publish": "yes"}),
    ],
)
def test_bad_input_is_refused_with_2001_and_writes_nothing(client, cpo, path, method, body):
    client.put(f"{BASE}/LOC1", json=location_body(), headers=cpo)
    db.session.expire_all()
    before = (
        db.session.scalars(select(Location.last_updated)).one(),
        sorted(db.session.execute(select(Evse.uid, Evse.status, Evse.last_updated)).all()),
        _count(Connector),
    )
    reply = getattr(client, method)(f"{BASE}{path}", json=body, headers=cpo)
    assert _status(reply) == (200, 2001), reply.get_json()
    db.session.expire_all()
    after = (
        db.session.scalars(select(Location.last_updated)).one(),
        sorted(db.session.execute(select(Evse.uid, Evse.status, Evse.last_updated)).all()),
        _count(Connector),
    )
    assert after == before and _count(Location) == 1


def test_a_partner_cannot_write_objects_of_another_partners_party(client, cpo, other_cpo):
    body = location_body(party_id="OTH")
    foreign = client.put("/ocpi/emsp/2.2.1/locations/DE/OTH/LOC1", json=body, headers=cpo)
    assert _status(foreign) == (200, 2001)
    assert _count(Location) == 0
    # The party's own CPO may; then the first one can neither patch nor read it.
    own = client.put("/ocpi/emsp/2.2.1/locations/DE/OTH/LOC1", json=body, headers=other_cpo)
    assert _status(own) == (200, 1000)
    patch = {"status": "OUTOFORDER", "last_updated": "2026-05-01T00:00:00Z"}
    url = "/ocpi/emsp/2.2.1/locations/DE/OTH/LOC1/E1"
    assert _status(client.patch(url, json=patch, headers=cpo)) == (200, 2001)
    assert _status(client.get(url, headers=cpo)) == (200, 2001)
    tariff = client.put("/ocpi/emsp/2.2.1/tariffs/DE/OTH/T1", json=tariff_body("T1"), headers=cpo)
    assert _status(tariff) == (200, 2001)
    assert _evse("E1").status == "AVAILABLE" and _count(Tariff) == 0
    # An eMSP-only partner holds no CPO party at all.


def test_peers_nulls_and_unknown_fields_are_accepted(client, cpo):
    body = location_body(name=None, postal_code=None, opening_times=None, vendor_extension={"x": 1})
    body["evses"][0].update(floor_level=None, physical_reference=None, coordinates=None)
    body["evses"][0]["connectors"][0].update(terms_and_conditions=None, color="blue")
    assert _status(client.put(f"{BASE}/LOC1", json=body, headers=cpo)) == (200, 1000)
    location = db.session.scalars(select(Location)).one()
    assert location.name is None and location.evses[0].connectors[0].standard == "IEC_62196_T2"


def test_whole_location_without_an_evse_marks_it_removed_and_hidden(client, cpo):
    client.put(f"{BASE}/LOC1", json=location_body(), headers=cpo)
    newer = location_body(evses=[evse_body("E1")], last_updated="2026-03-02T00:00:00Z")
    assert _status(client.put(f"{BASE}/LOC1", json=newer, headers=cpo)) == (200, 1000)
    assert _evse("E2").status == "REMOVED" and _count(Evse) == 2
    assert [r["evse"]["uid"] for r in _search(client)] == ["E1"]

    removed = {"status": "REMOVED", "last_updated": "2026-03-03T00:00:00Z"}
    client.patch(f"{BASE}/LOC1/E1", json=removed, headers=cpo)
    assert _search(client) == []


def test_unpublished_partner_location_is_not_shown(client, cpo):
    client.put(f"{BASE}/LOC1", json=location_body(), headers=cpo)
    assert len(_search(client)) == 2
    patch = {"publish": False, "last_updated": "2026-03-02T00:00:00Z"}
    assert _status(client.patch(f"{BASE}/LOC1", json=patch, headers=cpo)) == (200, 1000)
    assert _search(client) == []


def test_connector_put_and_patch(client, cpo):
    client.put(f"{BASE}/LOC1", json=location_body(), headers=cpo)
    second = connector_body(id="2", standard="CHADEMO", power_type="DC", format="CABLE")
    second["last_updated"] = "2026-03-02T00:00:00Z"
    assert _status(client.put(f"{BASE}/LOC1/E1/2", json=second, headers=cpo)) == (200, 1000)
    patch = {"max_electric_power": 22000, "last_updated": "2026-03-03T00:00:00Z"}
    assert _status(client.patch(f"{BASE}/LOC1/E1/1", json=patch, headers=cpo)) == (200, 1000)
    evse = _evse("E1")
    assert {(c.ocpi_id, c.standard, c.max_electric_power) for c in evse.connectors} == {
        ("1", "IEC_62196_T2", 22000),
        ("2", "CHADEMO", 11000),
    }
    assert evse.last_updated.isoformat().startswith("2026-03-03")
    # A whole EVSE replaces its connector list.
    whole = evse_body("E1", last_updated="2026-03-04T00:00:00Z")
    assert _status(client.put(f"{BASE}/LOC1/E1", json=whole, headers=cpo)) == (200, 1000)
    assert [c.ocpi_id for c in _evse("E1").connectors] == ["1"]


def test_tariff_put_replace_and_delete(client, cpo):
    url = f"{TARIFFS}/T-AC"
    assert _status(client.put(url, json=tariff_body(), headers=cpo)) == (200, 1000)
    newer = tariff_body(currency="EUR", last_updated="2026-03-02T00:00:00Z")
    newer["elements"][0]["price_components"][0]["price"] = 0.5
    assert _status(client.put(f"{url}/", json=newer, headers=cpo)) == (200, 1000)
    got = client.get(url, headers=cpo).get_json()["data"]
    assert got["elements"][0]["price_components"][0]["price"] == 0.5
    assert _status(client.delete(url, headers=cpo)) == (200, 1000)
    assert db.session.scalars(select(Tariff.deleted_at)).one() is not None
    assert _status(client.get(url, headers=cpo))[1] != 1000
    assert _status(client.delete(f"{TARIFFS}/NOPE", headers=cpo))[1] != 1000
    bad = copy.deepcopy(tariff_body())
    bad["elements"] = []
    assert _status(client.put(url, json=bad, headers=cpo)) == (200, 2001)


def test_evse_patch_with_a_connectors_list_replaces_them(client, cpo):
    client.put(f"{BASE}/LOC1", json=location_body(), headers=cpo)
    connectors = [connector_body(id="9", standard="CHADEMO", power_type="DC", format="CABLE")]
    patch = {"connectors": connectors, "last_updated": "2026-03-05T00:00:00Z"}
    assert _status(client.patch(f"{BASE}/LOC1/E1", json=patch, headers=cpo)) == (200, 1000)
    evse = _evse("E1")
    assert [(c.ocpi_id, c.standard) for c in evse.connectors] == [("9", "CHADEMO")]
    assert evse.status == "AVAILABLE"


def test_credentials_name_plugpool_as_cpo_and_emsp_with_one_party(client, app):
    from app.ocpi import registry

    with app.test_request_context():
        roles = registry.own_roles("2.2.1")
    own = (app.config["OWN_COUNTRY_CODE"], app.config["OWN_PARTY_ID"])
    assert [(r["role"], r["country_code"], r["party_id"]) for r in roles] == [
        ("CPO", *own),
        ("EMSP", *own),
    ]


def test_location_patch_with_evses_stores_each_whole_evse(client, cpo):
    client.put(f"{BASE}/LOC1", json=location_body(), headers=cpo)
    added = evse_body("E3", status="PLANNED", last_updated="2026-03-06T00:00:00Z")
    patch = {"name": "Renamed", "evses": [added], "last_updated": "2026-03-06T00:00:00Z"}
    assert _status(client.patch(f"{BASE}/LOC1", json=patch, headers=cpo)) == (200, 1000)
    db.session.expire_all()
    location = db.session.scalars(select(Location)).one()
    assert location.name == "Renamed"
    assert {(e.uid, e.status) for e in location.evses} == {
        ("E1", "AVAILABLE"),
        ("E2", "AVAILABLE"),
        ("E3", "PLANNED"),
    }
