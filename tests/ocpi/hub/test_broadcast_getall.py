"""Broadcast push through the outbox, and GET all with the hub's own pagination."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.outbox import OutboxEvent
from app.extensions import db
from app.ocpi.hub import rules
from app.ocpi.hub.delivery import TOPIC, deliver_all
from app.ocpi.hub.models import ConnectionStatus
from tests.ocpi.hub.conftest import hub_headers

HUB = "/ocpi/hub"
HUB_PARTY = ("NL", "HUB")
LOCATION = {
    "country_code": "NL",
    "party_id": "CPA",
    "id": "LOC1",
    "last_updated": "2026-01-01T00:00:00Z",
}


def _broadcast(client, token, cpo, body=LOCATION, to=HUB_PARTY):
    return client.put(
        f"{HUB}/2.2.1/receiver/locations/NL/CPA/LOC1",
        json=body,
        headers=hub_headers(token, cpo, to),
    )


def test_broadcast_reaches_every_allowed_emsp_through_the_outbox(client, make_party):
    cpo, token, _ = make_party(role="CPO", party_id="CPA")
    _, _, first = make_party(role="EMSP", country_code="DE", party_id="EMA")
    _, _, second = make_party(role="EMSP", country_code="FR", party_id="EMB")
    _, _, other_cpo = make_party(role="CPO", party_id="CPB")
    _, _, offline = make_party(role="EMSP", party_id="OFF", status=ConnectionStatus.OFFLINE)
    denied, _, denied_server = make_party(role="EMSP", party_id="DNY")
    rules.add_rule(denied, "deny", "NL*CPA")
    reply = _broadcast(client, token, cpo)
    assert reply.get_json()["status_code"] == 1000
    assert (reply.headers["OCPI-from-party-id"], reply.headers["OCPI-to-party-id"]) == (
        "HUB",
        "CPA",
    )
    # Nothing is pushed from inside the request.
    assert first.received == [] and second.received == []
    assert deliver_all() == 2
    for server, party in ((first, ("DE", "EMA")), (second, ("FR", "EMB"))):
        (got,) = server.received
        assert got.method == "PUT" and got.path == "/ocpi/receiver/2.2.1/locations/NL/CPA/LOC1"
        assert got.body == LOCATION
        assert (
            got.headers["OCPI-from-country-code"],
            got.headers["OCPI-from-party-id"],
        ) == HUB_PARTY
        assert (got.headers["OCPI-to-country-code"], got.headers["OCPI-to-party-id"]) == party
    assert other_cpo.received == [] and offline.received == [] and denied_server.received == []


def test_broadcast_without_to_headers_is_a_broadcast_too(client, make_party):
    cpo, token, _ = make_party(role="CPO", party_id="CPA")
    _, _, emsp = make_party(role="EMSP", party_id="EMA")
    assert _broadcast(client, token, cpo, to=None).get_json()["status_code"] == 1000
    deliver_all()
    assert len(emsp.received) == 1


def test_each_broadcast_delivery_is_retried_on_its_own(client, make_party, app, monkeypatch):
    monkeypatch.setitem(app.config, "HUB_DELIVERY_RETRY_SECONDS", 0)
    cpo, token, _ = make_party(role="CPO", party_id="CPA")
    _, _, healthy = make_party(role="EMSP", party_id="EMA")
    _, _, failing = make_party(role="EMSP", party_id="EMB")
    failing.http_status, failing.status_code = 503, 3000
    _broadcast(client, token, cpo)
    deliver_all()
    attempts = app.config["HUB_DELIVERY_ATTEMPTS"]
    assert len(healthy.received) == 1
    assert len(failing.received) == attempts
    rows = db.session.scalars(select(OutboxEvent).where(OutboxEvent.topic == TOPIC)).all()
    by_party = {row.payload["to"]: row for row in rows}
    assert by_party["NLEMA"].attempts == 1 and by_party["NLEMA"].last_error is None
    assert by_party["NLEMB"].attempts == attempts and "HTTP 503" in by_party["NLEMB"].last_error


def test_delivery_refused_by_the_receiver_is_not_retried(client, make_party, app, monkeypatch):
    monkeypatch.setitem(app.config, "HUB_DELIVERY_RETRY_SECONDS", 0)
    cpo, token, _ = make_party(role="CPO", party_id="CPA")
    _, _, refusing = make_party(role="EMSP", party_id="EMA")
    refusing.status_code = 2001
    _broadcast(client, token, cpo)
    deliver_all()
    assert len(refusing.received) == 1


def test_get_for_a_broadcast_target_other_than_the_lists_is_refused(client, make_party):
    emsp, token, _ = make_party(role="EMSP", party_id="EMA")
    _, _, cpo = make_party(role="CPO", party_id="CPA")
    reply = client.get(f"{HUB}/2.2.1/sender/sessions", headers=hub_headers(token, emsp, HUB_PARTY))
    assert reply.get_json()["status_code"] == 2001
    assert cpo.received == []


def _paged(server, items):
    """Make a recording server answer like a paginated sender with these objects."""
    server.headers = {"X-Total-Count": str(len(items)), "X-Limit": "100"}
    server.data = items


def test_get_all_returns_every_cpos_objects_with_the_hubs_own_pages(client, make_party):
    emsp, token, _ = make_party(role="EMSP", party_id="EMA")
    _, _, first = make_party(role="CPO", party_id="CPA")
    _, _, second = make_party(role="CPO", party_id="CPB")
    denied, _, denied_server = make_party(role="CPO", party_id="DNY")
    rules.add_rule(denied, "deny", "NL*EMA")
    _paged(first, [{"id": "A1", "party_id": "CPA"}])
    _paged(second, [{"id": "B1", "party_id": "CPB"}])
    headers = hub_headers(token, emsp, HUB_PARTY)
    reply = client.get(f"{HUB}/2.2.1/sender/locations?limit=1", headers=headers)
    body = reply.get_json()
    assert body["status_code"] == 1000
    assert body["data"] == [{"id": "A1", "party_id": "CPA"}]
    assert reply.headers["X-Total-Count"] == "2"
    link = reply.headers["Link"]
    assert link.startswith("<http://localhost/ocpi/hub/2.2.1/sender/locations?")
    assert "offset=1" in link and "limit=1" in link
    nxt = link[1 : link.index(">")].removeprefix("http://localhost")
    second_page = client.get(nxt, headers=headers)
    assert second_page.get_json()["data"] == [{"id": "B1", "party_id": "CPB"}]
    assert "Link" not in second_page.headers
    assert denied_server.received == []
    # The hub asks each party for just the slice it needs, with its own offset.
    assert second.received[-1].path.endswith("offset=0&limit=1")


def test_get_all_keeps_date_filters_and_skips_a_party_that_is_down(client, make_party):
    emsp, token, _ = make_party(role="EMSP", party_id="EMA")
    _, _, first = make_party(role="CPO", party_id="CPA")
    _, _, down = make_party(role="CPO", party_id="CPB")
    _paged(first, [{"id": "A1"}])
    down.stop()
    headers = hub_headers(token, emsp, HUB_PARTY)
    reply = client.get(
        f"{HUB}/2.2.1/sender/tariffs?date_from=2026-01-01T00:00:00Z", headers=headers
    )
    assert reply.get_json()["data"] == [{"id": "A1"}]
    assert reply.headers["X-Total-Count"] == "1"
    assert all("date_from=2026-01-01T00%3A00%3A00Z" in r.path for r in first.received)


class WorkerKilled(BaseException):
    """A worker stopping right after a send, before it records the outcome (not an Exception:
    nothing on the way up may catch it)."""


def test_a_round_stopped_after_sending_never_sends_its_batch_again(
    client, make_party, app, monkeypatch
):
    from app.core.outbox import INTERRUPTED
    from app.ocpi.client import OcpiClient

    cpo, token, _ = make_party(role="CPO", party_id="CPA")
    _, _, first = make_party(role="EMSP", party_id="EMA")
    _, _, second = make_party(role="EMSP", party_id="EMB")
    _broadcast(client, token, cpo)
    relay = OcpiClient.relay

    def relay_then_die(self, *args, **kwargs):
        relay(self, *args, **kwargs)  # the receiver has it
        raise WorkerKilled

    monkeypatch.setattr(OcpiClient, "relay", relay_then_die)  # the network edge
    monkeypatch.setitem(app.config, "OCPI_PUSH_LEASE_SECONDS", 0)  # the lease is over at once
    with pytest.raises(WorkerKilled):
        deliver_all()
    db.session.rollback()  # what the dead worker had not committed is gone
    monkeypatch.setattr(OcpiClient, "relay", relay)
    assert deliver_all() == 0  # a later round: nothing to send again
    assert len(first.received) == 1 and len(second.received) == 1
    rows = db.session.scalars(select(OutboxEvent).where(OutboxEvent.topic == TOPIC)).all()
    assert [(row.attempts, row.last_error) for row in rows] == [(1, INTERRUPTED)] * 2
    assert all(row.delivered_at is not None for row in rows)
