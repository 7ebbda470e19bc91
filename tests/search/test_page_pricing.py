"""A page's pricing works out its connector filter and tariff versions once, with the same
results as testing and looking up each connector on its own."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from itertools import combinations, product
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.extensions import db
from app.search import services
from app.search.criteria import SearchCriteria, Window
from app.search.pricing import versions_of
from app.search.queries import ConnectorRow
from tests.search.conftest import CENTER, energy_tariff

STANDARDS = ["IEC_62196_T2", "IEC_62196_T2_COMBO", "CHADEMO", "DOMESTIC_F"]
POWER_TYPES = ["AC_1_PHASE", "AC_2_PHASE", "AC_3_PHASE", "DC"]

WATTS = [2300, 3700, 6999, 7000, 7001, 7400, 11000, 22000, 50000, 150000]
MIN_KW = [None, "7", "7.0005", "6.999", "11", "0.5", "50", "150.1"]


def test_the_page_filter_keeps_the_connectors_each_test_keeps():
    # Every combination, boundaries included (a power equal to the minimum passes).
    rows = [
        ConnectorRow("1", standard, "SOCKET", power_type, watts, ("T1",), None)
        for standard, power_type, watts in product(STANDARDS, POWER_TYPES, WATTS)
    ]
    subsets = [
        tuple(sorted(chosen))
        for size in range(len(STANDARDS) + 1)
        for chosen in combinations(STANDARDS, size)
    ]
    for standards, min_kw, current in product(subsets, MIN_KW, [None, "AC", "DC"]):
        wanted = SearchCriteria(
            lat=CENTER[0],
            lon=CENTER[1],
            radius_m=5_000.0,
            standards=standards,
            min_power_kw=None if min_kw is None else Decimal(min_kw),
            current=current,
        )
        matches = services.connector_filter(wanted)
        assert [matches(row) for row in rows] == [
            services.connector_matches(wanted, row) for row in rows
        ], wanted


@given(
    st.sampled_from(["NL", "DE"]),
    st.sampled_from(["PLG", "ION"]),
    st.lists(st.tuples(st.integers(1, 10**6), st.sampled_from(["T1", "T2", "T 3|x"])), max_size=4),
)
def test_tariff_versions_are_the_pairs_of_their_lines(country, party, tariffs):
    stamp = "2026-11-23 10:00:00+00"
    lines = "\n".join(f"{pk}|{stamp}|{ocpi_id}" for pk, ocpi_id in tariffs) or None
    expected: dict[Any, Any] = {}
    for pk, ocpi_id in tariffs:
        expected[(country, party, ocpi_id)] = (pk, stamp)
    pairs = versions_of(country, party, lines)
    assert isinstance(pairs, tuple)
    assert dict(pairs) == expected
    assert versions_of(country, party, lines) is pairs  # cached: one parse per distinct text


def test_one_tariff_id_of_two_networks_prices_each_with_its_own(
    place, make_tariff, make_party, search
):
    # Both networks call their tariff "SAME"; a page mixing them must not mix the versions.
    make_party(country_code="DE", party_id="ION", name="Ionic", is_own=False)
    energy_tariff(make_tariff, "0.30", ocpi_id="SAME")
    energy_tariff(make_tariff, "0.50", ocpi_id="SAME", country_code="DE", party_id="ION")
    own = [place(km, connector={"tariff_ids": ["SAME"]}) for km in (0.5, 1.5, 2.5)]
    roaming = [
        place(km, country_code="DE", party_id="ION", connector={"tariff_ids": ["SAME"]})
        for km in (1.0, 2.0)
    ]
    db.session.flush()
    window = {"available_from": "2026-11-23T10:00:00Z", "available_to": "2026-11-23T12:00:00Z"}
    body = search(lat=CENTER[0], lon=CENTER[1], radius_m=5_000, **window).get_json()
    amounts = {result["evse"]["uid"]: result["quote"]["amount_minor"] for result in body["results"]}
    # 2 h at 11 kW = 22 kWh: 6.60 EUR at 0.30, 11.00 EUR at 0.50.
    assert {location.evses[0].uid: 660 for location in own} == {
        location.evses[0].uid: amounts[location.evses[0].uid] for location in own
    }
    assert {location.evses[0].uid: 1100 for location in roaming} == {
        location.evses[0].uid: amounts[location.evses[0].uid] for location in roaming
    }


def test_page_quotes_are_the_quotes_of_each_result_priced_alone(place, make_tariff):
    dear, cheap = energy_tariff(make_tariff, "0.60"), energy_tariff(make_tariff, "0.20")
    for km, ids, watts in (
        (0.5, [dear.ocpi_id], 11000),
        (1.0, [cheap.ocpi_id], 7400),
        (1.5, [dear.ocpi_id, cheap.ocpi_id], 22000),
        (2.0, [cheap.ocpi_id], 3700),
    ):
        place(km, connector={"tariff_ids": ids, "max_electric_power": watts})
    db.session.flush()
    start = datetime(2026, 11, 23, 10, tzinfo=UTC)
    for min_kw in (None, Decimal("7"), Decimal("7.4"), Decimal("11")):
        wanted = SearchCriteria(
            lat=CENTER[0],
            lon=CENTER[1],
            radius_m=5_000,
            standards=("IEC_62196_T2",),
            min_power_kw=min_kw,
            window=Window(start, start.replace(hour=12)),
        )
        page = services.search_chargers(wanted)
        assert page.results
        for result in page.results:
            alone = services.SearchResult(result.row, result.connectors)
            services._price(wanted, page.quote_window, [alone])
            assert alone.quote == result.quote
