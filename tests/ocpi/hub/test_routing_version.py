"""The routing table each process keeps: reused while the routing version holds, rebuilt the
moment a change (suspend, resume, rule, status) commits, in this process or any other."""

from __future__ import annotations

import uuid

import pytest
import requests
from sqlalchemy import event, select, text

from app.core.security import digest_token, new_token
from app.extensions import db
from app.ocpi.hub import rules, status, table
from app.ocpi.hub.models import HubMember
from app.ocpi.models import OcpiPartner
from tests.ocpi.hub.conftest import add_party, hub_headers
from tests.ocpi.hub.party import start_party
from tests.ocpi.hub.serve import Instance

HUB = "/ocpi/hub"
PATH = "2.2.1/sender/locations/LOC1"


def _get(client, token, sender, to):
    return client.get(f"{HUB}/{PATH}", headers=hub_headers(token, sender, to))


def test_table_is_reused_while_nothing_changes_and_rebuilt_after_a_rule(client, make_party):
    emsp, token, _ = make_party(role="EMSP", party_id="EMS")
    cpo, _, cpo_server = make_party(role="CPO", party_id="CPA")
    first = table.table()
    assert table.table() is first
    assert _get(client, token, emsp, cpo).get_json()["status_code"] == 1000
    assert table.table() is first  # a routed request changed nothing
    rules.add_rule(cpo, "deny", "NL*EMS")
    assert table.table() is not first
    assert _get(client, token, emsp, cpo).get_json()["status_code"] == 4000
    assert len(cpo_server.received) == 1


def test_a_change_committed_elsewhere_applies_to_the_next_request(client, make_party):
    emsp, token, _ = make_party(role="EMSP", party_id="EMS")
    cpo, _, cpo_server = make_party(role="CPO", party_id="CPA")
    assert _get(client, token, emsp, cpo).get_json()["status_code"] == 1000
    cached = table._cached
    # What another process's suspend writes: the rows and a new version. This process's
    # table is not dropped by anyone; the version read on the next request does it.
    db.session.execute(
        text(
            "UPDATE hub_members SET suspended = true, status = 'SUSPENDED' WHERE partner_id = :id"
        ),
        {"id": cpo.id},
    )
    db.session.execute(
        text("UPDATE hub_state SET routing_version = :v WHERE id = 1"), {"v": uuid.uuid4().hex}
    )
    db.session.commit()
    assert table._cached is cached
    assert _get(client, token, emsp, cpo).get_json()["status_code"] == 4003
    assert len(cpo_server.received) == 1


def test_a_rolled_back_change_leaves_no_table_built_from_it(make_party):
    _, _, _ = make_party(role="EMSP", party_id="EMS")
    cpo, _, _ = make_party(role="CPO", party_id="CPA")
    db.session.commit()
    nested = db.session.begin_nested()
    db.session.get(HubMember, cpo.id).suspended = True
    db.session.flush()
    table.changed()
    assert table.table().members[cpo.id].suspended
    nested.rollback()
    assert not table.table().members[cpo.id].suspended


def _version() -> str:
    return db.session.execute(text("SELECT routing_version FROM hub_state")).scalar_one()


def test_suspend_and_resume_change_the_version(make_party):
    cpo, _, _ = make_party(role="CPO", party_id="CPA")
    before = _version()
    status.suspend(cpo)
    suspended = _version()
    status.resume(cpo)
    assert len({before, suspended, _version()}) == 3


# Hub parties are authenticated from the table: every token change writes a new version.


def test_a_rotated_token_is_refused_on_the_next_request(client, make_party):
    emsp, token, _ = make_party(role="EMSP", party_id="EMS")
    cpo, _, cpo_server = make_party(role="CPO", party_id="CPA")
    assert _get(client, token, emsp, cpo).get_json()["status_code"] == 1000
    before = _version()
    rotated = new_token()
    emsp.token_in_digest = digest_token(rotated)
    db.session.commit()
    assert _version() != before  # written by the change's own flush
    reply = _get(client, token, emsp, cpo)
    assert reply.status_code == 401 and reply.get_json()["status_code"] == 2000
    assert _get(client, rotated, emsp, cpo).get_json()["status_code"] == 1000
    assert len(cpo_server.received) == 2


def test_an_unregistered_party_is_refused_on_the_next_request(client, make_party):
    emsp, token, _ = make_party(role="EMSP", party_id="EMS")
    cpo, _, cpo_server = make_party(role="CPO", party_id="CPA")
    headers = hub_headers(token, emsp, cpo)
    assert client.get(f"{HUB}/{PATH}", headers=headers).get_json()["status_code"] == 1000
    auth = {"Authorization": headers["Authorization"]}
    assert client.delete(f"{HUB}/2.2.1/credentials", headers=auth).get_json()["status_code"] == 1000
    assert client.get(f"{HUB}/{PATH}", headers=headers).status_code == 401
    assert len(cpo_server.received) == 1


def test_a_deleted_party_is_refused_on_the_next_request(client, make_party):
    emsp, token, _ = make_party(role="EMSP", party_id="EMS")
    cpo, _, cpo_server = make_party(role="CPO", party_id="CPA")
    headers = hub_headers(token, emsp, cpo)
    assert client.get(f"{HUB}/{PATH}", headers=headers).get_json()["status_code"] == 1000
    before = _version()
    db.session.delete(emsp)
    db.session.commit()
    assert _version() != before
    assert client.get(f"{HUB}/{PATH}", headers=headers).status_code == 401
    assert len(cpo_server.received) == 1


