"""Session progress and new CDRs go from the outbox to the token's eMSP only, by Celery too."""

from __future__ import annotations

from sqlalchemy import select

from app.core.celery import BEAT_SCHEDULE, celery_app
from app.core.outbox import OutboxEvent, emit
from app.extensions import db as _db
from app.ocpi.schemas.sessions import CDR, SESSION
from app.ocpi.tasks import deliver_outbox, deliver_outbox_task
from tests.ocpi.conformance import assert_exact


def _emsp(make_partner, peer, roles):
    base = f"{peer.state.base}/emsp/2.2.1"
    partner, _ = make_partner(
        roles=roles,
        endpoints=(
            ("sessions", "RECEIVER", f"{base}/sessions"),
            ("cdrs", "RECEIVER", f"{base}/cdrs"),
        ),
    )
    peer.state.tokens_accepted.add(partner.token_out)
    return partner


def _emit_session(session):
    payload = {
        "country_code": session.country_code,
        "party_id": session.party_id,
        "session_id": session.ocpi_id,
        "status": session.status,
    }
    emit(_db.session, "session.changed", "session", session.ocpi_id, payload)
    _db.session.flush()


def test_session_and_cdr_go_to_the_tokens_emsp_only(db, make_partner, make_session, peer):
    _emsp(make_partner, peer, (("EMSP", "DE", "EMS"),))
    _emsp(make_partner, peer, (("EMSP", "NL", "OTH"),))
    session = make_session()  # ended: its CDR wrote a cdr.created event
    _emit_session(session)
    own = make_session(token_party=("NL", "PLG"))  # PlugPool's own driver
    _emit_session(own)
    assert deliver_outbox(10) == 4
    puts = peer.received("sessions", "PUT")
    posts = peer.received("cdrs", "POST")
    assert [p.path for p in puts] == [f"/ocpi/emsp/2.2.1/sessions/NL/PLG/{session.ocpi_id}"]
    assert [p.body["id"] for p in posts] == [f"CDR-{session.ocpi_id}"]
    for request in (*puts, *posts):
        assert request.headers["OCPI-to-country-code"] == "DE"
        assert request.headers["OCPI-to-party-id"] == "EMS"
    assert_exact(SESSION["2.2.1"](), puts[0].body)
    assert_exact(CDR["2.2.1"](), posts[0].body)
    events = _db.session.scalars(select(OutboxEvent)).all()
    assert all(e.delivered_at is not None and e.last_error is None for e in events)
    assert deliver_outbox(10) == 0

    # Once the partner holds the session, progress goes by PATCH.
    _emit_session(session)
    assert deliver_outbox(10) == 1
    patch = peer.received("sessions", "PATCH")[0]
    assert patch.path == puts[0].path
    assert patch.body["status"] == "COMPLETED" and "last_updated" in patch.body
    assert "cdr_token" not in patch.body


def test_the_celery_task_delivers_and_beat_runs_it(db, make_partner, make_session, peer):
    assert "app.ocpi.tasks.deliver_outbox_task" in celery_app.tasks
    entry = BEAT_SCHEDULE["ocpi_deliver_outbox"]
    assert entry["task"] == "app.ocpi.tasks.deliver_outbox_task"
    _emsp(make_partner, peer, (("EMSP", "DE", "EMS"),))
    make_session()
    assert deliver_outbox_task.run(batch=1) == 1
    assert [p.method for p in peer.received("cdrs")] == ["POST"]
