"""Station keys that passed Argon2, remembered as keyed digests: a reconnect costs no Argon2.

One Argon2 check of a station key takes ~185 ms of CPU (the library's default profile), so
the stations of a lost gateway node reconnecting to another one at once (a few thousand)
would queue for minutes on the handshake threads. After a key passes Argon2 once, its
HMAC-SHA256 (keyed from SECRET_KEY, over the station id, the stored hash and the key) is
kept, in Redis when the gateway nodes share one (GATEWAY_BUS=redis, so any node knows it),
else in this process. A later handshake whose digest matches skips Argon2. A new stored
hash (key rotation) changes the digest, so an old key never matches. The digest is useless
without SECRET_KEY, and station keys are generated with ~140 bits of entropy
(`app.core.security.new_password`), so a leaked digest does not reveal a key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

import redis
from flask import current_app

from app.core.security import verify_secret

log = logging.getLogger(__name__)

TTL_SECONDS = 24 * 3600
LOCAL_LIMIT = 100_000  # entries kept in-process before the oldest are forgotten


class LocalDigests:
    """In-process store (one gateway process, or no Redis)."""

    def __init__(self) -> None:
        self._digests: dict[str, str] = {}

    def get(self, station_id: str) -> str | None:
        """Return the remembered digest of a station's key."""
        return self._digests.get(station_id)

    def put(self, station_id: str, digest: str) -> None:
        """Remember a station key's digest."""
        if len(self._digests) >= LOCAL_LIMIT:
            self._digests.pop(next(iter(self._digests)))
        self._digests[station_id] = digest


class RedisDigests:
    """Store shared by the gateway nodes; a Redis failure only means Argon2 runs again."""

    def __init__(self, url: str, prefix: str) -> None:
        self._redis = redis.Redis.from_url(url, decode_responses=True)
        self._prefix = f"{prefix}keydigest:"

    def get(self, station_id: str) -> str | None:
        """Return the remembered digest of a station's key (None when Redis fails)."""
        try:
            value = self._redis.get(self._prefix + station_id)
        except redis.RedisError as error:
            log.warning("station key cache: %s", type(error).__name__)
            return None
        return None if value is None else str(value)

    def put(self, station_id: str, digest: str) -> None:
        """Remember a station key's digest for a day."""
        try:
            self._redis.set(self._prefix + station_id, digest, ex=TTL_SECONDS)
        except redis.RedisError as error:
            log.warning("station key cache: %s", type(error).__name__)


def _store() -> Any:
    """Return the app's digest store, made once per app from its settings."""
    store = current_app.extensions.get("station_key_digests")
    if store is None:
        config = current_app.config
        if config.get("GATEWAY_BUS", "local") == "redis":
            store = RedisDigests(config["REDIS_URL"], config.get("GATEWAY_REDIS_PREFIX", ""))
        else:
            store = LocalDigests()
        current_app.extensions["station_key_digests"] = store
    return store


def _digest(station_id: str, stored_hash: str, key: str) -> str:
    """Return the keyed digest of a station key checked against one stored hash."""
    secret = hmac.new(
        str(current_app.config["SECRET_KEY"]).encode(), b"station-key-cache", hashlib.sha256
    ).digest()
    message = "\0".join((station_id, stored_hash, key)).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def verify_station_key(station_id: str, stored_hash: str, key: str) -> bool:
    """Check a station key: by its remembered digest, else by Argon2 (then remember it)."""
    store = _store()
    digest = _digest(station_id, stored_hash, key)
    remembered = store.get(station_id)
    if remembered is not None and hmac.compare_digest(remembered, digest):
        return True
    if not verify_secret(stored_hash, key):
        return False
    store.put(station_id, digest)
    return True
