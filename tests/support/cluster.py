"""The `make cluster` processes on free ports, each its own process group, one killable at a time.

`scripts.cluster` writes the Procfile and nginx.conf from the settings; here every Procfile
line runs as its own process (not under honcho) so a test or a bench can SIGKILL one node.
`ChargerFleet` runs many simulated chargers (app.gateway.simulator) through the proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shlex
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
import requests
from argon2 import PasswordHasher

import config
from app.gateway.ports import OcppVersion
from app.gateway.simulator import Simulated, SimulatorConfig, simulate
from scripts import cluster
from tests.gateway.support import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
# Fleet stations' key hash: Argon2id with cheap parameters (the hash carries them), so the
# first connection of thousands of chargers does not cost ~185 ms of CPU each (the default
# profile). Reconnects skip Argon2 either way (app.charging.keycache): that is what a
# failover measures, not the first-connect cost.
FLEET_KEY_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
REDIS_URL = os.environ.get("TEST_CLUSTER_REDIS_URL", "redis://127.0.0.1:6379/9")
START_TIMEOUT = 90.0


def free_block(size: int) -> int:
    """Return the first of `size` consecutive loopback ports that are free right now."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + size >= 65000:
            continue
        if all(_free(port) for port in range(base, base + size)):
            return base
    raise RuntimeError("no block of free ports")


def _free(port: int) -> bool:
    """Tell whether nothing listens on a loopback port."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class Cluster:
    """Running cluster processes by Procfile name ("web1", "gateway2", "proxy", ...)."""

    settings: dict[str, Any]
    env: dict[str, str]
    directory: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def http_url(self) -> str:
        """The proxy's HTTP address."""
        return f"http://127.0.0.1:{self.settings['CLUSTER_HTTP_PORT']}"

    @property
    def ocpp_url(self) -> str:
        """The proxy's OCPP WebSocket address (station id appended by chargers)."""
        return f"ws://127.0.0.1:{self.settings['CLUSTER_HTTP_PORT']}/ocpp"

    @property
    def prefix(self) -> str:
        """This cluster's Redis key prefix for the gateway bus."""
        return self.env["GATEWAY_REDIS_PREFIX"]

    def log(self, name: str) -> str:
        """Return what a process wrote so far."""
        return (self.directory / f"{name}.log").read_text(errors="replace")

    def kill(self, name: str) -> None:
        """SIGKILL a node (its whole process group: gunicorn's workers too), no clean-up."""
        process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def connected_to(self, port: int) -> list[str]:
        """Return the processes (by name) with a TCP connection to a loopback port open now:
        which Celery worker is pushing to a peer (its prefork children count as it)."""
        inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(OSError), open(table) as rows:
                for row in list(rows)[1:]:
                    fields = row.split()
                    if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                        inodes.add(fields[9])  # ESTABLISHED to that port
        found = []
        for name, process in self.processes.items():
            for pid in _group(process.pid):
                with contextlib.suppress(OSError):
                    links = {
                        os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")
                    }
                    if any(f"socket:[{inode}]" in links for inode in inodes):
                        found.append(name)
                        break
        return found

    def node_of(self, name: str) -> str:
        """Return the gateway bus node id of a running gateway process (it embeds the pid)."""
        return f":{self.processes[name].pid}:"

    def holders(self, station_ids: list[str]) -> dict[str, str | None]:
        """Return, per station, the name of the gateway process whose presence key holds it."""
        client = redis.Redis.from_url(self.env["REDIS_URL"], decode_responses=True)
        try:
            nodes = client.mget([f"{self.prefix}station:{sid}" for sid in station_ids])
        finally:
            client.close()
        names = {name: self.node_of(name) for name in self.processes if name.startswith("gateway")}
        found: dict[str, str | None] = {}
        for station_id, node in zip(station_ids, nodes, strict=True):
            found[station_id] = next(
                (name for name, pid in names.items() if node and pid in node), None
            )
        return found


