"""Every spec example of an object we serve or receive parses with our schemas and round-trips."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from marshmallow import Schema, ValidationError

from app.ocpi.schemas import bookings
from app.ocpi.schemas.common import DisplayText, OcpiDateTime
from app.ocpi.schemas.credentials import CREDENTIALS, Version, VersionDetails
from app.ocpi.schemas.locations import EVSE, LOCATION, Hours
from app.ocpi.schemas.sessions import CDR, SESSION, session_patch_schema
from app.ocpi.schemas.tariffs import TARIFF
from app.ocpi.schemas.tokens import Token, token_patch_schema
from tests.ocpi.conformance import assert_exact
from tests.support.ocpi_examples import OCPI_EXAMPLES

EXAMPLES = OCPI_EXAMPLES
DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
# Spec examples that break the spec's own object definitions; we refuse them on purpose.
INVALID_IN_SPEC = {
    # "floor" and an integer physical_reference; connectors lack power_type, max_voltage...
    "location_put_example_add_evse.json",
}
# Bookings examples with typos (5-letter party ids, second 99, keys ending in a space, a
# misspelt field): refused as written, and parse and round-trip once the typo is corrected.
BOOKING_TYPOS = {
    "booking_example.json",
    "booking_location_example.json",
    "booking_location_patch_example_calendar.json",
    "booking_request_patch_example_timeslot.json",
}


def _schema(version: str, name: str) -> tuple[Schema, bool] | None:
    """The schema of a file and whether it carries the response envelope."""
    rules: list[tuple[str, Any]] = [
        (r"^location_example", lambda: LOCATION[version]()),
        (r"^location_energymix", lambda: LOCATION[version](only=("energy_mix",))),
        (r"^location_hours", lambda: Hours()),
        (r"^location_regularhours", lambda: LOCATION[version](only=("opening_times",))),
        (r"^location_patch_example_(status|remove_evse)", lambda: EVSE[version](partial=True)),
        (r"^location_patch_example_location", lambda: LOCATION[version](partial=True)),
        (r"^location_patch_example_tariff", lambda: _connector_patch(version)),
        (r"^location_put_example_add_evse", lambda: EVSE[version]()),
        (r"^session_patch", lambda: session_patch_schema(version)),
        (r"^session_", lambda: SESSION[version]()),
        (r"^cdr_", lambda: CDR[version]()),
        (r"^booking_example", lambda: bookings.Booking()),
        (r"^booking_location_example", lambda: bookings.BookingLocation()),
        (r"^booking_location_patch_example_calendar", lambda: bookings.patch_of(bookings.Calendar)),
        (r"^booking_location_patch", lambda: bookings.patch_of(bookings.BookingLocation)),
        (r"^booking_patch", lambda: bookings.patch_of(bookings.Booking)),
        (r"^booking_request_patch", lambda: bookings.BookingRequestPatch()),
        (r"^tariff_put_example", lambda: TARIFF[version](partial=("last_updated",))),
        (r"^tariff", lambda: TARIFF[version]()),
        (r"^token_patch", token_patch_schema),
        (r"^token_", lambda: Token()),
        (r"^credentials", lambda: CREDENTIALS[version]()),
        (r"^version_details", lambda: VersionDetails()),
        (r"^versions_info", lambda: Version(many=True)),
        (r"^type_displaytext", lambda: DisplayText()),
        (r"^transport_and_format_get_token_list", lambda: Token(many=True)),
        (r"^transport_and_format_get_token", lambda: Token()),
        (r"^transport_and_format_version_details", lambda: VersionDetails()),
        (r"^transport_and_format_version_info", lambda: Version(many=True)),
    ]
    for pattern, make in rules:
        if re.search(pattern, name):
            return make(), name.startswith("transport_and_format")
    return None


def _connector_patch(version: str) -> Schema:
    from app.ocpi.schemas.locations import CONNECTOR

    return CONNECTOR[version](partial=True)


def _files() -> list[Any]:
    found = []
    for path in sorted(EXAMPLES.glob("*/*.json")):
        assert _schema(path.parent.name, path.name) is not None, f"no schema for {path.name}"
        found.append(pytest.param(path, id=f"{path.parent.name}/{path.name}"))
    return found


def _normalise(value: Any) -> Any:
    """Compare timestamps as instants: '...Z' and '...+00:00' and zone-less UTC are equal."""
    if isinstance(value, dict):
        return {key: _normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalise(item) for item in value]
    if isinstance(value, str) and DATETIME.match(value):
        return OcpiDateTime().deserialize(value)
    return value


def _corrected(value: Any) -> Any:
    """The bookings examples with their typos fixed."""
    if isinstance(value, dict):
        fixed = {key.strip(): _corrected(item) for key, item in value.items()}
        if "party_id" in fixed:
            fixed["party_id"] = fixed["party_id"][:3]
        if "green_power_support" in fixed:
            fixed["green_energy_support"] = fixed.pop("green_power_support")
        return fixed
    if isinstance(value, list):
        return [_corrected(item) for item in value]
    if isinstance(value, str) and DATETIME.match(value):
        return value.replace(":99Z", ":59Z")
    return value


@pytest.mark.parametrize("path", _files())
def test_spec_example_parses_and_round_trips(path: Path) -> None:
    version = path.parent.name
    schema, enveloped = _schema(version, path.name)
    document = json.loads(path.read_text(), parse_float=Decimal)
    if enveloped:
        assert set(document) <= {"data", "status_code", "status_message", "timestamp"}
        document = document["data"]
    if path.name in INVALID_IN_SPEC:
        with pytest.raises(ValidationError):
            schema.load(document)
        return
    if path.name in BOOKING_TYPOS:
        with pytest.raises((ValidationError, AssertionError)):
            assert_exact(schema, document)
        document = _corrected(document)
    if "patch" in path.name:
        assert "last_updated" in document
    loaded = assert_exact(schema, document)
    assert _normalise(schema.dump(loaded)) == _normalise(document)


def test_a_2_2_1_tariff_is_not_a_2_3_0_tariff() -> None:
    document = json.loads((EXAMPLES / "2.2.1/tariff_1_simple_2hour.json").read_text())
    with pytest.raises(ValidationError) as error:
        TARIFF["2.3.0"]().load(document)
    assert "tax_included" in error.value.messages
