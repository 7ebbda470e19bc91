"""Pulls of partner CPOs: pages through Link, date_from after the first, refused foreign objects,
a partner that is down shown as failing and retried with backoff without holding up the others,
and the admin page that shows it all."""

from __future__ import annotations

import json
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import g
from sqlalchemy import select, update

from app.accounts.models import Role
from app.core.clock import utcnow
from app.extensions import db
from app.inventory.models import Location
from app.ocpi import pull, tasks
from app.ocpi.models import OcpiSync
from tests.ocpi.test_emsp_receivers import location_body
from tests.support.http_server import base_url, free_port, serving


class _Cpo(BaseHTTPRequestHandler):
    """A partner CPO's locations Sender: two pages, the second one also naming another party."""

    queries: ClassVar[list[dict[str, list[str]]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        _Cpo.queries.append(query)
        host = f"http://{self.headers['Host']}"
        if query.get("page") == ["2"]:
            items = [location_body("LOC3"), location_body("LOC4", party_id="OTH")]
            link = None
        else:
            items = [location_body("LOC1"), location_body("LOC2")]
            # Header names as some peers write them (HTTP/2 habits): lower case.
            link = f'<{host}/locations?page=2>; rel="next"'
        body = json.dumps(
            {"status_code": 1000, "timestamp": "2026-03-01T00:00:00Z", "data": items}
        ).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("x-total-count", "4")
        if link:
            self.send_header("link", link)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def stand_in_cpo():
    _Cpo.queries = []
    with serving(_Cpo) as server:
        yield base_url(server)


def _partner(make_partner, name: str, party: str, url: str):
    partner, _ = make_partner(
        name=name,
        roles=(("CPO", "DE", party),),
        endpoints=(("locations", "SENDER", url),),
    )
    partner.roles[0].business_details = {"name": name}
    pull.on_registered(partner)
    db.session.flush()
    return partner


def _sync(partner) -> OcpiSync:
    db.session.expire_all()
    return db.session.scalars(select(OcpiSync).where(OcpiSync.partner_id == partner.id)).one()


def test_a_partner_that_is_down_is_retried_with_backoff_and_blocks_no_other(
    app, make_partner, stand_in_cpo
):
    dead = _partner(make_partner, "Down", "DWN", f"http://127.0.0.1:{free_port()}/locations")
    live = _partner(make_partner, "ChargeX", "CPX", f"{stand_in_cpo}/locations")
    assert pull.due_partner_ids() == sorted([dead.id, live.id])

    assert tasks.sync_partners() == 2
    failing, ok = _sync(dead), _sync(live)
    assert (failing.status, failing.failures, failing.full_due) == ("FAILING", 1, True)
    assert failing.last_error and failing.synced_until is None
    base = app.config["OCPI_SYNC_RETRY_BASE"]
    wait = (failing.next_attempt_at - failing.finished_at).total_seconds()
    assert wait == pytest.approx(base, abs=1)
    # The live partner was pulled in full over both pages; the foreign party's object refused.
    assert (ok.status, ok.done, ok.total, ok.full_due) == ("OK", 4, 4, False)
    ids = db.session.scalars(select(Location.ocpi_id).order_by(Location.ocpi_id)).all()
    assert ids == ["LOC1", "LOC2", "LOC3"]
    assert _Cpo.queries[0] == {}  # first pull: no date_from

    # Nothing is due right away: the failing one waits for its backoff, the other its interval.
    assert pull.due_partner_ids() == []
    db.session.execute(update(OcpiSync).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    assert tasks.sync_partners() == 2
    failing, ok = _sync(dead), _sync(live)
    assert failing.failures == 2
    wait = (failing.next_attempt_at - failing.finished_at).total_seconds()
    assert wait == pytest.approx(2 * base, abs=1)
    # The second pull of the live partner asks only for changes since the first.
    date_from = _Cpo.queries[2]["date_from"][0]
    assert date_from < ok.synced_until.isoformat() and ok.status == "OK"


def test_backoff_doubles_up_to_the_cap(app):
    with app.app_context():
        base, cap = app.config["OCPI_SYNC_RETRY_BASE"], app.config["OCPI_SYNC_RETRY_MAX"]
        assert pull.retry_delay(1).total_seconds() == base
        assert pull.retry_delay(3).total_seconds() == 4 * base
        assert pull.retry_delay(50).total_seconds() == cap


def test_admin_page_shows_each_partners_pull(client, make_partner, make_user, stand_in_cpo):
    dead = _partner(make_partner, "Down", "DWN", f"http://127.0.0.1:{free_port()}/locations")
    _partner(make_partner, "ChargeX", "CPX", f"{stand_in_cpo}/locations")
    tasks.sync_partners()

    assert client.get("/admin/ocpi/partners").status_code == 302  # log in first
    driver = make_user(role=Role.DRIVER.value, name="Dan")
    _log_in(client, driver)
    assert client.get("/admin/ocpi/partners").status_code == 403

    _log_in(client, make_user(role=Role.ADMIN.value, name="Ada"))
    html = client.get("/admin/ocpi/partners").get_data(as_text=True)
    assert "ChargeX" in html and "Down" in html
    assert "FAILING" in html and "OK" in html
    assert 'max="4" value="4"' in html

    reply = client.post(f"/admin/ocpi/partners/{dead.id}/sync", data={"csrf_token": "t"})
    assert reply.status_code == 302
    sync = _sync(dead)
    assert sync.full_due and sync.next_attempt_at <= utcnow()


def _log_in(client, user) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
        session["csrf"] = "t"
    g.pop("_login_user", None)
