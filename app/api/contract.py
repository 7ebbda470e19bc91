"""Compare the served OpenAPI document with the published contract: additions pass, breaks fail.

A change breaks a client built against the contract when it drops a path, an operation, a
parameter, a response status, a request or response field, or a choice of an enum; changes a
field's type; or makes something required that was optional (a new required parameter or
request field). Additions (new paths, operations, optional inputs, output fields) are fine.
"""

from __future__ import annotations

from typing import Any

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
Spec = dict[str, Any]


def breaking_changes(contract: Spec, served: Spec) -> list[str]:
    """List every way served breaks clients of contract; empty when it is compatible."""
    problems: list[str] = []
    for path, old_item in contract.get("paths", {}).items():
        new_item = served.get("paths", {}).get(path)
        if new_item is None:
            problems.append(f"{path}: path removed")
            continue
        for method in METHODS:
            if method in old_item:
                where = f"{method.upper()} {path}"
                if method not in new_item:
                    problems.append(f"{where}: operation removed")
                    continue
                old_op = _with_path_parameters(old_item, old_item[method])
                new_op = _with_path_parameters(new_item, new_item[method])
                problems += _operation(where, contract, old_op, served, new_op)
    return problems


def _with_path_parameters(item: Spec, operation: Spec) -> Spec:
    """Path-level parameters apply to every operation of the path."""
    return {**operation, "parameters": item.get("parameters", []) + operation.get("parameters", [])}


def _operation(where: str, old_doc: Spec, old: Spec, new_doc: Spec, new: Spec) -> list[str]:
    problems = _parameters(where, old.get("parameters", []), new.get("parameters", []))
    old_body = _json_schema(old_doc, old.get("requestBody"))
    new_body = _json_schema(new_doc, new.get("requestBody"))
    if old_body is not None or new_body is not None:
        problems += _schema(
            f"{where} request", old_doc, old_body or {}, new_doc, new_body or {}, "request"
        )
    for status, old_response in old.get("responses", {}).items():
        new_response = new.get("responses", {}).get(status)
        if new_response is None:
            problems.append(f"{where}: response {status} removed")
            continue
        old_schema = _json_schema(old_doc, old_response)
        new_schema = _json_schema(new_doc, new_response)
        if old_schema is not None:
            problems += _schema(
                f"{where} {status}", old_doc, old_schema, new_doc, new_schema or {}, "response"
            )
    return problems


def _parameters(where: str, old: list[Spec], new: list[Spec]) -> list[str]:
    problems = []
    old_by_key = {(p["in"], p["name"]): p for p in old}
    new_by_key = {(p["in"], p["name"]): p for p in new}
    for key in old_by_key:
        if key not in new_by_key:
            problems.append(f"{where}: parameter {key[1]} ({key[0]}) removed")
    for key, parameter in new_by_key.items():
        was_required = old_by_key.get(key, {}).get("required", False)
        if parameter.get("required") and not was_required:
            problems.append(f"{where}: parameter {key[1]} ({key[0]}) is now required")
    return problems


def _schema(where: str, old_doc: Spec, old: Spec, new_doc: Spec, new: Spec, side: str) -> list[str]:
    old, new = _resolve(old_doc, old), _resolve(new_doc, new)
    problems = []
    if old.get("type") and new.get("type") and old["type"] != new["type"]:
        return [f"{where}: type changed from {old['type']} to {new['type']}"]
    if set(old.get("enum", [])) - set(new.get("enum", old.get("enum", []))):
        problems.append(f"{where}: enum values removed")
    if old.get("type") == "array" or "items" in old:
        return problems + _schema(
            f"{where}[]", old_doc, old.get("items", {}), new_doc, new.get("items", {}), side
        )
    new_properties = new.get("properties", {})
    for name, old_property in old.get("properties", {}).items():
        if name not in new_properties:
            problems.append(f"{where}: field {name} removed")
            continue
        problems += _schema(
            f"{where}.{name}", old_doc, old_property, new_doc, new_properties[name], side
        )
    if side == "request":
        added_required = set(new.get("required", [])) - set(old.get("required", []))
        problems += [f"{where}: field {name} is now required" for name in sorted(added_required)]
    else:
        dropped_required = set(old.get("required", [])) - set(new.get("required", []))
        problems += [f"{where}: field {name} is no longer always sent" for name in dropped_required]
    return problems


def _json_schema(doc: Spec, holder: Spec | None) -> Spec | None:
    if holder is None:
        return None
    holder = _resolve(doc, holder)
    content = holder.get("content", {})
    media = content.get("application/json") or next(iter(content.values()), None)
    return None if media is None else media.get("schema")


def _resolve(doc: Spec, node: Spec) -> Spec:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 32:
        target: Any = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target.get(part, {})
        node, seen = target, seen + 1
    return node if isinstance(node, dict) else {}
