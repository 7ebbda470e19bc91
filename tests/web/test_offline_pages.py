"""Pages work with no internet: place search offline, Leaflet and Swagger UI served by the app,
HTML error pages for pages (problem JSON stays on the API)."""

from __future__ import annotations

from app.search import geocode
from tests.web.test_search_pages import priced  # noqa: F401 (a fixture, found by name)


def test_place_search_finds_chargers_near_a_gazetteer_place(client, priced):  # noqa: F811
    location = priced(name="Near the park")  # at 52.370216, 4.895168 (Dam area)
    page = client.get("/chargers", query_string={"place": "Dam square", "radius_km": "3"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "near Dam, Amsterdam" in text and location.name in text
    assert 'value="Dam square"' in text  # what the driver typed is kept


def test_unknown_place_is_explained_beside_the_field(client):
    page = client.get("/chargers", query_string={"place": "Atlantis"})
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert 'id="f-place-error"' in text and "No place found for “Atlantis”" in text


def test_a_configured_geocoder_is_asked_and_its_failure_is_plain(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "GEOCODER_URL", "http://127.0.0.1:9/search")
    page = client.get("/chargers", query_string={"place": "Dam"})
    assert page.status_code == 422
    assert "Place search is not available right now" in page.get_data(as_text=True)


def test_gazetteer_matches_an_address_to_its_district(app):
    with app.app_context():
        assert geocode.geocode("Keizersgracht 100, Amsterdam")[0].name.startswith("Grachten")
        assert geocode.geocode("nowhere at all") == []


def test_map_and_api_docs_scripts_are_served_by_the_app(client):
    search = client.get("/chargers").get_data(as_text=True)
    assert "unpkg.com" not in search and "/vendor/leaflet/leaflet.js" in search
    assert client.get("/vendor/leaflet/leaflet.js").status_code == 200
    assert client.get("/vendor/leaflet/leaflet.css").status_code == 200
    docs = client.get("/api/v1/docs").get_data(as_text=True)
    assert "cdn.jsdelivr" not in docs and "/vendor/swagger-ui/swagger-ui-bundle.js" in docs
    assert "<script>" not in docs  # no inline script: a strict CSP holds
    assert client.get("/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/vendor/nothing/x.js").status_code == 404
    assert client.get("/vendor/leaflet/../../../etc/passwd").status_code == 404


def test_unknown_pages_are_html_and_the_api_keeps_problem_json(client):
    page = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "<h1>Not Found</h1>" in page.get_data(as_text=True)
    wrong = client.put("/chargers", headers={"Accept": "text/html"})
    assert wrong.status_code == 405 and wrong.mimetype == "text/html"
    assert "GET" in wrong.headers["Allow"]
    api = client.get("/api/v1/no-such")
    assert api.status_code == 404 and api.mimetype == "application/problem+json"
    ocpi = client.get("/ocpi/no-such", headers={"Accept": "text/html"})
    assert ocpi.status_code == 404 and ocpi.is_json  # the OCPI envelope, never a page