def _group(pgid: int) -> list[int]:
    """Return the pids of a process group."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/stat") as stat:
                # Fields after the command name (which may hold spaces): state ppid pgrp ...
                if int(stat.read().rsplit(")", 1)[1].split()[2]) == pgid:
                    pids.append(int(entry))
    return pids


def cluster_settings(**overrides: Any) -> dict[str, Any]:
    """The cluster settings on free ports (and what the caller overrides)."""
    web = int(overrides.get("CLUSTER_WEB_NODES", 1))
    gateways = int(overrides.get("CLUSTER_GATEWAY_NODES", 2))
    return config.load(
        "default",
        {
            "CLUSTER_HTTP_PORT": free_block(1),
            "CLUSTER_WEB_NODES": web,
            "CLUSTER_WEB_BASE_PORT": free_block(web),
            "CLUSTER_GATEWAY_NODES": gateways,
            "CLUSTER_GATEWAY_BASE_PORT": free_block(gateways),
            "CLUSTER_GATEWAY_METRICS_BASE_PORT": free_block(gateways),
            "CLUSTER_WORKERS": 1,
            **overrides,
        },
    )


@contextlib.contextmanager
def running_cluster(
    database_url: str,
    directory: Path,
    env: dict[str, str] | None = None,
    redis_url: str = REDIS_URL,
    **overrides: Any,
) -> Iterator[Cluster]:
    """Write the files with scripts.cluster, start every Procfile line, stop them all after.

    `redis_url` is the cluster's own Redis database: its Celery queue is not namespaced, so
    two clusters at once (a test beside the bench) need two databases.
    """
    settings = cluster_settings(DATABASE_URL=database_url, REDIS_URL=redis_url, **overrides)
    procfile = cluster.write_files(settings, directory)
    environment = {
        **cluster.cluster_env(settings),
        "PLUGPOOL_ENV": "default",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "GATEWAY_REDIS_PREFIX": f"cluster-{uuid.uuid4().hex[:8]}:",
        # The PostgreSQL here is shared: fewer port threads than the pool's 30 connections.
        "GATEWAY_PORT_THREADS": "8",
        "GUNICORN_WORKERS": "2",
        **(env or {}),
    }
    running = Cluster(settings, environment, directory)
    try:
        for line in procfile.read_text().splitlines():
            name, command = line.split(": ", 1)
            words = shlex.split(command)
            own = {}
            while "=" in words[0] and not words[0].startswith("/"):  # honcho's VAR=value prefix
                key, value = words.pop(0).split("=", 1)
                own[key] = value
            log = (directory / f"{name}.log").open("wb")
            running.processes[name] = subprocess.Popen(
                words,
                cwd=ROOT,
                env={**environment, **own},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: kill() takes gunicorn's workers too
            )
        _wait_ready(running)
        yield running
    finally:
        for name, process in running.processes.items():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM if name != "proxy" else signal.SIGQUIT)
        for process in running.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        _forget_keys(redis_url, environment["GATEWAY_REDIS_PREFIX"])


def _wait_ready(running: Cluster) -> None:
    """Wait for each gateway's READY line and for the web nodes to answer through the proxy."""
    deadline = time.monotonic() + START_TIMEOUT
    for name in running.processes:
        if not name.startswith("gateway"):
            continue
        while "READY" not in running.log(name):
            if running.processes[name].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n{running.log(name)[-3000:]}")
            time.sleep(0.2)
    while True:
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{running.http_url}/livez", timeout=2).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"web did not start:\n{running.log('web1')[-3000:]}")
        time.sleep(0.3)


def _forget_keys(redis_url: str, prefix: str) -> None:
    """Delete this cluster's gateway keys (the Redis database may be shared)."""
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    finally:
        client.close()


@dataclass
class FleetCharger:
    """One simulated charger of the fleet and what it measured."""

    config: SimulatorConfig
    charger: Simulated | None = None
    links: int = 0
    linked_at: float = 0.0
    start_wh: int | None = None
    stop_wh: int | None = None


