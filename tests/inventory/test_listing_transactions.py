"""Each listing write is one real transaction: the rows and the outbox event commit together."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.accounts.models import Role, User
from app.core.security import hash_secret
from app.extensions import db
from app.inventory import services
from tests.inventory.conftest import LISTING

COUNT = (
    "SELECT (SELECT count(*) FROM locations), (SELECT count(*) FROM evses),"
    " (SELECT count(*) FROM charge_stations), (SELECT count(*) FROM tariffs),"
    " (SELECT count(*) FROM outbox_events)"
)


def _owner() -> User:
    owner = User(email="tx-owner@example.test", password_hash=hash_secret("x" * 12), name="O")
    owner.role = Role.OWNER.value
    db.session.add(owner)
    db.session.commit()
    return owner


def _counts_seen_by_another_connection() -> tuple[int, ...]:
    with db.engine.connect() as other:
        return tuple(other.execute(text(COUNT)).one())


def test_listing_and_its_outbox_events_commit_together(app, committed_db):
    with app.app_context():
        owner = _owner()
        services.create_listing(owner, services.parse_listing(LISTING))
        assert _counts_seen_by_another_connection() == (1, 1, 1, 1, 2)


def test_a_failure_after_the_event_was_written_leaves_nothing(app, committed_db, monkeypatch):
    def crash(*_args):
        raise RuntimeError("the process died half-way")

    monkeypatch.setattr(services, "_emit_tariff", crash)
    with app.app_context():
        owner = _owner()
        with pytest.raises(RuntimeError):
            services.create_listing(owner, services.parse_listing(LISTING))
        assert _counts_seen_by_another_connection() == (0, 0, 0, 0, 0)
        # The session is usable again: the failed change was rolled back, not left pending.
        assert db.session.get(User, owner.id).email == "tx-owner@example.test"
