"""The compiled schema check answers as the library's jsonschema validator does.

For every CALL schema the `ocpp` package ships (1.6 and 2.0.1), payloads are built from
the schema itself (valid ones, then each made wrong in the ways chargers get it wrong:
a missing field, a wrong type, an unknown field, a string too long, a value off the
enum, a float or bool for an integer, null, numbers past 64 bits, a lone surrogate) and the two
validators must agree on every one.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import ocpp
import pytest
from jsonschema import Draft4Validator
from ocpp.messages import Call, MessageType, get_validator

from app.gateway.protocol import FrameError, fast_validator, parse_frame, schema_violation

SCHEMAS = Path(ocpp.__file__).parent


def call_actions() -> list[tuple[str, str]]:
    """(action, version) of every CALL schema in the library."""
    found = []
    for path in sorted((SCHEMAS / "v16" / "schemas").glob("*.json")):
        if not path.stem.endswith("Response"):
            found.append((path.stem, "1.6"))
    for path in sorted((SCHEMAS / "v201" / "schemas").glob("*Request.json")):
        found.append((path.stem.removesuffix("Request"), "2.0.1"))
    return found


def resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref`."""
    while "$ref" in schema:
        node: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def build(schema: dict[str, Any], root: dict[str, Any], rng: random.Random, depth: int = 0) -> Any:
    """Return a valid instance of `schema`: required fields always, optional ones at random."""
    schema = resolve(schema, root)
    if "enum" in schema:
        return rng.choice(schema["enum"])
    kind = schema.get("type", "object")
    if kind == "object":
        instance = {}
        for name, sub in schema.get("properties", {}).items():
            if name in schema.get("required", []) or (depth < 4 and rng.random() < 0.5):
                instance[name] = build(sub, root, rng, depth + 1)
        return instance
    if kind == "array":
        low, high = schema.get("minItems", 0), min(schema.get("maxItems", 3), 3)
        count = rng.randint(low, max(low, high))
        return [build(schema["items"], root, rng, depth + 1) for _ in range(count)]
    if kind == "string":
        return "x" * rng.randint(0, min(schema.get("maxLength", 20), 20))
    if kind == "integer":
        return rng.randint(int(schema.get("minimum", -5)), int(schema.get("maximum", 1000)))
    if kind == "number":  # candidates a `multipleOf` or bound allows
        fits = [n for n in (0, 1.5, 230.0, -3.25, 16, 0.5) if Draft4Validator(schema).is_valid(n)]
        return rng.choice(fits)
    if kind == "boolean":
        return rng.random() < 0.5
    raise AssertionError(f"no builder for {kind}")


def paths(instance: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key/index path inside an instance."""
    found = []
    if isinstance(instance, dict):
        for key, value in instance.items():
            found.append((*prefix, key))
            found += paths(value, (*prefix, key))
    elif isinstance(instance, list):
        for index, value in enumerate(instance):
            found.append((*prefix, index))
            found += paths(value, (*prefix, index))
    return found


WRONG_VALUES: list[Any] = [
    None,
    "1",
    1,
    1.0,
    1.5,
    True,
    2**70,
    -(2**64),
    [],
    {},
    "y" * 5000,
    "\ud800",
    {"unknownField": 1},
]


def mutants(instance: dict[str, Any], rng: random.Random) -> list[Any]:
    """The instance made wrong (or still right) in one place at a time."""
    out: list[Any] = [{**instance, "unknownField": 1}]
    for path in paths(instance):
        parent_path, last = path[:-1], path[-1]
        for value in rng.sample(WRONG_VALUES, 6):
            changed = copy.deepcopy(instance)
            parent = changed
            for part in parent_path:
                parent = parent[part]
            parent[last] = value
            out.append(changed)
        removed = copy.deepcopy(instance)
        parent = removed
        for part in parent_path:
            parent = parent[part]
        del parent[last]
        out.append(removed)
    return out


@pytest.mark.parametrize(("action", "version"), call_actions())
def test_fast_and_reference_validators_agree(action: str, version: str) -> None:
    # The library's validator as get_validator() first builds it (its cache may hold a
    # Decimal-parsed copy once the library sent such a CALL itself).
    name = action if version == "1.6" else f"{action}Request"
    folder = SCHEMAS / ("v16" if version == "1.6" else "v201") / "schemas"
    reference = Draft4Validator(json.loads((folder / f"{name}.json").read_text("utf-8-sig")))
    fast = fast_validator(action, version)
    rng = random.Random(f"{action}-{version}")
    checked = invalid = 0
    for _ in range(8):
        instance = build(reference.schema, reference.schema, rng)
        assert reference.is_valid(instance), instance  # the builder is right
        for payload in [instance, *mutants(instance, rng)]:
            try:
                answer = fast.is_valid(payload)
            except (ValueError, TypeError, OverflowError):
                continue  # refused values go to the reference (see schema_violation)
            assert answer == reference.is_valid(payload), (action, version, payload)
            checked += 1
            invalid += not answer
    assert checked >= 16
    assert invalid > 0  # the mutations did reach the check


def test_schema_violation_words_errors_as_the_reference_does() -> None:
    call = Call("1", "StatusNotification", {"connectorId": "one", "errorCode": "NoError"})
    kind, description = schema_violation(call, "1.6")
    reference = get_validator(MessageType.Call, "StatusNotification", "1.6")
    first = next(reference.iter_errors(call.payload))
    assert description == first.message[:255]
    assert kind in {"type", "occurrence"}
    assert schema_violation(Call("2", "Heartbeat", {}), "1.6") is None
    assert schema_violation(Call("3", "NoSuchAction", {}), "1.6") is None


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_frames_with_non_json_numbers_are_refused(constant: str) -> None:
    raw = '[2,"1","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"2026-01-01T00:00:00Z",'
    raw += '"sampledValue":[{"value":"1"}]}],"transactionId":' + constant + "}]"
    with pytest.raises(FrameError) as refused:
        parse_frame(raw)
    assert refused.value.kind == "rpc"
