"""The command bus: how web requests, jobs and the OCPI side reach a connected station.

Two buses share one API:

- `LocalBus`: in-process. The caller lives in the gateway's process (another
  thread, or the event loop itself).
- `RedisBus`: several gateway nodes. Each node keeps a presence key per station
  it holds (`<prefix>station:<id>` -> node id, TTL refreshed while connected),
  a liveness key of its own (`<prefix>alive:<node>`, a TTL of a few seconds,
  refreshed several times a TTL) and pops requests from its own list
  (`<prefix>node:<node>:commands`). A caller looks up the node and its liveness
  in one round trip, pushes a request with a correlation id and a deadline, and
  waits on `<prefix>reply:<correlation id>`, looking at the node's liveness each
  second of the wait. `RedisCommandClient` is that caller for sync code in other
  processes (Flask, Celery).

A node that died (SIGKILL, a lost host) leaves presence keys that live on for their
TTL: a caller learns at once that the node is gone (StationOffline) instead of waiting
its whole timeout, and reaches the station on its new node once it has reconnected.

Every caller gets a `CommandResult`, or one of `StationOffline`,
`CommandTimeout`, `CommandFailed` (the station sent a CallError),
`UnsupportedCommand`, `InvalidCommand`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Protocol

import redis
import redis.asyncio as aioredis

from app.gateway.commands import Command, CommandResult, from_wire, to_wire
from app.gateway.errors import (
    ERROR_TYPES,
    CommandFailed,
    CommandTimeout,
    GatewayError,
    StationOffline,
)

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0


class LocalExecutor(Protocol):
    """What a bus needs from the gateway process it serves (see `server.Gateway`)."""

    def execute(
        self, station_id: str, command: Command, timeout: float
    ) -> Awaitable[CommandResult]:
        """Send a command to a station held by this process."""
        ...

    def evict(self, station_id: str, claim: int | None) -> Awaitable[None]:
        """Close this process's connection of a station claimed later by another node."""
        ...


class CommandBus(Protocol):
    """The gateway-side bus API (callers use `send` or `send_command`)."""

    async def start(self, executor: LocalExecutor) -> None:
        """Begin serving commands for the gateway `executor`."""
        ...

    async def close(self) -> None:
        """Stop serving and forget this node's stations."""
        ...

    async def attach(self, station_id: str) -> int | None:
        """Announce that this process now holds the station; return the claim's number, if any."""
        ...

    async def detach(self, station_id: str) -> None:
        """Announce that the station's connection here has closed."""
        ...

    async def send(
        self, station_id: str, command: Command, timeout: float = DEFAULT_TIMEOUT
    ) -> CommandResult:
        """Send a command from async code and await the station's answer."""
        ...


