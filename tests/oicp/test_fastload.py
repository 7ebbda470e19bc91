"""OICP messages through the compiled fast path load as marshmallow loads them, or are deferred.

Every record below goes through the same two doors: the compiled loader (which may answer or
say Unsure, never anything else) and marshmallow. The fast path must never accept what the
schema refuses nor load differently; app.oicp.schemas.loading.load must answer exactly as
marshmallow does, error messages included.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError

from app.ocpi.schemas.fastload import Unsure
from app.oicp.schemas import charging, common, evse, loading, pricing
from tests.support.hubject_standin import dataset


def rich_record() -> dict[str, Any]:
    """A pulled record with every optional part OICP 2.3 defines, as the spec's example."""
    record = dataset.record(5, "update")
    record.update(
        ChargingPoolID="DE*HBB*P0001",
        ChargingStationId="ST-5",
        HardwareManufacturer="Acme",
        SubOperatorName=None,
        DynamicPowerLevel=True,
        EnergySource=[{"Energy": "Wind", "Percentage": 60}, {"Energy": "Solar"}],
        EnvironmentalImpact={"CO2Emission": 12.5, "NuclearWaste": 0},
        MaxCapacity=3,
        AdditionalInfo=[{"lang": "de-DE", "value": "Hinterhof"}],
        ChargingStationLocationReference=None,
        GeoChargingPointEntrance={"Google": {"Coordinates": "52.520008 13.404954"}},
        IsOpen24Hours=False,
        OpeningTimes=[
            {"Period": [{"begin": "08:00", "end": "20:00"}], "on": "Workdays"},
            {"Period": [{"begin": "10:00", "end": "14:00"}], "on": "Saturday"},
        ],
        HubOperatorID="DE*HUB",
        ClearinghouseID=None,
        SomethingNew={"from": "a later OICP"},
    )
    record["ChargingFacilities"].append(
        {"PowerType": "AC_1_PHASE", "Power": 3.7, "ChargingModes": ["Mode_3"], "Voltage": None}
    )
    record["Address"].update(Floor="-1", ParkingFacility=True, Region=None)
    return record


EXAMPLES: list[tuple[type[Schema], Any]] = [
    (evse.PullEvseDataRecord, dataset.record(0)),
    (evse.PullEvseDataRecord, dataset.record(1)),
    (evse.PullEvseDataRecord, rich_record()),
    (
        evse.PullEvseDataRecord,
        {
            **dataset.record(2),
            "GeoCoordinates": {
                "DegreeMinuteSeconds": {"Latitude": "52°31'12.03''", "Longitude": "13°24'17.8''"}
            },
        },
    ),
    (
        evse.EvseDataPage,
        {
            "content": [dataset.record(i) for i in range(2)],
            "number": 0,
            "size": 2,
            "totalElements": 9,
            "last": False,
            "totalPages": 3,
            "first": True,
            "numberOfElements": 2,
            "StatusCode": {"Code": "000", "Description": None},
        },
    ),
    (
        evse.PushEvseData,
        {
            "ActionType": "fullLoad",
            "OperatorEvseData": {
                "OperatorID": "DE*HBA",
                "OperatorName": "Alpha",
                "EvseDataRecord": [
                    {k: v for k, v in dataset.record(i).items() if k not in ("OperatorID",)}
                    for i in (0, 4)
                ],
            },
        },
    ),
    (
        evse.PushEvseStatus,
        {
            "ActionType": "update",
            "OperatorEvseStatus": {
                "OperatorID": "NL*PLG",
                "EvseStatusRecord": [{"EvseID": "NL*PLG*E1", "EvseStatus": "Occupied"}],
            },
        },
    ),
    (
        evse.EvseStatusAnswer,
        {
            "EvseStatuses": {
                "OperatorEvseStatus": [
                    {
                        "OperatorID": "DE*HBA",
                        "OperatorName": None,
                        "EvseStatusRecord": [{"EvseID": "DE*HBA*E1", "EvseStatus": "Available"}],
                    }
                ]
            },
            "StatusCode": {"Code": "000"},
        },
    ),
    (common.Acknowledgement, {"Result": True, "StatusCode": {"Code": "000"}, "SessionID": None}),
    (common.Identification, {"RFIDMifareFamilyIdentification": {"UID": "AABBCCDD"}}),
    (
        common.Identification,
        {"RemoteIdentification": {"EvcoID": "DE-EMP-C12345678-9"}, "RFIDIdentification": None},
    ),
]


def _marshmallow(schema: type[Schema], data: Any) -> tuple[bool, Any]:
    try:
        return True, schema().load(copy.deepcopy(data))
    except ValidationError as error:
        return False, error.messages


