"""The compiled fast path loads what marshmallow loads, and defers whatever it is unsure of."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from marshmallow import ValidationError

from app.ocpi import errors
from app.ocpi.schemas.fastload import Unsure, compile_schema
from app.ocpi.schemas.locations import LOCATION
from app.ocpi.schemas.received import load_received
from app.ocpi.schemas.tariffs import TARIFF
from tests.ocpi.test_emsp_receivers import location_body, tariff_body


def rich_location() -> dict[str, Any]:
    body = location_body()
    body.update(
        directions=[{"language": "en", "text": "Behind the station"}],
        facilities=["HOTEL"],
        parking_type="ON_STREET",
        opening_times={
            "twentyfourseven": False,
            "regular_hours": [{"weekday": 1, "period_begin": "08:00", "period_end": "20:00"}],
            "exceptional_closings": [
                {"period_begin": "2026-12-25T00:00:00Z", "period_end": "2026-12-26T00:00:00Z"}
            ],
        },
        operator={"name": "ChargeX", "website": "https://chargex.example"},
        images=[{"url": "https://x/1.jpg", "category": "OPERATOR", "type": "jpeg", "width": 10}],
        energy_mix={
            "is_green_energy": True,
            "energy_sources": [{"source": "WIND", "percentage": 100}],
        },
        charging_when_closed=False,
    )
    body["evses"][0]["status_schedule"] = [
        {"period_begin": "2026-03-01T10:00:00Z", "status": "BLOCKED"}
    ]
    body["evses"][0]["coordinates"] = {"latitude": "52.370010", "longitude": "4.895010"}
    return body


def rich_tariff() -> dict[str, Any]:
    body = tariff_body()
    body["elements"].append(
        {
            "price_components": [{"type": "TIME", "price": 2, "step_size": 60}],
            "restrictions": {"start_time": "08:00", "day_of_week": ["MONDAY"], "max_power": 11.5},
        }
    )
    body.update(
        min_price={"excl_vat": 1, "incl_vat": 1.21},
        tariff_alt_text=[{"language": "en", "text": "x"}],
    )
    return body


def _mutations(body: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for change in (
        lambda b: b.pop("country_code"),
        lambda b: b.update(publish=1) if "publish" in b else b.update(currency=5),
        lambda b: b.update(country_code="DEU"),
        lambda b: b.update(last_updated="yesterday"),
        lambda b: b.update(id="x" * 37),
        lambda b: b.update(elements=[]) if "elements" in b else b["evses"][0].update(status="ON"),
        lambda b: (
            b["evses"][0]["connectors"][0].update(max_voltage="230")
            if "evses" in b
            else b["elements"][0]["price_components"][0].update(price="0.4")
        ),
        lambda b: (
            b["evses"][0].update(connectors=[])
            if "evses" in b
            else b["elements"][0]["price_components"][0].update(step_size=True)
        ),
    ):
        mutated = copy.deepcopy(body)
        change(mutated)
        out.append(mutated)
    return out


@pytest.mark.parametrize("version", ["2.2.1", "2.3.0"])
@pytest.mark.parametrize("kind", ["location", "tariff"])
def test_fast_path_agrees_with_marshmallow(kind, version):
    schema = (LOCATION if kind == "location" else TARIFF)[version]()
    body = rich_location() if kind == "location" else rich_tariff()
    if kind == "tariff" and version == "2.3.0":
        body.update(tax_included="YES", min_price={"before_taxes": 1, "after_taxes": 1.21})
    fast = compile_schema(schema)
    assert fast(copy.deepcopy(body)) == schema.load(copy.deepcopy(body))
    # As peers send it: nulls and fields of their own, at every level.
    sloppy = copy.deepcopy(body)
    sloppy.update(extra_field={"a": 1}, tariff_alt_url=None, name=None)
    for item in sloppy.get("evses", sloppy.get("elements")):
        item.update(vendor=None, something="else")
    assert fast(copy.deepcopy(sloppy)) == schema.load(copy.deepcopy(sloppy))
    for mutated in _mutations(body):
        try:
            expected = schema.load(copy.deepcopy(mutated))
        except ValidationError:
            expected = None
        try:
            got = fast(copy.deepcopy(mutated))
        except Unsure:
            got = None  # deferred to marshmallow
        # Never accepts what marshmallow refuses; never loads differently.
        assert got is None or got == expected
        # And through the receivers' entry point, the answer is marshmallow's.
        if expected is None:
            with pytest.raises(errors.InvalidParameters):
                load_received(schema, mutated)
        else:
            assert load_received(schema, mutated) == expected