class LocalBus:
    """In-process bus for the embedded setup: one gateway process, callers in its threads."""

    def __init__(self) -> None:
        self._executor: LocalExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self, executor: LocalExecutor) -> None:
        """Bind to the gateway and its event loop."""
        self._executor = executor
        self._loop = asyncio.get_running_loop()

    async def close(self) -> None:
        """Unbind; later sends find every station offline."""
        self._executor = None

    async def attach(self, station_id: str) -> int | None:
        """Nothing to announce in-process."""
        return None

    async def detach(self, station_id: str) -> None:
        """Nothing to announce in-process."""

    async def send(
        self, station_id: str, command: Command, timeout: float = DEFAULT_TIMEOUT
    ) -> CommandResult:
        """Send a command from code running on the gateway's event loop."""
        if self._executor is None:
            raise StationOffline("the gateway is not running")
        return await self._executor.execute(station_id, command, timeout)

    def send_command(
        self, station_id: str, command: Command, timeout: float = DEFAULT_TIMEOUT
    ) -> CommandResult:
        """Send a command from another thread and block until the answer or the timeout."""
        loop = self._loop
        if loop is None or self._executor is None:
            raise StationOffline("the gateway is not running")
        if _running_loop() is loop:
            raise RuntimeError("send_command blocks; on the gateway's loop use `await bus.send`")
        future = asyncio.run_coroutine_threadsafe(self.send(station_id, command, timeout), loop)
        try:
            return future.result(timeout + 5)  # the coroutine itself enforces `timeout`
        except concurrent.futures.TimeoutError:
            raise CommandTimeout(f"the gateway loop did not answer within {timeout}s") from None


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """Return the event loop running in this thread, if any."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


@dataclass(frozen=True, slots=True)
class RedisKeys:
    """Key names shared by gateway nodes and callers."""

    prefix: str = "plugpool:gw:"

    def presence(self, station_id: str) -> str:
        """Key holding the node id that holds a station."""
        return f"{self.prefix}station:{station_id}"

    def queue(self, node_id: str) -> str:
        """List a node pops its requests from."""
        return f"{self.prefix}node:{node_id}:commands"

    def reply(self, correlation_id: str) -> str:
        """List the answer to one request is pushed to."""
        return f"{self.prefix}reply:{correlation_id}"

    def claim(self, station_id: str) -> str:
        """Counter numbering the station's connections across nodes (one small key a station)."""
        return f"{self.prefix}claim:{station_id}"

    def alive(self, node_id: str) -> str:
        """Key that exists while a node lives (`alive("")` is the prefix the route script uses)."""
        return f"{self.prefix}alive:{node_id}"


REPLY_TTL = 60
REDIS_POOL_SIZE = 50  # connections a gateway node opens to Redis at most, per client
NODE_TTL = 5.0  # seconds a node's liveness key outlives its last refresh (GATEWAY_NODE_TTL)
NODE_BEATS_PER_TTL = 5  # refreshes a TTL: a loop stalled for 4/5 of it is not taken for dead
LIVENESS_POLL = 1.0  # seconds a caller waits for a reply between looks at the node's liveness

# The node holding a station and whether that node is alive, in one round trip (the
# liveness key is named after the node, which only the presence key knows).
_ROUTE = (
    "local node = redis.call('get', KEYS[1]) "
    "if not node then return false end "
    "return {node, redis.call('exists', ARGV[1] .. node)}"
)

# Refresh or delete a presence key only while it still names this node: a station
# that reconnected to another node must keep the newer claim.
_REFRESH_IF_MINE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('expire', KEYS[1], ARGV[2]) end return 0"
)
# Take a station over and number the claim in one step: an eviction then names the claim
# it comes from, and a node closes only connections claimed before it (a late eviction
# from an older claim must not close the station's newest connection).
_CLAIM = (
    "local previous = redis.call('get', KEYS[1]) "
    "redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2]) "
    "return {previous or '', redis.call('incr', KEYS[2])}"
)
_DELETE_IF_MINE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)


def command_request(station_id: str, command: Command, timeout: float) -> tuple[str, str]:
    """Return (correlation id, JSON request) for a command with its absolute deadline."""
    correlation_id = uuid.uuid4().hex
    request = {
        "kind": "command",
        "id": correlation_id,
        "station_id": station_id,
        "command": to_wire(command),
        "deadline": time.time() + timeout,
    }
    return correlation_id, json.dumps(request)


def encode_reply(result: CommandResult | None, error: GatewayError | None) -> str:
    """Serialise a result or a gateway error as a reply."""
    if error is None:
        assert result is not None
        return json.dumps({"ok": True, "status": result.status, "payload": result.payload})
    reply = {"ok": False, "error": type(error).__name__, "message": str(error)}
    if isinstance(error, CommandFailed):
        reply.update(code=error.code, description=error.description)
    return json.dumps(reply, default=str)


def decode_reply(raw: str | bytes) -> CommandResult:
    """Return the result in a reply, or raise the error it carries."""
    reply = json.loads(raw)
    if reply["ok"]:
        return CommandResult(reply["status"], reply["payload"])
    if reply["error"] == "CommandFailed":
        raise CommandFailed(reply["code"], reply["description"])
    raise ERROR_TYPES.get(reply["error"], GatewayError)(reply["message"])


