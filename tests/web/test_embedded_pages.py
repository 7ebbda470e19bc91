"""The owner's and the driver's pages on the embedded default (SQLite + SpatiaLite)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from app.accounts.models import User
from app.extensions import db
from tests.factories import with_payouts
from tests.test_embedded_smoke import embedded_app  # noqa: F401 (a fixture, found by name)
from tests.web.conftest import LISTING_FORM, csrf_of


def test_list_publish_and_find_a_charger_on_sqlite(embedded_app: Flask) -> None:  # noqa: F811
    client = embedded_app.test_client()
    token = csrf_of(client.get("/signup").get_data(as_text=True))
    account = {"name": "O", "email": "o@example.test", "password": "embedded pages pw"}
    signed_up = client.post("/signup", data={**account, "role": "owner", "csrf_token": token})
    assert signed_up.status_code == 302
    with embedded_app.app_context():
        # Payout onboarding finished (a paid listing is published only then).
        with_payouts(db.session.scalars(select(User).where(User.email == account["email"])).one())
        db.session.commit()

    form = {**LISTING_FORM, "csrf_token": token, "publish": "on"}
    created = client.post("/owner/listings/new", data=form)
    assert created.status_code == 200
    assert '<code class="password">' in created.get_data(as_text=True)
    assert "Driveway charger" in client.get("/owner/listings").get_data(as_text=True)

    client.post("/logout", data={"csrf_token": token})
    query = {"lat": "52.37", "lon": "4.89", "radius_km": "5"}
    page = client.get("/chargers", query_string=query).get_data(as_text=True)
    assert "1 charger found" in page and "Driveway charger" in page
    link = page.split('<h3><a href="')[1].split('"')[0]
    detail = client.get(link).get_data(as_text=True)
    assert "<h1>Driveway charger</h1>" in detail and "0.30 EUR" in detail
