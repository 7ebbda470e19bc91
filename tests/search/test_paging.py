"""Keyset pagination with an opaque cursor, and the total count on request."""

from __future__ import annotations

from tests.search.conftest import CENTER, add_slots, uid

AREA = {"lat": CENTER[0], "lon": CENTER[1], "radius_m": 50_000}


def walk(search, **params) -> list[str]:
    """Follow next_cursor to the end and return every EVSE uid seen, in order."""
    seen, cursor = [], None
    while True:
        query = {**AREA, **params}
        if cursor:
            query["cursor"] = cursor
        body = search(**query).get_json()
        seen += [result["evse"]["uid"] for result in body["results"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


def test_cursor_pages_cover_every_result_exactly_once(make_location, search, found):
    # Several EVSEs per location share one distance: the EVSE id breaks the tie.
    for km in (1, 2, 2.5, 4, 7, 9):
        make_location(lat=f"{CENTER[0] + km / 111.2:.6f}", lon=f"{CENTER[1]:.6f}", evses=3)
    everything = found()
    assert len(everything) == 18
    assert walk(search, limit=4) == everything
    assert walk(search, limit=1) == everything
    assert walk(search, limit=18) == everything


def test_pages_with_python_side_filters_still_cover_everything(place, search, found):
    window = {"available_from": "2026-11-23T08:00:00Z", "available_to": "2026-11-23T09:00:00Z"}
    kept = []
    for km in range(1, 16):
        location = place(km)
        # Every third location is closed on Mondays, so batches shrink after filtering.
        add_slots(location, (2 if km % 3 == 0 else 1, "08:00", "12:00"))
        if km % 3:
            kept.append(uid(location))
    assert found(**window) == kept
    assert walk(search, limit=2, **window) == kept


def test_count_only_when_asked(place, search):
    for km in range(1, 6):
        place(km)
    plain = search(**AREA, limit=2).get_json()
    assert "count" not in plain
    counted = search(**AREA, limit=2, count="true").get_json()
    assert counted["count"] == 5
    assert len(counted["results"]) == 2
    filtered = search(**AREA, limit=2, count="true", max_price="1").get_json()
    assert filtered["count"] == 0


def test_a_cursor_from_another_search_is_refused(place, search):
    for km in range(1, 4):
        place(km)
    cursor = search(**AREA, limit=1).get_json()["next_cursor"]
    response = search(**{**AREA, "radius_m": 20_000}, limit=1, cursor=cursor)
    assert response.status_code == 422
    assert "cursor" in response.get_json()["errors"]
    garbage = search(**AREA, cursor="not-a-cursor")
    assert garbage.status_code == 422
    assert "cursor" in garbage.get_json()["errors"]


def test_nearest_has_no_further_pages(place, search):
    for km in range(1, 4):
        place(km)
    body = search(lat=CENTER[0], lon=CENTER[1], nearest=2).get_json()
    assert [r["evse"]["uid"] for r in body["results"]] and body["next_cursor"] is None
    assert len(body["results"]) == 2


def test_nearest_widens_until_enough_chargers_pass_the_filters(place, found):
    closed = [place(km) for km in (1, 2, 3, 4)]
    for location in closed:
        add_slots(location, (2, "08:00", "12:00"))
    open_ = [place(km) for km in (5, 6)]
    window = {"available_from": "2026-11-23T08:00:00Z", "available_to": "2026-11-23T09:00:00Z"}
    assert found(nearest=2, **window) == [uid(location) for location in open_]


def test_pages_cover_locations_at_exactly_the_same_distance(make_location, search, found):
    # Two listings in one building: same point, same distance, several EVSEs each.
    for _ in range(4):
        make_location(lat="52.380000", lon="4.895000", evses=2)
    make_location(lat="52.390000", lon="4.895000", evses=3)
    everything = found()
    assert len(everything) == 11
    for limit in (1, 2, 3, 5):
        assert walk(search, limit=limit) == everything
    window = {"available_from": "2026-11-23T08:00:00Z", "available_to": "2026-11-23T09:00:00Z"}
    assert walk(search, limit=3, **window) == everything
