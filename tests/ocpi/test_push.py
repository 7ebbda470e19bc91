"""Outbox delivery to eMSP locations receivers: one attempt, failures recorded, never resent."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import User
from app.core.outbox import OutboxEvent
from app.extensions import db as _db
from app.inventory import services
from app.ocpi.schemas.locations import LOCATION
from app.ocpi.tasks import deliver_outbox
from tests.ocpi.conformance import assert_exact
from tests.ocpi.peer import EmspPeer
from tests.support.metrics import sample, scrape


def _owner(location):
    return _db.session.get(User, location.owner_id)


def _emsp(make_partner, peer, roles=(("EMSP", "DE", "EMS"),)):
    partner, _ = make_partner(
        roles=roles,
        endpoints=(("locations", "RECEIVER", f"{peer.state.base}/emsp/2.2.1/locations"),),
    )
    peer.state.tokens_accepted.add(partner.token_out)
    return partner


def test_a_failed_push_is_recorded_and_not_retried(db, make_partner, make_location, peer):
    _emsp(make_partner, peer)
    location = make_location()
    peer.state.down = True
    services.set_evse_status(location.evses[0], "OUTOFORDER")
    assert deliver_outbox(10) == 1
    event = _db.session.scalars(select(OutboxEvent)).one()
    assert event.delivered_at is not None and event.attempts == 1
    assert "503" in event.last_error
    assert deliver_outbox(10) == 0
    assert len(peer.pushes()) == 1


def test_a_deleted_listing_is_pushed_as_removed_evses(db, make_partner, make_location, peer):
    _emsp(make_partner, peer)
    location = make_location(evses=2)
    services.remove_listing(_owner(location), location.id)
    deliver_outbox(10)
    pushes = peer.pushes()
    assert [p.method for p in pushes] == ["PATCH", "PATCH"]
    assert {p.body["status"] for p in pushes} == {"REMOVED"}


def test_partners_without_a_locations_receiver_get_nothing(db, make_partner, make_location, peer):
    make_partner()
    location = make_location()
    services.update_listing(_owner(location), location.id, {"name": "x"})
    assert deliver_outbox(10) == 1
    assert peer.state.requests == []


def test_tariff_changes_are_put_to_tariff_receivers(db, make_partner, make_tariff, peer):
    from app.core.outbox import emit

    partner, _ = make_partner(
        endpoints=(("tariffs", "RECEIVER", f"{peer.state.base}/emsp/2.2.1/locations/t"),),
    )
    peer.state.tokens_accepted.add(partner.token_out)
    tariff = make_tariff()
    payload = {"country_code": "NL", "party_id": "PLG", "tariff_id": tariff.ocpi_id}
    emit(_db.session, "tariff.changed", "tariff", tariff.ocpi_id, payload)
    _db.session.flush()  # as a committed event would be: due before the job looks
    assert deliver_outbox(10) == 1
    (put,) = peer.pushes()
    assert put.method == "PUT" and put.path.endswith(f"/t/NL/PLG/{tariff.ocpi_id}")
    assert put.body["id"] == tariff.ocpi_id


def test_the_other_branchs_topic_spelling_is_pushed_too(db, make_partner, make_location, peer):
    from app.core.outbox import emit

    _emsp(make_partner, peer)
    location = make_location()
    evse = location.evses[0]
    payload = {"location_id": location.ocpi_id, "pk": location.id, "evse_uid": evse.uid}
    emit(_db.session, "evse.status_changed", "evse", evse.uid, payload)
    emit(_db.session, "location.changed", "location", location.ocpi_id, payload)
    _db.session.flush()
    assert deliver_outbox(10) == 2
    assert [p.method for p in peer.pushes()] == ["PATCH", "PUT"]


def test_an_evse_patch_the_partner_cannot_place_is_followed_by_the_whole_location(
    db, make_partner, make_location
):
    with EmspPeer(strict_locations=True) as peer:  # answers 404 / 2003 for Locations it lacks
        _emsp(make_partner, peer)
        location = make_location()
        services.set_evse_status(location.evses[0], "CHARGING")
        assert deliver_outbox(10) == 1
        services.set_evse_status(location.evses[0], "AVAILABLE")
        assert deliver_outbox(10) == 1
    first, put, second = peer.pushes()
    base = f"/ocpi/emsp/2.2.1/locations/{location.country_code}/{location.party_id}"
    evse_path = f"{base}/{location.ocpi_id}/{location.evses[0].uid}"
    assert (first.method, first.path) == ("PATCH", evse_path)
    assert (put.method, put.path) == ("PUT", f"{base}/{location.ocpi_id}")
    assert_exact(LOCATION["2.2.1"](), put.body)
    assert put.body["evses"][0]["status"] == "CHARGING"
    # The partner holds it now: the next status goes by PATCH alone.
    assert (second.method, second.path, second.body["status"]) == ("PATCH", evse_path, "AVAILABLE")
    events = _db.session.scalars(select(OutboxEvent)).all()
    assert [e.last_error for e in events] == [None, None]


def test_a_failed_push_counts_against_that_partner_on_metrics(
    db, app, make_partner, make_location, peer
):
    partner = _emsp(make_partner, peer)
    location = make_location()
    client = app.test_client()
    before = scrape(client)
    peer.state.down = True
    services.set_evse_status(location.evses[0], "OUTOFORDER")
    backlog = scrape(client)

    deliver_outbox(10)
    after = scrape(client)

    name = "plugpool_ocpi_push_failures_total"
    assert (
        sample(after, name, partner=partner.name) == sample(before, name, partner=partner.name) + 1
    )
    pending = "plugpool_outbox_backlog"
    assert sum_of(backlog, pending) == sum_of(before, pending) + 1
    assert sum_of(after, pending) == sum_of(before, pending)


def sum_of(text, name):
    from prometheus_client.parser import text_string_to_metric_families

    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    )
