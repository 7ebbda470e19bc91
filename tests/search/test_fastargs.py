"""The fast path of the search query string gives what the schema gives, or stands aside."""

from __future__ import annotations

import itertools
from urllib.parse import urlencode

import pytest
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request

from app.search import fastargs
from app.search.schemas import SearchArgsSchema

BASE = {"lat": "52.37", "lon": "4.895", "radius_m": "25000"}
VARIANTS = {
    "lat": ["52.37", "-90", "90", "90.5", "1e1", " 52", "nan", "", "52,3"],
    "lon": ["4.895", "-180", "180.0001", "abc"],
    "radius_m": ["25000", "0", "200000", "200001", "0.5"],
    "connector": [None, "IEC_62196_T2", "IEC_62196_T2,CHADEMO", " CHADEMO ,", "BOGUS", ""],
    "min_power_kw": [None, "11", "7.4", "0", "-1", "x", ""],
    "available_from": [None, "2026-11-23T10:00:00Z", "2026-11-23T10:00+01:00", "2026-11-23T10:00"],
    "available_to": [None, "2026-11-23T12:00:00Z", "2026-11-23T09:00:00Z", "2026-12-23T12:00:00Z"],
    "limit": [None, "20", "1", "100", "101", "0", "x"],
}


def _queries() -> list[MultiDict]:
    queries = []
    for key, values in VARIANTS.items():
        for value in values:
            args = {**BASE, key: value} if value is not None else dict(BASE)
            queries.append(MultiDict({k: v for k, v in args.items() if v is not None}))
    window = itertools.product(VARIANTS["available_from"], VARIANTS["available_to"])
    for start, end in window:
        args = {**BASE, "connector": "IEC_62196_T2", "min_power_kw": "11"}
        args.update({k: v for k, v in (("available_from", start), ("available_to", end)) if v})
        queries.append(MultiDict(args))
    queries.append(
        MultiDict([*BASE.items(), ("connector", "CHADEMO"), ("connector", "DOMESTIC_F")])
    )
    queries.append(MultiDict({**BASE, "count": "true"}))  # not a key of the fast path
    queries.append(MultiDict({"bbox": "4,52,5,53"}))
    return queries


@pytest.mark.parametrize("args", _queries(), ids=lambda args: repr(list(args.items(multi=True))))
def test_the_fast_path_loads_the_same_criteria_as_the_schema_or_stands_aside(args):
    schema = SearchArgsSchema()
    fast = fastargs.criteria(args)
    try:
        # marshmallow itself, on what webargs hands it (repeated keys as lists)
        slow = super(SearchArgsSchema, schema).load(MultiDictProxy(args, schema))
    except Exception:  # the schema refuses: the fast path must not accept it
        assert fast is None
        return
    if fast is not None:
        # repr too: the cursor's fingerprint is the repr of the criteria's values.
        assert fast == slow and repr(fast) == repr(slow)


def test_the_usual_search_takes_the_fast_path():
    args = MultiDict(
        {
            **BASE,
            "connector": "IEC_62196_T2",
            "min_power_kw": "11",
            "available_from": "2026-11-23T10:00:00Z",
            "available_to": "2026-11-23T12:00:00Z",
        }
    )
    assert fastargs.criteria(args) is not None


RAW_QUERIES = [
    "lat=52.37&lon=4.895&radius_m=25000",
    "available_from=2026-11-23T10%3A00%3A00Z&available_to=2026-11-23T12%3A00%3A00%2B01%3A00",
    "connector=CHADEMO&connector=IEC_62196_T2%2CDOMESTIC_F&lat=1",
    "a=1&&b=2&",
    "a",
    "a=",
    "=x",
    "a=b=c",
    "x=%2b%2C%7e%7E",
    "lat=+52",
    "lat=52+",
    "x=%FF",
    "x=%E2%82%AC",
    "x=%00",
    "x=%1F",
    "x=a%2",
    "x=%zz",
    "x;y=1",
    "x=caf\u00e9",
    "x=a b",
    "",
]


@pytest.mark.parametrize("raw", RAW_QUERIES)
def test_a_plain_query_string_reads_as_werkzeug_reads_it(raw):
    expected = Request.from_values(query_string=raw).args
    found = fastargs.query_args(raw.encode())
    if found is None:  # not plain: request.args reads it
        return
    assert list(found) == list(expected)
    assert {key: found.getlist(key) for key in found} == expected.to_dict(flat=False)
    assert all(found.get(key) == expected.get(key) for key in expected)


def test_the_usual_query_string_is_read_without_werkzeugs_parser():
    params = {**BASE, "connector": "IEC_62196_T2", "available_from": "2026-11-23T10:00:00Z"}
    assert fastargs.query_args(urlencode(params).encode()) is not None
    assert fastargs.query_args(b"x=%2B01%3A00") == {"x": ["+01:00"]}


@pytest.mark.parametrize("args", _queries(), ids=lambda args: repr(list(args.items(multi=True))))
def test_a_request_loads_as_its_args_would(args):
    request = Request.from_values(query_string=urlencode(list(args.items(multi=True))))
    assert fastargs.from_request(request) == fastargs.criteria(args)