class ChargerFleet:
    """Many simulated chargers through the proxy, each from one of many loopback addresses."""

    def __init__(
        self,
        url: str,
        station_ids: list[str],
        password: str,
        meter_interval: float,
        per_address: int = 40,
    ) -> None:
        self.members: dict[str, FleetCharger] = {}
        for index, station_id in enumerate(station_ids):
            version = OcppVersion.V16 if index % 2 == 0 else OcppVersion.V201
            address = 1 + index // per_address  # 127.0.<hi>.<lo>: one site per address
            settings = SimulatorConfig(
                station_id=station_id,
                password=password,
                url=url,
                protocol=version,
                meter_interval=meter_interval,
                power_w=7400,
                heartbeat_interval=300,
                source_address=f"127.0.{1 + address // 250}.{1 + address % 250}",
            )
            self.members[station_id] = FleetCharger(settings)
        self.stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def _linked(self, member: FleetCharger) -> Any:
        def note(charger: Simulated) -> None:
            member.charger = charger
            member.links += 1
            member.linked_at = time.monotonic()

        return note

    async def start(self, per_second: float = 200) -> None:
        """Start every charger's connect-and-reconnect loop, `per_second` new ones a second."""
        for member in self.members.values():
            member.start_wh = int(member.charger.meter.wh) if member.charger else 0
            loop = simulate(member.config, self.stop, self._linked(member), retry_seconds=1.0)
            self._tasks.append(asyncio.create_task(loop))
            await asyncio.sleep(1 / per_second)

    async def wait(self, check: Any, timeout: float, what: str) -> None:
        """Poll `check()` (on the loop) until true."""
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not within {timeout}s")
            await asyncio.sleep(0.2)

    def online(self, station_ids: list[str] | None = None, links: int = 1) -> bool:
        """Tell whether the chargers are connected (at least `links` times) and booted."""
        members = [self.members[s] for s in station_ids or self.members]
        return all(
            m.charger is not None and m.charger.online and m.charger.accepted and m.links >= links
            for m in members
        )

    def watch_return(self, station_ids: list[str]) -> tuple[dict[str, float], asyncio.Task[None]]:
        """Note when each charger is connected again (a new connection, before its queue is
        sent); return the times as they come and the watching task."""
        before = {s: getattr(self.members[s].charger, "_connection", None) for s in station_ids}
        back: dict[str, float] = {}

        async def watch() -> None:
            while len(back) < len(station_ids):
                now = time.monotonic()
                for station_id in station_ids:
                    charger = self.members[station_id].charger
                    if (
                        station_id not in back
                        and charger is not None
                        and charger.online
                        and charger._connection is not before[station_id]
                    ):
                        back[station_id] = now
                await asyncio.sleep(0.05)

        return back, asyncio.create_task(watch())

    def settled(self) -> bool:
        """Tell whether every charger is online with an empty offline queue."""
        return all(
            m.charger is not None and m.charger.online and not m.charger.queue
            for m in self.members.values()
        )

    async def start_charging(self, token: str) -> None:
        """Start a transaction on every charger (local start with the driver's token)."""

        async def one(member: FleetCharger) -> None:
            charger = member.charger
            assert charger is not None
            await charger.start_charging(token)

        await _gather_some([one(m) for m in self.members.values()], 50)

    async def stop_charging(self) -> None:
        """Stop every running transaction (queued when the charger is offline)."""

        async def one(member: FleetCharger) -> None:
            charger = member.charger
            if charger is not None and charger.transaction is not None:
                await charger.stop_charging("Local")
                member.stop_wh = int(charger.meter.wh)

        await _gather_some([one(m) for m in self.members.values()], 50)

    async def close(self) -> None:
        """Stop every charger's loop."""
        self.stop.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _gather_some(coroutines: list[Any], parallel: int) -> None:
    """Await coroutines, at most `parallel` at once."""
    gate = asyncio.Semaphore(parallel)

    async def one(coroutine: Any) -> None:
        async with gate:
            await coroutine

    await asyncio.gather(*(one(c) for c in coroutines))


def parse_stamp(stamp: str) -> datetime:
    """Parse an OCPP timestamp as the simulator writes it."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@dataclass
class Audit:
    """What the CSMS stored against what the chargers measured."""

    sessions: int = 0
    lost_meter_values: int = 0  # sampled by a charger, not stored
    unknown_meter_values: int = 0  # stored, never sampled by that charger
    double_counted: int = 0  # sessions billed more energy than the meter turned, or twice
    under_counted: int = 0  # sessions billed less energy than the meter turned
    not_completed: int = 0
    problems: list[str] = field(default_factory=list)


def audit(app: Any, fleet: ChargerFleet) -> Audit:
    """Compare each charger's samples and meter with its stored rows, session and CDR."""
    from decimal import Decimal

    from sqlalchemy import select

    from app.charging.models import Cdr, ChargingSession, MeterValue
    from app.extensions import db

    result = Audit()
    with app.app_context():
        rows = db.session.execute(
            select(MeterValue.station_id, MeterValue.timestamp).where(
                MeterValue.station_id.in_(list(fleet.members))
            )
        ).all()
        stored: dict[str, set[datetime]] = {}
        for station_id, stamp in rows:
            stored.setdefault(station_id, set()).add(stamp)
        sessions = db.session.scalars(
            select(ChargingSession).where(ChargingSession.station_id.in_(list(fleet.members)))
        ).all()
        cdrs: dict[int, int] = {}
        for session_pk in db.session.scalars(select(Cdr.session_pk)):
            cdrs[session_pk] = cdrs.get(session_pk, 0) + 1
        by_station: dict[str, list[Any]] = {}
        for session in sessions:
            by_station.setdefault(session.station_id, []).append(session)
        for station_id, member in fleet.members.items():
            sampled = {
                parse_stamp(stamp)
                for stamp, _ in (member.charger.sampled if member.charger else [])
            }
            have = stored.get(station_id, set())
            result.lost_meter_values += len(sampled - have)
            result.unknown_meter_values += len(have - sampled)
            mine = by_station.get(station_id, [])
            if member.stop_wh is None:
                continue  # never charged
            result.sessions += 1
            if len(mine) != 1:
                result.double_counted += max(len(mine) - 1, 0)
                result.problems.append(f"{station_id}: {len(mine)} sessions")
                continue
            [session] = mine
            expected = Decimal(member.stop_wh - (member.start_wh or 0)) / 1000
            if session.status != "COMPLETED":
                result.not_completed += 1
                result.problems.append(f"{station_id}: session {session.status}")
                continue
            if cdrs.get(session.id, 0) != 1:
                result.double_counted += int(cdrs.get(session.id, 0) > 1)
                result.problems.append(f"{station_id}: {cdrs.get(session.id, 0)} CDRs")
            if session.kwh > expected:
                result.double_counted += 1
                result.problems.append(f"{station_id}: billed {session.kwh} kWh, meter {expected}")
            elif session.kwh < expected:
                result.under_counted += 1
                result.problems.append(f"{station_id}: billed {session.kwh} kWh, meter {expected}")
    return result


