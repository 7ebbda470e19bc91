"""Version bridge: objects converted between 2.2.1 and 2.3.0 parties, in one place."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from app.core.db import json_loads
from app.ocpi.hub.bridge import convert
from app.ocpi.schemas.tariffs import TARIFF
from tests.ocpi.hub.conftest import hub_headers

EXAMPLES = Path(__file__).parent / "examples"
TARIFF_221 = json_loads((EXAMPLES / "2.2.1_tariff_12_025kwh_min_price.json").read_bytes())
TARIFF_230 = json_loads(
    (EXAMPLES / "2.3.0_tariff_20_simple_north_american_inclusive.json").read_bytes()
)


def test_221_tariff_becomes_a_valid_230_tariff_without_tax_and_with_price_limits():
    converted = convert(TARIFF_221, "2.2.1", "2.3.0")
    assert converted["tax_included"] == "NO"
    assert converted["min_price"] == {
        "before_taxes": Decimal("0.50"),
        "after_taxes": Decimal("0.55"),
    }
    assert converted["last_updated"] == TARIFF_221["last_updated"]
    assert TARIFF["2.3.0"]().validate(json.loads(json.dumps(converted, default=float))) == {}
    assert "tax_included" not in TARIFF_221  # the original is left alone


def test_230_tariff_becomes_a_valid_221_tariff():
    converted = convert(TARIFF_230, "2.3.0", "2.2.1")
    assert "tax_included" not in converted
    # No vat given: the hub cannot take the tax out, so the price passes as given.
    assert converted["elements"] == TARIFF_230["elements"]
    assert TARIFF["2.2.1"]().validate(json.loads(json.dumps(converted, default=float))) == {}


def test_230_tariff_with_tax_included_and_vat_is_priced_without_vat_for_221():
    tariff = {
        **TARIFF_230,
        "elements": [
            {
                "price_components": [
                    {
                        "type": "ENERGY",
                        "price": Decimal("0.30"),
                        "vat": Decimal("20"),
                        "step_size": 1,
                    }
                ]
            }
        ],
        "max_price": {"before_taxes": Decimal("10"), "after_taxes": Decimal("12")},
    }
    converted = convert(tariff, "2.3.0", "2.2.1")
    assert converted["elements"][0]["price_components"][0]["price"] == Decimal("0.2500")
    assert converted["max_price"] == {"excl_vat": Decimal("10"), "incl_vat": Decimal("12")}


def test_230_location_fields_are_dropped_for_221_at_every_level():
    location = {
        "country_code": "NL",
        "party_id": "CPA",
        "id": "L1",
        "address": "Street 1",
        "coordinates": {"latitude": "52.0", "longitude": "4.0"},
        "help_phone": "+31",
        "parking_places": [],
        "evses": [
            {
                "uid": "E1",
                "parking": [],
                "accepted_service_providers": ["DE*EMS"],
                "connectors": [
                    {
                        "id": "1",
                        "standard": "IEC_62196_T2",
                        "power_type": "AC_3_PHASE",
                        "capabilities": ["ISO_15118_2_PLUG_AND_CHARGE"],
                    }
                ],
            }
        ],
        "last_updated": "2026-01-01T00:00:00Z",
    }
    converted = convert(location, "2.3.0", "2.2.1")
    assert "help_phone" not in converted and "parking_places" not in converted
    evse = converted["evses"][0]
    assert "parking" not in evse and "accepted_service_providers" not in evse
    assert "capabilities" not in evse["connectors"][0]
    assert convert(location, "2.3.0", "2.3.0") is location


def test_a_221_cpo_and_a_230_emsp_exchange_a_tariff_through_the_hub(client, make_party):
    cpo, cpo_token, cpo_server = make_party(role="CPO", country_code="DE", party_id="ALL")
    emsp, emsp_token, emsp_server = make_party(role="EMSP", party_id="EMS", version="2.3.0")
    push = client.put(
        "/ocpi/hub/2.2.1/receiver/tariffs/DE/ALL/20",
        json=json.loads((EXAMPLES / "2.2.1_tariff_12_025kwh_min_price.json").read_text()),
        headers=hub_headers(cpo_token, cpo, emsp),
    )
    assert push.get_json()["status_code"] == 1000
    (got,) = emsp_server.received
    assert got.path == "/ocpi/receiver/2.3.0/tariffs/DE/ALL/20"
    assert got.body["tax_included"] == "NO"
    assert got.body["min_price"] == {"before_taxes": 0.5, "after_taxes": 0.55}
    # And back: the 2.3.0 eMSP reads the 2.2.1 CPO's tariff in its own version.
    cpo_server.data = json.loads((EXAMPLES / "2.2.1_tariff_12_025kwh_min_price.json").read_text())
    pulled = client.get(
        "/ocpi/hub/2.3.0/sender/tariffs/20", headers=hub_headers(emsp_token, emsp, cpo)
    )
    data = pulled.get_json()["data"]
    assert data["tax_included"] == "NO" and data["min_price"]["before_taxes"] == 0.5
    assert cpo_server.received[-1].path == "/ocpi/sender/2.2.1/tariffs/20"


def test_session_and_cdr_costs_change_price_shape_both_ways():
    cdr = {
        "id": "CDR-1",
        "total_cost": {"excl_vat": Decimal("10.00"), "incl_vat": Decimal("12.10")},
        "total_energy_cost": {"excl_vat": Decimal("4.00")},
        "tariffs": [dict(TARIFF_221)],
    }
    up = convert(cdr, "2.2.1", "2.3.0")
    assert up["total_cost"] == {
        "before_taxes": Decimal("10.00"),
        "taxes": [{"name": "VAT", "amount": Decimal("2.10")}],
    }
    assert up["total_energy_cost"] == {"before_taxes": Decimal("4.00")}
    assert up["tariffs"][0]["tax_included"] == "NO"
    down = convert(up, "2.3.0", "2.2.1")
    assert (
        down["total_cost"] == cdr["total_cost"]
        and down["total_energy_cost"] == cdr["total_energy_cost"]
    )
