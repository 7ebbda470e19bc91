"""GET /healthz reports version, dialect and components."""

from app import __version__


def test_healthz_reports_database_and_version(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["database"] == "postgresql"
    assert body["components"]["database"]["status"] == "ok"
    assert set(body["components"]) >= {"database", "ocpp_gateway", "payments"}


def test_openapi_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["info"]["title"] == "PlugPool API"