def seed_drivers(app: Any, count: int, prefix: str) -> list[str]:
    """Commit `count` drivers with an API token each; return the Bearer tokens."""
    from datetime import timedelta

    from app.accounts.models import ApiToken, User
    from app.core.clock import utcnow
    from app.core.security import digest_token, new_token
    from app.extensions import db

    tokens = [new_token() for _ in range(count)]
    with app.app_context():
        for index, token in enumerate(tokens):
            driver = User(
                email=f"{prefix}-d{index}@example.test", password_hash="x", name=f"D{index}"
            )
            expires = utcnow() + timedelta(days=1)
            db.session.add(ApiToken(user=driver, digest=digest_token(token), expires_at=expires))
        db.session.commit()
    return tokens


@dataclass
class HttpLoad:
    """Drivers searching and booking through the proxy, in threads, until stopped."""

    base_url: str
    tokens: list[str]
    evse_pks: list[int]
    search_ms: list[float] = field(default_factory=list)
    search_failures: int = 0
    booked: list[tuple[int, int, str]] = field(default_factory=list)  # (booking, evse, start)
    refused: int = 0  # 409 / 422: the slot was taken (perhaps by our own lost attempt)
    failed: int = 0  # 5xx or no answer: the client was told it did not work
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self, searchers: int, bookers: int) -> None:
        """Start the client threads."""
        for index in range(searchers):
            self._spawn(self._search, index)
        for index in range(bookers):
            self._spawn(self._book, index)

    def stop(self) -> None:
        """Stop and join the client threads."""
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _spawn(self, target: Any, index: int) -> None:
        thread = threading.Thread(target=target, args=(index,), daemon=True)
        thread.start()
        self._threads.append(thread)

    def _search(self, index: int) -> None:
        rng = random.Random(index)
        session = requests.Session()
        while not self._stop.is_set():
            params = {
                "lat": f"{52.37 + rng.uniform(-0.02, 0.08):.5f}",
                "lon": f"{4.89 + rng.uniform(-0.02, 0.3):.5f}",
                "radius_m": 3000,
            }
            started = time.perf_counter()
            try:
                response = session.get(
                    f"{self.base_url}/api/v1/chargers", params=params, timeout=30
                )
                ok = response.status_code == 200
            except requests.RequestException:
                ok = False
            with self._lock:
                if ok:
                    self.search_ms.append((time.perf_counter() - started) * 1000)
                else:
                    self.search_failures += 1

    def _book(self, index: int) -> None:
        rng = random.Random(1000 + index)
        session = requests.Session()
        token = self.tokens[index % len(self.tokens)]
        headers = {"Authorization": f"Bearer {token}"}
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        while not self._stop.is_set():
            evse = rng.choice(self.evse_pks)
            start = today + timedelta(days=rng.randint(2, 20), hours=rng.randint(0, 22))
            body = {
                "evse_id": evse,
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=1)).isoformat(),
            }
            for _attempt in range(2):  # a client retries once after no answer or a 5xx
                try:
                    response = session.post(
                        f"{self.base_url}/api/v1/bookings", json=body, headers=headers, timeout=30
                    )
                    status = response.status_code
                except requests.RequestException as error:
                    status, response = 0, None
                    reason = type(error).__name__
                with self._lock:
                    if status == 201:
                        assert response is not None
                        self.booked.append((response.json()["id"], evse, body["starts_at"]))
                        break
                    if status in (409, 422):
                        self.refused += 1
                        break
                    self.failed += 1
                    if len(self.failures) < 20:
                        self.failures.append(
                            f"{status} {response.text[:200] if response is not None else reason}"
                        )
