"""The served OpenAPI document never breaks the published mobile contract (additions are fine)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from app.api.contract import breaking_changes

CONTRACT = Path(__file__).resolve().parent.parent / "mobile-api" / "openapi.json"


@pytest.fixture(scope="module")
def contract() -> dict:
    return json.loads(CONTRACT.read_text())


@pytest.fixture
def served(app) -> dict:
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_served_api_keeps_every_promise_of_the_contract(contract, served):
    assert breaking_changes(contract, served) == []


def test_docs_page_is_served(app):
    response = app.test_client().get("/api/v1/docs")
    assert response.status_code == 200
    assert "swagger" in response.get_data(as_text=True).lower()


def test_contract_documents_the_bearer_scheme_and_problem_errors(contract):
    assert contract["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert set(contract["components"]["schemas"]["Problem"]["properties"]) >= {
        "title",
        "status",
        "detail",
        "errors",
    }


def test_additions_are_allowed(contract):
    served = copy.deepcopy(contract)
    served["paths"]["/api/v1/new-thing"] = {"get": {"responses": {"200": {}}}}
    served["components"]["schemas"]["Listing"]["properties"]["rating"] = {"type": "number"}
    served["paths"]["/api/v1/listings"]["get"]["responses"]["418"] = {"description": "tea"}
    assert breaking_changes(contract, served) == []


def _broken(contract, change):
    served = copy.deepcopy(contract)
    change(served)
    return breaking_changes(contract, served)


def test_a_removed_path_breaks(contract):
    problems = _broken(contract, lambda s: s["paths"].pop("/api/v1/listings/{listing_id}/publish"))
    assert problems == ["/api/v1/listings/{listing_id}/publish: path removed"]


def test_a_removed_operation_breaks(contract):
    problems = _broken(contract, lambda s: s["paths"]["/api/v1/listings/{listing_id}"].pop("patch"))
    assert problems == ["PATCH /api/v1/listings/{listing_id}: operation removed"]


def test_a_removed_response_field_breaks(contract):
    problems = _broken(
        contract, lambda s: s["components"]["schemas"]["Listing"]["properties"].pop("latitude")
    )
    assert "GET /api/v1/listings/{listing_id} 200: field latitude removed" in problems


def test_a_changed_field_type_breaks(contract):
    def change(spec):
        spec["components"]["schemas"]["Listing"]["properties"]["id"] = {"type": "string"}

    assert any("id: type changed" in problem for problem in _broken(contract, change))


def test_a_new_required_request_field_breaks(contract):
    def change(spec):
        schema = spec["components"]["schemas"]["ListingIn"]
        schema["properties"]["vat_number"] = {"type": "string"}
        schema["required"] = [*schema.get("required", []), "vat_number"]

    assert "POST /api/v1/listings request: field vat_number is now required" in _broken(
        contract, change
    )


def test_a_removed_request_field_breaks(contract):
    def change(spec):
        spec["components"]["schemas"]["ListingPrice"]["properties"].pop("per_hour")

    assert "POST /api/v1/listings request.price: field per_hour removed" in _broken(
        contract, change
    )


def test_a_new_required_parameter_breaks(contract):
    def change(spec):
        spec["paths"]["/api/v1/listings"]["get"]["parameters"] = [
            {"in": "query", "name": "page", "required": True, "schema": {"type": "integer"}}
        ]

    assert _broken(contract, change) == [
        "GET /api/v1/listings: parameter page (query) is now required"
    ]


def test_a_removed_response_status_breaks(contract):
    problems = _broken(
        contract, lambda s: s["paths"]["/api/v1/listings"]["post"]["responses"].pop("201")
    )
    assert problems == ["POST /api/v1/listings: response 201 removed"]


def test_a_removed_enum_value_breaks():
    old = {"paths": {"/x": {"get": {"responses": {"200": {"content": {"application/json": {
        "schema": {"type": "string", "enum": ["A", "B"]}}}}}}}}}  # fmt: skip
    new = copy.deepcopy(old)
    new["paths"]["/x"]["get"]["responses"]["200"]["content"]["application/json"]["schema"][
        "enum"
    ] = ["A"]
    assert breaking_changes(old, new) == ["GET /x 200: enum values removed"]


LIMITS = {
    "minimum",
    "maximum",
    "x-minimum",
    "x-maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "multipleOf",
}


def _walk(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}/{key}", key, value
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}/{index}")


@pytest.mark.parametrize("which", ["served", "committed"])
def test_the_document_is_valid_openapi_3(contract, served, which):
    from openapi_spec_validator import validate

    validate(served if which == "served" else contract)


@pytest.mark.parametrize("which", ["served", "committed"])
def test_numeric_limits_are_json_numbers(contract, served, which):
    document = served if which == "served" else contract
    wrong = [
        (path, value)
        for path, key, value in _walk(document)
        if key in LIMITS
        and "/properties/" + key not in path[-len(key) - 12 :]  # a field named like a keyword
        and (isinstance(value, bool) or not isinstance(value, int | float))
    ]
    assert wrong == []


def test_errors_are_documented_as_problem_json(served):
    documented = []
    for path, item in served["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for status, response in operation.get("responses", {}).items():
                if status != "default" and int(status) < 400:
                    continue
                while "$ref" in response:
                    response = served["components"]["responses"][response["$ref"].split("/")[-1]]
                documented.append((method, path, status, sorted(response.get("content", {}))))
    assert documented
    assert {tuple(types) for *_, types in documented} == {("application/problem+json",)}


def test_the_limits_the_code_enforces_are_documented(app, served):
    schemas = served["components"]["schemas"]
    password = schemas["SignUp"]["properties"]["password"]
    assert password["minLength"] == app.config["PASSWORD_MIN_LENGTH"]
    assert "starts_at" in schemas["BookingWindow"]["properties"]["ends_at"]["description"]
    assert schemas["ListingPrice"]["properties"]["currency"]["pattern"] == "^[A-Z]{3}$"
    assert "IANA" in schemas["ListingIn"]["properties"]["time_zone"]["description"]
    latitude = schemas["ListingIn"]["properties"]["latitude"]
    assert (latitude["x-minimum"], latitude["x-maximum"]) == (-90, 90)


def test_a_decimal_sent_as_a_string_is_documented_as_a_string(served):
    # The API answers "52.375218", not 52.375218: the document must say so.
    latitude = served["components"]["schemas"]["Listing"]["properties"]["latitude"]
    assert latitude["type"] == "string" and latitude["format"] == "decimal"