def route_or_offline(station_id: str, route: list[Any] | None) -> str:
    """Return the node of a `_ROUTE` answer; raise StationOffline if none holds it or it died."""
    if not route:
        raise StationOffline(f"{station_id} is not connected to any gateway node")
    node, alive = route
    if not alive:
        raise StationOffline(f"{station_id} was held by gateway node {node}, which is down")
    return str(node)


def poll_seconds(remaining: float) -> float:
    """Return the next reply wait: at most LIVENESS_POLL, never 0 (BLPOP's "forever")."""
    return max(0.01, min(remaining, LIVENESS_POLL))


def node_died(station_id: str, node: str, withdrawn: int) -> GatewayError:
    """Return the error for a node that died during the wait: offline if the request was
    still queued there (withdrawn, never sent), a timeout if the node had taken it."""
    if withdrawn:
        return StationOffline(f"gateway node {node} holding {station_id} is down; nothing sent")
    return CommandTimeout(f"gateway node {node} went down before {station_id} answered")


def new_node_id() -> str:
    """Return a node id unique across hosts and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class RedisBus:
    """Bus across gateway nodes through Redis: presence registry plus per-node request lists."""

    def __init__(
        self,
        url: str,
        *,
        keys: RedisKeys | None = None,
        node_id: str | None = None,
        presence_ttl: int = 30,
        node_ttl: float = NODE_TTL,
    ) -> None:
        self.keys = keys or RedisKeys()
        self.node_id = node_id or new_node_id()
        self.presence_ttl = presence_ttl
        self.node_ttl = node_ttl
        # A pool that waits for a free connection: redis-py's default one raises "Too many
        # connections" past 100, which a reconnect storm of thousands of stations reaches.
        self._redis = aioredis.Redis(
            connection_pool=aioredis.BlockingConnectionPool.from_url(
                url, decode_responses=True, max_connections=REDIS_POOL_SIZE, timeout=30
            )
        )
        # BLPOP holds a connection, and waits longer than redis-py's default 5 s socket
        # timeout: the command's own timeout bounds it.
        self._blocking = aioredis.Redis(
            connection_pool=aioredis.BlockingConnectionPool.from_url(
                url, decode_responses=True, socket_timeout=None,
                max_connections=REDIS_POOL_SIZE, timeout=None,
            )
        )  # fmt: skip
        # The liveness beat has a connection of its own: in a reconnect storm it must not
        # wait behind thousands of claims for a pooled one (callers would take us for dead).
        self._beat_redis = aioredis.Redis.from_url(url, decode_responses=True)
        self._route_script = self._redis.register_script(_ROUTE)
        self._refresh_script = self._redis.register_script(_REFRESH_IF_MINE)
        self._delete_script = self._redis.register_script(_DELETE_IF_MINE)
        self._claim_script = self._redis.register_script(_CLAIM)
        self._held: set[str] = set()
        # Claims waiting for the next pipeline, and the task that sends them (see attach).
        self._claims: list[tuple[str, asyncio.Future[list[Any]]]] = []
        self._claiming: asyncio.Task[None] | None = None
        self._executor: LocalExecutor | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loops: list[asyncio.Task[None]] = []

    async def start(self, executor: LocalExecutor) -> None:
        """Mark this node alive; start consuming its requests and refreshing its keys."""
        self._executor = executor
        await self._mark_alive()
        self._loops = [
            asyncio.create_task(self._consume(), name="redis-bus-consume"),
            asyncio.create_task(self._refresh(), name="redis-bus-refresh"),
            asyncio.create_task(self._beat(), name="redis-bus-beat"),
        ]

    async def close(self) -> None:
        """Stop the loops, drop this node's liveness, presence keys and pending requests."""
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        await self._beat_redis.delete(self.keys.alive(self.node_id))
        await self._beat_redis.aclose()
        for station_id in list(self._held):
            await self.detach(station_id)
        await self._redis.delete(self.keys.queue(self.node_id))
        await self._redis.aclose(close_connection_pool=True)
        await self._blocking.aclose(close_connection_pool=True)

    async def attach(self, station_id: str) -> int | None:
        """Claim the station; tell a node that held it before to close its older socket."""
        self._held.add(station_id)
        claimed: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._claims.append((station_id, claimed))
        if self._claiming is None or self._claiming.done():
            self._claiming = asyncio.create_task(self._claim_batches(), name="redis-bus-claims")
        _, claim = await claimed  # the batch told a node that held it before (eviction)
        return int(claim)

    async def _claim_batches(self) -> None:
        """Run the claims waiting, one pipeline a batch: in a reconnect storm one round trip
        (and one pass through the client) serves many stations instead of one each."""
        while self._claims:
            batch, self._claims = self._claims, []
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for station_id, _ in batch:
                        await self._claim_script(
                            keys=[self.keys.presence(station_id), self.keys.claim(station_id)],
                            args=[self.node_id, self.presence_ttl],
                            client=pipe,
                        )
                    results = await pipe.execute()
                    # Nodes that held these stations close their older sockets. After a
                    # node died these are most of a storm's stations: one pipeline too.
                    for (station_id, _), (previous, claim) in zip(batch, results, strict=True):
                        if previous and previous != self.node_id:
                            evict = {"kind": "evict", "station_id": station_id, "claim": claim}
                            pipe.rpush(self.keys.queue(previous), json.dumps(evict))
                    if len(pipe):
                        await pipe.execute()
            except Exception as error:  # every waiting attach fails as a single call would
                for _, claimed in batch:
                    if not claimed.done():
                        claimed.set_exception(error)
                continue
            for (_, claimed), result in zip(batch, results, strict=True):
                if not claimed.done():  # an attach cancelled meanwhile (its socket closed)
                    claimed.set_result(result)

    async def detach(self, station_id: str) -> None:
        """Release the station unless another node has claimed it since."""
        self._held.discard(station_id)
        await self._delete_script(keys=[self.keys.presence(station_id)], args=[self.node_id])

    async def send(
        self, station_id: str, command: Command, timeout: float = DEFAULT_TIMEOUT
    ) -> CommandResult:
        """Send a command to whichever node holds the station and await the answer."""
        route = await self._route_script(
            keys=[self.keys.presence(station_id)], args=[self.keys.alive("")]
        )
        if route and route[0] == self.node_id and self._executor is not None:
            return await self._executor.execute(station_id, command, timeout)
        node = route_or_offline(station_id, route)
        correlation_id, request = command_request(station_id, command, timeout)
        queue, reply_key = self.keys.queue(node), self.keys.reply(correlation_id)
        await self._redis.rpush(queue, request)
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            reply = await self._blocking.blpop([reply_key], timeout=poll_seconds(remaining))
            if reply is not None:
                return decode_reply(reply[1])
            if not await self._redis.exists(self.keys.alive(node)):
                withdrawn = await self._redis.lrem(queue, 1, request)
                late = await self._redis.lpop(reply_key)  # answered just before it died
                if late is not None:
                    return decode_reply(late)
                raise node_died(station_id, node, withdrawn)
        raise CommandTimeout(f"no answer from {station_id} within {timeout}s")

    async def _consume(self) -> None:
        """Pop requests for this node and serve each in its own task."""
        queue = self.keys.queue(self.node_id)
        while True:
            try:
                item = await self._blocking.blpop([queue], timeout=1)
            except (redis.ConnectionError, redis.TimeoutError) as error:
                log.warning("redis bus: %s; retrying", error)
                await asyncio.sleep(1)
                continue
            if item is not None:
                self._spawn(self._serve(json.loads(item[1])))

    async def _serve(self, request: dict[str, Any]) -> None:
        """Execute one request and push its reply (or close an evicted station's socket)."""
        assert self._executor is not None
        if request["kind"] == "evict":
            await self._executor.evict(request["station_id"], request.get("claim"))
            return
        remaining = request["deadline"] - time.time()
        if remaining <= 0:
            return  # the caller has given up; a late RemoteStart must not start charging
        result: CommandResult | None = None
        error: GatewayError | None = None
        try:
            command = from_wire(request["command"])
            result = await self._executor.execute(request["station_id"], command, remaining)
        except GatewayError as failure:
            error = failure
        reply_key = self.keys.reply(request["id"])
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.rpush(reply_key, encode_reply(result, error))
            pipe.expire(reply_key, REPLY_TTL)
            await pipe.execute()

    async def _beat(self) -> None:
        """Keep this node's liveness key alive, several times per TTL."""
        while True:
            await asyncio.sleep(self.node_ttl / NODE_BEATS_PER_TTL)
            try:
                await self._mark_alive()
            except redis.RedisError as error:
                log.warning("redis bus: liveness refresh failed: %s", error)

    async def _mark_alive(self) -> None:
        """Set this node's liveness key for one TTL."""
        ttl_ms = max(1, round(self.node_ttl * 1000))
        await self._beat_redis.set(self.keys.alive(self.node_id), "1", px=ttl_ms)

    async def _refresh(self) -> None:
        """Keep this node's presence keys alive while their stations stay connected."""
        while True:
            await asyncio.sleep(self.presence_ttl / 3)
            try:
                await self._refresh_all()
            except redis.RedisError as error:
                log.warning("redis bus: presence refresh failed: %s", error)

    async def _refresh_all(self) -> None:
        """Refresh presence in pipelined batches (10k stations are 10 round trips)."""
        held = list(self._held)
        for start in range(0, len(held), 1000):
            async with self._redis.pipeline(transaction=False) as pipe:
                for station_id in held[start : start + 1000]:
                    await self._refresh_script(
                        keys=[self.keys.presence(station_id)],
                        args=[self.node_id, self.presence_ttl],
                        client=pipe,
                    )
                await pipe.execute()

    def _spawn(self, coro: Any) -> None:
        """Run a request in the background, keeping a reference until it ends."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class RedisCommandClient:
    """Sync caller for Flask views and Celery tasks in other processes."""

    def __init__(self, url: str, *, keys: RedisKeys | None = None) -> None:
        self.keys = keys or RedisKeys()
        self._redis = redis.Redis.from_url(url, decode_responses=True)
        # The reply wait outlasts redis-py's default 5 s socket timeout (which would raise a
        # redis TimeoutError, not CommandTimeout): BLPOP's own timeout bounds it.
        self._blocking = redis.Redis.from_url(url, decode_responses=True, socket_timeout=None)
        self._route_script = self._redis.register_script(_ROUTE)

    def send_command(
        self, station_id: str, command: Command, timeout: float = DEFAULT_TIMEOUT
    ) -> CommandResult:
        """Send a command to the node holding the station; block until the answer or timeout.

        A station whose node is down fails at once (StationOffline), as does a request still
        queued at a node that dies during the wait; one the dead node had taken, CommandTimeout.
        """
        route = self._route_script(
            keys=[self.keys.presence(station_id)], args=[self.keys.alive("")]
        )
        node = route_or_offline(station_id, route)  # type: ignore[arg-type]
        correlation_id, request = command_request(station_id, command, timeout)
        queue, reply_key = self.keys.queue(node), self.keys.reply(correlation_id)
        self._redis.rpush(queue, request)
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            reply = self._blocking.blpop([reply_key], timeout=poll_seconds(remaining))
            if reply is not None:
                return decode_reply(reply[1])  # type: ignore[index]
            if not self._redis.exists(self.keys.alive(node)):
                withdrawn = self._redis.lrem(queue, 1, request)
                late = self._redis.lpop(reply_key)  # answered just before it died
                if late is not None:
                    return decode_reply(late)  # type: ignore[arg-type]
                raise node_died(station_id, node, withdrawn)  # type: ignore[arg-type]
        raise CommandTimeout(f"no answer from {station_id} within {timeout}s")

    def close(self) -> None:
        """Release the connection pools."""
        self._redis.close()
        self._blocking.close()
