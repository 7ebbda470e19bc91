"""PlugPool (CPO) and an eMSP peer over real HTTP on real ports: the whole roaming relationship."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

from geoalchemy2.elements import WKTElement
from sqlalchemy import select, update

from app.accounts.models import User
from app.core.outbox import OutboxEvent
from app.extensions import db
from app.inventory import services as inventory
from app.inventory.models import Connector, Evse, Location, Party
from app.ocpi import full_set
from app.ocpi.models import Token
from app.ocpi.schemas.locations import LOCATION
from app.ocpi.tasks import deliver_outbox
from app.ocpi.tokens.services import authorize_token
from app.tariffs.models import Tariff
from tests.ocpi.conformance import assert_exact
from tests.ocpi.test_tokens_receiver import token_body

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _seed(app, count: int) -> None:
    with app.app_context():
        db.session.add(Party(country_code="NL", party_id="PLG", name="PlugPool", is_own=True))
        owner = User(email="owner@example.test", password_hash="x", name="Owner", role="owner")
        db.session.add(owner)
        for n in range(2):
            db.session.add(
                Tariff(
                    country_code="NL",
                    party_id="PLG",
                    ocpi_id=f"T{n}",
                    currency="EUR",
                    elements=[{"price_components": [{"type": "ENERGY", "price": "0.30"}]}],
                )
            )
        db.session.flush()
        for n in range(count):
            location = Location(
                country_code="NL",
                party_id="PLG",
                ocpi_id=f"LOC{n:03d}",
                owner_id=owner.id,
                publish=True,
                address=f"Street {n}",
                city="Utrecht",
                country="NLD",
                latitude=Decimal("52.090737"),
                longitude=Decimal("5.121420"),
                geog=WKTElement("POINT(5.121420 52.090737)", srid=4326),
                time_zone="Europe/Amsterdam",
            )
            evse = Evse(uid=f"E{n:03d}", evse_id=f"NL*PLG*E{n:03d}", status="AVAILABLE")
            evse.connectors.append(
                Connector(
                    ocpi_id="1",
                    standard="IEC_62196_T2",
                    format="SOCKET",
                    power_type="AC_3_PHASE",
                    max_voltage=230,
                    max_amperage=16,
                )
            )
            location.evses.append(evse)
            db.session.add(location)
        db.session.flush()
        # Back-dated with a bulk UPDATE: the inventory's flush hook stamps ORM changes with now.
        for n in range(count):
            stamp = T0 + timedelta(hours=n)
            where = Location.ocpi_id == f"LOC{n:03d}"
            db.session.execute(update(Location).where(where).values(last_updated=stamp))
        db.session.commit()


def _pull(peer, url: str, token: str) -> tuple[list[str], list[str]]:
    """Follow Link headers; return the ids and each page's X-Total-Count."""
    ids, totals = [], []
    while url:
        reply = peer.call("GET", url, token)
        assert reply.status_code == 200, reply.text
        assert reply.headers["X-Limit"] == "3"  # this page's limit
        totals.append(reply.headers["X-Total-Count"])
        ids += [item["id"] for item in reply.json()["data"]]
        link = reply.headers.get("Link")
        url = link.split(";")[0].strip("<>") if link else None
        if url:
            assert parse_qs(urlsplit(url).query)["limit"] == ["3"]
    return ids, totals


