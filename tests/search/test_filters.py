"""Filters that change the answer: connector, power, AC/DC, network, publication, status."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.extensions import db
from app.inventory.models import Evse
from app.search import queries
from app.search.criteria import Window
from tests.search.conftest import uid

CHADEMO = {
    "standard": "CHADEMO",
    "format": "CABLE",
    "power_type": "DC",
    "max_voltage": 500,
    "max_amperage": 100,
    "max_electric_power": 50000,
}
SLOW_T2 = {"power_type": "AC_1_PHASE", "max_electric_power": 3700}
WINDOW = {"available_from": "2026-11-23T10:00:00Z", "available_to": "2026-11-23T12:00:00Z"}


def test_connector_standard_filter(place, found):
    type2 = place(1)
    chademo = place(2, connector=CHADEMO)
    assert found(connector="CHADEMO") == [uid(chademo)]
    assert found(connector="IEC_62196_T2") == [uid(type2)]
    assert found(connector="IEC_62196_T2,CHADEMO") == [uid(type2), uid(chademo)]
    assert found(connector=["CHADEMO", "IEC_62196_T2"]) == [uid(type2), uid(chademo)]


def test_minimum_power_filter(place, found):
    slow = place(1, connector=SLOW_T2)
    eleven = place(2)
    fast = place(3, connector=CHADEMO)
    assert found(min_power_kw="11") == [uid(eleven), uid(fast)]
    assert found(min_power_kw="22") == [uid(fast)]
    assert found(min_power_kw="3.7") == [uid(slow), uid(eleven), uid(fast)]


def test_power_without_declared_watts_is_volts_times_amps_times_phases(place, found):
    three_phase = place(1, connector={"max_electric_power": None, "max_amperage": 32})
    assert found(min_power_kw="22") == [uid(three_phase)]  # 230 V x 32 A x 3 = 22.08 kW
    assert found(min_power_kw="22.1") == []


def test_ac_dc_filter(place, found):
    ac = place(1)
    dc = place(2, connector=CHADEMO)
    assert found(current="DC") == [uid(dc)]
    assert found(current="AC") == [uid(ac)]


def test_connector_filters_must_hold_on_the_same_connector(place, found):
    place(1, connector=SLOW_T2)
    assert found(connector="IEC_62196_T2", min_power_kw="11") == []


def test_own_versus_roaming_network(place, make_party, found, search):
    own = place(1)
    partner = make_party(name="Partner CPO", country_code="DE", party_id="XYZ")
    roaming = place(2, country_code="DE", party_id="XYZ")
    assert found(network="own") == [uid(own)]
    assert found(network="roaming") == [uid(roaming)]
    body = search(lat=52.37, lon=4.895, radius_m=10_000).get_json()
    assert [r["network"] for r in body["results"]] == [
        {"name": "PlugPool", "own": True},
        {"name": partner.name, "own": False},
    ]


def test_unpublished_and_deleted_locations_are_never_found(place, found):
    listed = place(1)
    place(2, publish=False)
    place(3, deleted_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert found() == [uid(listed)]
    assert found(nearest=5) == [uid(listed)]


def test_removed_evses_are_never_found(place, found):
    listed = place(1)
    removed = place(2)
    removed.evses[0].status = "REMOVED"
    db.session.flush()
    assert found() == [uid(listed)]


def test_out_of_order_and_inoperative_evses_are_dropped_for_a_window(place, found):
    fine = place(1)
    broken = place(2)
    broken.evses[0].status = "OUTOFORDER"
    inoperative = place(3)
    inoperative.evses[0].status = "INOPERATIVE"
    charging = place(4)
    charging.evses[0].status = "CHARGING"
    db.session.flush()
    # Without a window the map still shows them, with their live status.
    assert found() == [uid(fine), uid(broken), uid(inoperative), uid(charging)]
    assert found(**WINDOW) == [uid(fine), uid(charging)]


def test_a_registered_unavailability_hook_drops_taken_evses(place, found):
    free = place(1)
    taken = place(2)
    seen: list[Window] = []

    def booked(window: Window):
        seen.append(window)
        return select(Evse.id).where(Evse.uid == uid(taken))

    queries.register_unavailability(booked)
    try:
        assert found(**WINDOW) == [uid(free)]
        assert found(**WINDOW) == [uid(free)]
        assert found() == [uid(free), uid(taken)]  # no window: nothing is booked against
    finally:
        queries.unregister_unavailability(booked)
    # Compiled once per statement shape, with the window as bind parameters.
    assert len(seen) == 1
    assert found(**WINDOW) == [uid(free), uid(taken)]


def test_live_status_is_reported(place, search):
    location = place(1)
    location.evses[0].status = "CHARGING"
    db.session.flush()
    result = search(lat=52.37, lon=4.895, radius_m=5_000).get_json()["results"][0]
    assert result["status"] == "CHARGING"
    assert result["evse"] == {
        "id": location.evses[0].id,
        "uid": uid(location),
        "evse_id": location.evses[0].evse_id,
        "status": "CHARGING",
    }
    assert result["location"]["id"] == location.id
    assert result["location"]["coordinates"] == {
        "latitude": str(location.latitude),
        "longitude": str(location.longitude),
    }
    assert result["connectors"] == [
        {
            "id": "1",
            "standard": "IEC_62196_T2",
            "format": "SOCKET",
            "power_type": "AC_3_PHASE",
            "power_kw": "11",
        }
    ]
