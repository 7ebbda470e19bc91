"""Where: radius, rectangle and nearest-N, nearest first, on PostGIS."""

from __future__ import annotations

from sqlalchemy import text

from app.search import queries
from app.search.criteria import SearchCriteria
from tests.search.conftest import CENTER, north, uid


def test_radius_finds_only_chargers_inside_it_nearest_first(place, found):
    far = place(30)
    near = place(1)
    middle = place(10)
    assert found(radius_m=20_000) == [uid(near), uid(middle)]
    assert found(radius_m=40_000) == [uid(near), uid(middle), uid(far)]


def test_distance_is_in_metres(place, search):
    place(10)
    body = search(lat=CENTER[0], lon=CENTER[1], radius_m=20_000).get_json()
    # 10 km / 111.2 km per degree north; great-circle metres, within 0.3 % of the ellipsoid.
    assert 9_950 < body["results"][0]["distance_m"] < 10_050


def test_bbox_keeps_what_lies_in_the_rectangle(place, make_location, found):
    inside = place(2)
    north_of_box = place(12)
    east_of_box = make_location(lat=north(2), lon="5.200000")
    box = f"4.80,{CENTER[0] - 0.05},4.99,{north(5)}"
    assert found(bbox=box) == [uid(inside)]
    assert uid(north_of_box) not in found(bbox="4.80,52.30,5.30,52.45")
    assert uid(east_of_box) in found(bbox="4.80,52.30,5.30,52.45")


def test_bbox_orders_by_distance_from_its_centre(place, found):
    first = place(0)
    second = place(3)
    box = f"4.80,{north(2)},4.99,{north(4)}"  # centre at 3 km north
    assert found(bbox=f"4.80,{north(-1)},4.99,{north(4)}") == [uid(first), uid(second)]
    assert found(bbox=box) == [uid(second)]


def test_nearest_returns_the_n_nearest_in_order(place, found):
    locations = [place(km) for km in (7, 3, 120, 1, 15)]
    by_distance = [uid(locations[i]) for i in (3, 1, 0, 4, 2)]
    assert found(nearest=3) == by_distance[:3]
    assert found(nearest=5) == by_distance


def test_nearest_walks_the_gist_index_with_knn(db, app, place):
    place(1)
    db.execute(text("ANALYZE locations"))  # statistics, so the planner weighs the KNN scan
    criteria = SearchCriteria(lat=CENTER[0], lon=CENTER[1], nearest=5)
    stmt = queries._filtered(criteria, queries.spatial(), 5)
    compiled = stmt.compile(db, compile_kwargs={"literal_binds": True})
    db.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(db.execute(text(f"EXPLAIN {compiled}")).scalars())
    assert "ix_locations_geog" in plan
    assert "Order By: (geog <->" in plan


def test_radius_query_uses_the_gist_index(db, app, place):
    place(1)
    # Far-away rows and fresh statistics make the radius selective, as in production; on a
    # one-row table the planner may rather scan another index of locations (ocpi's partial one).
    for km in range(100, 140):
        place(km)
    db.execute(text("ANALYZE locations"))
    criteria = SearchCriteria(lat=CENTER[0], lon=CENTER[1], radius_m=25_000)
    stmt = queries.near_statement(criteria, None, 20)
    compiled = stmt.compile(db, compile_kwargs={"literal_binds": True})
    db.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(db.execute(text(f"EXPLAIN {compiled}")).scalars())
    assert "ix_locations_geog" in plan


def test_bbox_edges_follow_the_parallels_not_great_circles(make_location, found):
    # A great circle from (50 N, 0 E) to (50 N, 20 E) bulges to about 50.5 N at 10 E, so
    # an undensified geography rectangle would leave out this point just inside the box.
    inside = make_location(lat="50.050000", lon="10.000000")
    outside = make_location(lat="49.990000", lon="10.000000")
    assert found(bbox="0,50,20,55") == [uid(inside)]
    assert uid(outside) in found(bbox="0,49,20,55")


def test_openapi_documents_the_search(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    parameters = {p["name"] for p in spec["paths"]["/api/v1/chargers"]["get"]["parameters"]}
    assert {"lat", "lon", "radius_m", "bbox", "nearest", "available_from", "cursor"} <= parameters
