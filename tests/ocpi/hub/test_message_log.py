"""The message log written in batches by a thread of its own, off the routed request's path.

The suite's app writes each row in the request's transaction (rolled back per test); these
tests turn the batches on and commit for real.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import delete, func, select

from app.core.db import drop_own_connection, own_connection
from app.extensions import db
from app.ocpi.hub import messages
from app.ocpi.hub.models import HubMessage
from app.ocpi.models import OcpiPartner
from tests.ocpi.hub.conftest import add_party, hub_headers
from tests.ocpi.hub.party import Party, start_party

ROUTED = "/ocpi/hub/2.2.1/sender/locations/LOC1"


@pytest.fixture
def batched(app, committed_db, monkeypatch) -> Iterator[list[Party]]:
    """The app with batched log writes (an hour apart unless told), in an app context."""
    monkeypatch.setitem(app.config, "HUB_MESSAGE_FLUSH_SECONDS", 3600)
    monkeypatch.setitem(app.config, "HUB_MESSAGE_FLUSH_ROWS", 1000)
    servers: list[Party] = []
    with app.app_context():
        yield servers
        messages.flush()
    for server in servers:
        server.stop()


def _pair(servers: list[Party]) -> tuple[OcpiPartner, str, OcpiPartner]:
    servers += [start_party(), start_party()]
    emsp, token = add_party(servers[0], role="EMSP", country_code="DE", party_id="EMS")
    cpo, _ = add_party(servers[1], role="CPO", party_id="CPA")
    db.session.commit()
    return emsp, token, cpo


def _logged(sender: OcpiPartner) -> int:
    query = select(func.count()).where(HubMessage.sender_partner_id == sender.id)
    return db.session.scalar(query) or 0


def test_a_routed_request_leaves_its_row_to_the_next_batch(app, batched):
    emsp, token, cpo = _pair(batched)
    client = app.test_client()
    for _ in range(3):
        reply = client.get(ROUTED, headers=hub_headers(token, emsp, cpo))
        assert reply.get_json()["status_code"] == 1000
    print(
        "ROWS",
        [
            (m.id, m.kind, m.created_at, m.status_code, m.request_id)
            for m in db.session.scalars(select(HubMessage))
        ],
    )
    assert _logged(emsp) == 0
    assert messages.flush() == 3
    db.session.rollback()  # a fresh snapshot
    assert _logged(emsp) == 3
    # Written on this thread's own connection, whose log batches skip waiting for the disk.
    own = own_connection(db.engine)
    assert own.execute("SHOW synchronous_commit").fetchone() == ("off",)
    drop_own_connection(db.engine)


def test_enough_waiting_rows_are_written_without_waiting_for_the_interval(app, batched):
    app.config["HUB_MESSAGE_FLUSH_ROWS"] = 2
    emsp, token, cpo = _pair(batched)
    client = app.test_client()
    for _ in range(2):
        client.get(ROUTED, headers=hub_headers(token, emsp, cpo))
    deadline = time.monotonic() + 10
    while _logged(emsp) < 2 and time.monotonic() < deadline:
        db.session.rollback()
        time.sleep(0.02)
    assert _logged(emsp) == 2


def test_rows_of_a_party_deleted_before_the_batch_keep_the_others_ids(app, batched):
    emsp, token, cpo = _pair(batched)
    app.test_client().get(ROUTED, headers=hub_headers(token, emsp, cpo))
    db.session.execute(delete(OcpiPartner).where(OcpiPartner.id == cpo.id))
    db.session.commit()
    assert messages.flush() == 1
    row = db.session.scalars(
        select(HubMessage).where(HubMessage.sender_partner_id == emsp.id)
    ).one()
    assert (row.sender_partner_id, row.receiver_partner_id) == (emsp.id, None)