def test_emsp_and_cpo_roam_over_http(plugpool, peer, monkeypatch):
    monkeypatch.setattr(full_set, "BATCH", 3)  # the full set goes out in several outbox steps
    _seed(plugpool.app, 7)
    runner = plugpool.app.test_cli_runner()
    added = runner.invoke(args=["ocpi", "partner-add", "peer"]).output
    token_a = added.split("TOKEN_A: ")[1].strip()

    # TOKEN_A opens credentials and versions only.
    assert peer.call("GET", plugpool.url("cpo/2.3.0/locations"), token_a).status_code == 401
    token_c = peer.register_with(plugpool.versions_url, token_a)["data"]["token"]

    # Registration queues the full set: every Tariff, then every published Location, by PUT.
    with plugpool.app.app_context():
        while deliver_outbox(3):
            pass
        assert all(e.last_error is None for e in db.session.scalars(select(OutboxEvent)))
    tariffs = peer.received("tariffs", "PUT")
    assert [r.path for r in tariffs] == [f"/ocpi/emsp/2.2.1/tariffs/NL/PLG/T{n}" for n in range(2)]
    assert peer.state.requests.index(tariffs[-1]) < peer.state.requests.index(peer.pushes()[0])
    location_puts = peer.pushes("PUT")
    assert [r.path for r in location_puts] == [
        f"/ocpi/emsp/2.2.1/locations/NL/PLG/LOC{n:03d}" for n in range(7)
    ]
    assert_exact(LOCATION["2.2.1"](), location_puts[0].body)
    peer.state.requests.clear()

    # Pull all locations in pages of 3, then only those changed in a window.
    all_ids, totals = _pull(peer, plugpool.url("cpo/2.2.1/locations?limit=3"), token_c)
    assert all_ids == [f"LOC{n:03d}" for n in range(7)] and set(totals) == {"7"}
    window = plugpool.url(
        "cpo/2.3.0/locations?limit=3&date_from=2026-03-01T02:00:00Z&date_to=2026-03-01T06:00:00Z"
    )
    ids, totals = _pull(peer, window, token_c)
    assert ids == ["LOC002", "LOC003", "LOC004", "LOC005"] and set(totals) == {"4"}
    one = peer.call("GET", plugpool.url("cpo/2.3.0/locations/LOC001"), token_c).json()["data"]
    assert_exact(LOCATION["2.3.0"](), one)

    # Token push, then real-time authorisation back to the peer.
    token_url = plugpool.url("cpo/2.2.1/tokens/DE/EMS/RFID-77")
    body = token_body(uid="RFID-77", whitelist="NEVER")
    assert peer.call("PUT", token_url, token_c, json=body).status_code == 201
    peer.state.authorizations["RFID-77"] = "ALLOWED"
    with plugpool.app.app_context():
        result = authorize_token("RFID-77", "RFID", {"location_id": "LOC001"})
        assert (result.allowed, result.source) == ("ALLOWED", "realtime")

    # A foreign party's write is refused and nothing is written.
    foreign = token_body(country_code="NL", party_id="OTH", uid="RFID-78")
    refused = peer.call(
        "PUT", plugpool.url("cpo/2.2.1/tokens/NL/OTH/RFID-78"), token_c, json=foreign
    )
    assert refused.status_code == 404
    with plugpool.app.app_context():
        assert db.session.scalars(select(Token.uid)).all() == ["RFID-77"]

    # Inventory changes reach the peer's locations receiver through the outbox.
    with plugpool.app.app_context():
        location = db.session.scalars(select(Location).where(Location.ocpi_id == "LOC003")).one()
        inventory.set_evse_status(location.evses[0], "CHARGING")
        inventory.update_listing(
            db.session.get(User, location.owner_id), location.id, {"name": "Renamed"}
        )
        assert deliver_outbox(10) == 2
        assert deliver_outbox(10) == 0
        events = db.session.scalars(select(OutboxEvent)).all()
        assert all(e.delivered_at and e.last_error is None for e in events)
    patch, put = peer.pushes()
    assert (patch.method, patch.path) == ("PATCH", "/ocpi/emsp/2.2.1/locations/NL/PLG/LOC003/E003")
    assert patch.body["status"] == "CHARGING" and patch.body["last_updated"]
    assert patch.headers["OCPI-to-party-id"] == "EMS"
    assert (put.method, put.path) == ("PUT", "/ocpi/emsp/2.2.1/locations/NL/PLG/LOC003")
    assert put.body["name"] == "Renamed"
    assert_exact(LOCATION["2.2.1"](), put.body)

    # Rotation by PUT, then unregistration by DELETE.
    peer.state.tokens_accepted.add("peer-b-2")
    credentials_url = plugpool.url("2.2.1/credentials")
    rotated = peer.call("PUT", credentials_url, token_c, json=peer.credentials("peer-b-2"))
    new_c = rotated.json()["data"]["token"]
    assert peer.call("GET", plugpool.url("cpo/2.2.1/tariffs"), token_c).status_code == 401
    assert peer.call("GET", plugpool.url("cpo/2.2.1/tariffs"), new_c).status_code == 200
    assert peer.call("DELETE", credentials_url, new_c).json()["status_code"] == 1000
    assert peer.call("GET", plugpool.url("cpo/2.2.1/tariffs"), new_c).status_code == 401
