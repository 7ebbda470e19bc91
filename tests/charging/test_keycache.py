"""Station keys that passed Argon2 once are checked by their keyed digest on reconnect."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask

from app.charging import keycache
from app.core.security import hash_secret

KEY = "right-key-0123456789"
OTHER = "wrong-key-0123456789"


@pytest.fixture
def argon2_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count the Argon2 checks the cache lets through."""
    calls: list[str] = []
    real = keycache.verify_secret

    def counted(stored: str, key: str) -> bool:
        calls.append(key)
        return real(stored, key)

    monkeypatch.setattr(keycache, "verify_secret", counted)
    return calls


def test_a_reconnect_with_the_same_key_costs_no_argon2(app: Flask, argon2_calls: list[str]):
    stored, station = hash_secret(KEY), f"KC-{uuid.uuid4().hex[:8]}"
    with app.app_context():
        assert keycache.verify_station_key(station, stored, KEY)
        assert keycache.verify_station_key(station, stored, KEY)
        assert argon2_calls == [KEY]
        assert not keycache.verify_station_key(station, stored, OTHER)  # a wrong key: Argon2
        assert argon2_calls == [KEY, OTHER]


def test_after_a_key_rotation_the_old_key_is_not_remembered(app: Flask, argon2_calls: list[str]):
    old_hash, station = hash_secret(KEY), f"KC-{uuid.uuid4().hex[:8]}"
    with app.app_context():
        assert keycache.verify_station_key(station, old_hash, KEY)
        new_hash = hash_secret(OTHER)
        assert not keycache.verify_station_key(station, new_hash, KEY)
        assert keycache.verify_station_key(station, new_hash, OTHER)
        assert argon2_calls == [KEY, KEY, OTHER]


def test_gateway_nodes_on_redis_share_what_one_of_them_checked(
    app: Flask, argon2_calls: list[str], monkeypatch: pytest.MonkeyPatch
):
    stored, station = hash_secret(KEY), f"KC-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(app.config, "GATEWAY_BUS", "redis")
    monkeypatch.setitem(app.config, "GATEWAY_REDIS_PREFIX", f"kc-{uuid.uuid4().hex[:8]}:")
    with app.app_context():
        monkeypatch.delitem(app.extensions, "station_key_digests", raising=False)
        assert keycache.verify_station_key(station, stored, KEY)  # node A
        app.extensions.pop("station_key_digests")  # node B: its own store object, same Redis
        assert keycache.verify_station_key(station, stored, KEY)
        assert argon2_calls == [KEY]
        app.extensions.pop("station_key_digests")