def assert_agree(schema: type[Schema], data: Any) -> bool:
    """Fast path and marshmallow agree on `data`; return whether the fast path answered."""
    ok, expected = _marshmallow(schema, data)
    _instance, fast = loading.compiled(schema)
    assert fast is not None, f"{schema.__name__} has no compiled loader"
    try:
        got = fast(copy.deepcopy(data))
    except Unsure:
        got = None
    if got is not None:
        assert ok, f"the fast path accepted what marshmallow refuses: {expected}"
        assert got == expected
    if ok:
        assert loading.load(schema, copy.deepcopy(data)) == expected
    else:
        with pytest.raises(ValidationError) as refused:
            loading.load(schema, copy.deepcopy(data))
        assert refused.value.messages == expected
    return got is not None


@pytest.mark.parametrize(("schema", "data"), EXAMPLES)
def test_examples_load_through_the_fast_path_as_marshmallow_loads_them(
    schema: type[Schema], data: Any
) -> None:
    assert assert_agree(schema, data)  # and the fast path answered itself, no deferring


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key)
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*path, index)
            yield from _paths(item, (*path, index))


def _set(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    changed = copy.deepcopy(data)
    target = changed
    for step in path[:-1]:
        target = target[step]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return changed


_DELETE = object()
WRONG = [
    _DELETE,
    None,
    True,
    7,
    -1,
    2.5,
    1000,
    "",
    "x" * 260,
    "Type 9 Outlet",
    "24.5",
    "true",
    [],
    [None],
    {},
    "UTC+1",
    "DE*HBA*E1",
]


@pytest.mark.parametrize("schema, data", [EXAMPLES[2], EXAMPLES[4]])
def test_every_field_made_wrong_is_refused_or_loaded_as_marshmallow_does(
    schema: type[Schema], data: Any
) -> None:
    answered = refused = 0
    for path in _paths(data):
        for value in WRONG:
            if value is _DELETE and isinstance(path[-1], int):
                continue
            changed = _set(data, path, value)
            answered += assert_agree(schema, changed)
            refused += not _marshmallow(schema, changed)[0]
    # Both kinds were exercised: many wrong values refused, harmless ones loaded fast.
    assert refused > 100 and answered > 100


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["Type 2 Outlet", "DC", "UTC+01:00", "DE*HBA*E0001", "08:00", "REMOTE"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)
RECORD = rich_record()
RECORD_PATHS = list(_paths(RECORD))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.lists(st.tuples(st.sampled_from(RECORD_PATHS), JSON), min_size=1, max_size=3))
def test_random_json_anywhere_in_a_record_agrees(changes: list[tuple[Any, Any]]) -> None:
    data = RECORD
    for path, value in changes:
        try:
            data = _set(data, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed the place
    assert_agree(evse.PullEvseDataRecord, data)


def test_decimal_power_loads_exactly() -> None:
    record = dataset.record(0)
    record["ChargingFacilities"][0]["Power"] = 150.7
    loaded = loading.load(evse.PullEvseDataRecord, record)
    assert loaded["ChargingFacilities"][0]["Power"] == Decimal("150.7")


def test_schemas_with_hooks_it_cannot_reproduce_still_load_with_marshmallow() -> None:
    body = {
        "SessionID": "b2688855-7f00-0002-6d8e-48d883f6abb6",
        "ProviderID": "DE-EMP",
        "EvseID": "NL*PLG*E1",
        "Identification": {"RemoteIdentification": {"EvcoID": "DE-EMP-C12345678-9"}},
        "EMPPartnerSessionId": "abc",  # a spelling the schema's pre_load hook corrects
    }
    assert loading.compiled(charging.AuthorizeRemoteStart)[1] is None
    assert loading.load(charging.AuthorizeRemoteStart, body)["EMPPartnerSessionID"] == "abc"


def test_the_bulk_messages_all_compile() -> None:
    """Pushes, pulls and their answers have a fast path (a schema change that loses it shows)."""
    hot = [
        evse.PushEvseData,
        evse.PushEvseStatus,
        evse.EvseDataPage,
        evse.EvseStatusAnswer,
        common.Acknowledgement,
        pricing.PushEvsePricing,
        pricing.EvsePricingAnswer,
    ]
    assert [s.__name__ for s in hot if loading.compiled(s)[1] is None] == []
    every = [
        c
        for module in (common, evse, pricing, charging)
        for c in vars(module).values()
        if inspect.isclass(c) and issubclass(c, Schema) and c.__module__ == module.__name__
    ]
    for schema in every:
        loading.compiled(schema)  # compiles or declines (TypeError), never crashes