def test_a_direct_partners_token_change_leaves_the_version(make_party):
    make_party(role="CPO", party_id="CPA")
    db.session.add(OcpiPartner(name="direct", status="REGISTERED", hub_member=False))
    db.session.commit()
    before = _version()
    direct = db.session.scalars(select(OcpiPartner).where(OcpiPartner.name == "direct")).one()
    direct.token_in_digest = digest_token(new_token())
    db.session.commit()
    assert _version() == before


# Several processes: the hub serves in its own process while the operator acts from this one.


@pytest.mark.slow
def test_operator_suspend_and_rule_apply_at_once_in_the_hub_process(hub: Instance):
    emsp_server, cpo_server = start_party(), start_party()
    try:
        with hub.app.app_context():
            emsp, token = add_party(emsp_server, role="EMSP", country_code="DE", party_id="EMS")
            cpo, _ = add_party(cpo_server, role="CPO", party_id="CPA")
            db.session.commit()
            headers = hub_headers(token, emsp, cpo)
            cpo_name = cpo.name
            emsp_name = emsp.name

        def routed() -> int:
            reply = requests.get(f"{hub.base}{HUB}/{PATH}", headers=headers, timeout=10)
            return reply.json()["status_code"]

        # Warm: the hub process has its table; then each operator change, at once.
        assert routed() == 1000 and routed() == 1000
        hub.cli("ocpi", "hub", "suspend", cpo_name)
        assert routed() == 4003
        hub.cli("ocpi", "hub", "resume", cpo_name)
        assert routed() == 1000
        hub.cli("ocpi", "hub", "rule", emsp_name, "deny", "NL*CPA")
        assert routed() == 4000
        hub.cli("ocpi", "hub", "unrule", emsp_name, "NL*CPA")
        assert routed() == 1000
        assert len(cpo_server.calls("/locations/LOC1")) == 4
    finally:
        emsp_server.stop()
        cpo_server.stop()


def test_broadcast_writes_every_delivery_in_one_call(client, make_party, app):
    cpo, token, _ = make_party(role="CPO", party_id="CPA")
    for party in ("EMA", "EMB", "EMC"):
        make_party(role="EMSP", country_code="DE", party_id=party)
    statements: list[tuple[str, bool]] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if "INTO outbox_events" in statement:
            statements.append((statement, executemany))

    engine = db.session.get_bind().engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        reply = client.put(
            f"{HUB}/2.2.1/receiver/locations/NL/CPA/LOC1",
            json={"id": "LOC1"},
            headers=hub_headers(token, cpo, ("NL", "HUB")),
        )
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert reply.get_json()["status_code"] == 1000
    # One executemany of the three rows (not an ORM object or a statement call per delivery).
    assert len(statements) == 1 and statements[0][1] is True
    assert (
        db.session.execute(
            text("SELECT count(*) FROM outbox_events WHERE topic = 'hub.deliver'")
        ).scalar()
        == 3
    )


def test_broadcast_failing_after_its_deliveries_leaves_none(client, make_party, monkeypatch):
    from app.ocpi.hub import messages

    cpo, token, _ = make_party(role="CPO", party_id="CPA")
    for party in ("EMA", "EMB", "EMC"):
        make_party(role="EMSP", country_code="DE", party_id=party)

    def broken(**fields):
        raise RuntimeError("log write failed")

    monkeypatch.setattr(messages, "record", broken)
    db.session.commit()  # the parties stay; what the request leaves uncommitted does not
    reply = client.put(
        f"{HUB}/2.2.1/receiver/locations/NL/CPA/LOC1",
        json={"id": "LOC1"},
        headers=hub_headers(token, cpo, ("NL", "HUB")),
    )
    assert reply.get_json()["status_code"] == 3000
    db.session.rollback()  # the request's teardown (here the test shares its session)
    assert (
        db.session.execute(
            text("SELECT count(*) FROM outbox_events WHERE topic = 'hub.deliver'")
        ).scalar()
        == 0
    )


@pytest.mark.slow
def test_a_rotated_or_deleted_token_is_refused_at_once_in_the_hub_process(hub: Instance):
    emsp_server, cpo_server = start_party(), start_party()
    try:
        with hub.app.app_context():
            emsp, token = add_party(emsp_server, role="EMSP", country_code="DE", party_id="EMS")
            cpo, _ = add_party(cpo_server, role="CPO", party_id="CPA")
            db.session.commit()
            headers = hub_headers(token, emsp, cpo)
            emsp_id = emsp.id

        def routed(with_token: str) -> int:
            auth = hub_headers(with_token, emsp, cpo)["Authorization"]
            reply = requests.get(
                f"{hub.base}{HUB}/{PATH}", headers={**headers, "Authorization": auth}, timeout=10
            )
            return reply.status_code

        assert routed(token) == 200 and routed(token) == 200  # the hub process has its table
        rotated = new_token()
        with hub.app.app_context():  # this process changes the token (as rotate or PUT would)
            db.session.get(OcpiPartner, emsp_id).token_in_digest = digest_token(rotated)
            db.session.commit()
        assert routed(token) == 401
        assert routed(rotated) == 200
        with hub.app.app_context():
            db.session.delete(db.session.get(OcpiPartner, emsp_id))
            db.session.commit()
        assert routed(rotated) == 401
        assert len(cpo_server.calls("/locations/LOC1")) == 3
    finally:
        emsp_server.stop()
        cpo_server.stop()
