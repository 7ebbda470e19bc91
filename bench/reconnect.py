"""CPU cost of one station reconnect on a gateway node (the failover's bound, issue #15).

    python -m bench.reconnect --chargers 2000

On a throwaway database seeded with `--chargers` approved stations it starts one gateway
process (`python -m app.gateway`: the DB port, the Redis bus, as in the cluster), then:

1. connects every charger once and boots it (keys pass Argon2 once and are cached, as
   after any earlier connection: app.charging.keycache), and closes them all;
2. `--rounds` times: reconnects every charger (`--parallel` handshakes at a time; a 503
   from the handshake backlog is retried after a short random pause, like a charger), each
   one sending a Heartbeat at once, as a charger accepted before does (OCPP 1.6 4.2), then
   closes them all again and waits until the database shows every station offline.

Per round it reports the handshake-to-first-answer latency (p50/p95/p99, from the first
connect attempt), reconnects/s, the gateway process's CPU per reconnect (from /proc) and
that of its PostgreSQL backends (their pids from pg_stat_activity, /proc too), and the
database's commits per reconnect (pg_stat_database of the scratch database only, so other
work on the machine does not count). Backends opened and closed within a round (pool
overflow) are not sampled, so the DB CPU figure undercounts a gateway that churns
connections. The Heartbeat is itself one DB write, like the queued messages a real
charger sends first. Raw WebSockets with pre-serialised frames keep the
client light. The last line is one JSON object; `round1` is the cold round, later ones warm.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import random
import resource
import signal
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import websockets
from sqlalchemy import make_url
from websockets.asyncio.client import ClientConnection

from app import create_app
from app.extensions import db
from bench.gateway import cpu_seconds, stop_process
from tests.charging.support import seed_fleet
from tests.gateway.support import PASSWORD
from tests.support.cluster import FLEET_KEY_HASH
from tests.support.plugpool_process import scratch_database

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = os.environ.get("TEST_CLUSTER_REDIS_URL", "redis://127.0.0.1:6379/9")
BOOT = '"BootNotification",{"chargePointVendor":"Bench","chargePointModel":"Sim"}]'
HEARTBEAT = '"Heartbeat",{}]'


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chargers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2, help="reconnect rounds measured")
    parser.add_argument("--parallel", type=int, default=200, help="handshakes in flight")
    parser.add_argument("--py-spy", type=Path, help="sample the last round into this file")
    return parser.parse_args(argv)


def percentiles(values: list[float]) -> dict[str, float]:
    """p50/p95/p99 in ms."""
    if len(values) < 2:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0}
    cuts = statistics.quantiles(values, n=100)
    return {f"p{n}_ms": round(cuts[n - 1] * 1000, 1) for n in (50, 95, 99)}


class Database:
    """The scratch database's counters and the CPU of the gateway's backends."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.name = str(parsed.database)
        plain = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        self.conn = psycopg.connect(plain, autocommit=True)

    def offline(self) -> int:
        """Return how many stations the database shows connected."""
        row = self.conn.execute("SELECT count(*) FROM charge_stations WHERE connected").fetchone()
        return int(row[0]) if row else 0

    def commits(self) -> int:
        """Return the database's committed transactions so far (stats lag ~0.5 s)."""
        self.conn.execute("SELECT pg_stat_clear_snapshot()")
        row = self.conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (self.name,)
        ).fetchone()
        return int(row[0]) if row else 0

    def backend_cpu(self) -> dict[int, float]:
        """Return CPU seconds per backend of this database (other than this connection)."""
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (self.name,),
        ).fetchall()
        cpu = {}
        for (pid,) in rows:
            with contextlib.suppress(FileNotFoundError, PermissionError):
                cpu[pid] = cpu_seconds(pid)
        return cpu


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two backend snapshots (a backend that appeared counts from zero)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


async def start_gateway(database_url: str, prefix: str) -> tuple[asyncio.subprocess.Process, int]:
    """Start `python -m app.gateway` on the scratch database; return it and its port."""
    env = {
        **os.environ,
        "PLUGPOOL_ENV": "testing",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "GATEWAY_BUS": "redis",
        "GATEWAY_REDIS_PREFIX": prefix,
        "GATEWAY_PORT": "0",
        "GATEWAY_LOG_LEVEL": "WARNING",
        "GATEWAY_IP_CONNECT_RATE": "0",  # every simulated charger connects from 127.0.0.1
        "GATEWAY_STATION_CONNECT_RATE": "0",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.gateway", cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), 120)).decode()
    if not line.startswith("READY"):
        raise RuntimeError("gateway did not start")
    return proc, int(line.split()[1])


async def connect(port: int, station_id: str, body: str) -> tuple[ClientConnection, float, int]:
    """Connect a charger (retrying 503s), send one CALL; return socket, seconds, retries."""
    token = base64.b64encode(f"{station_id}:{PASSWORD}".encode()).decode()
    started, retries = time.perf_counter(), 0
    while True:
        try:
            socket = await websockets.connect(
                f"ws://127.0.0.1:{port}/ocpp/{station_id}",
                subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                additional_headers={"Authorization": f"Basic {token}"},
                compression=None,
                open_timeout=60,
                ping_interval=None,
                max_queue=4,
            )
            break
        except websockets.InvalidStatus as error:
            if error.response.status_code != 503 or retries > 100:
                raise
            retries += 1
            await asyncio.sleep(random.uniform(0.05, 0.5))
    await socket.send(f'[2,"1",{body}')
    reply = str(await socket.recv())
    if not reply.startswith("[3,"):
        raise RuntimeError(f"{station_id}: unexpected reply {reply!r}")
    return socket, time.perf_counter() - started, retries


async def wave(port: int, ids: list[str], body: str, parallel: int) -> dict[str, Any]:
    """Connect every charger; return the sockets, latencies, retries and wall time."""
    gate = asyncio.Semaphore(parallel)

    async def one(station_id: str) -> tuple[ClientConnection, float, int]:
        async with gate:
            return await connect(port, station_id, body)

    started = time.perf_counter()
    results = await asyncio.gather(*(one(s) for s in ids))
    seconds = time.perf_counter() - started
    return {
        "sockets": [r[0] for r in results],
        "latencies": [r[1] for r in results],
        "retries": sum(r[2] for r in results),
        "seconds": seconds,
    }


async def close_all(sockets: list[ClientConnection]) -> None:
    """Close the chargers' sockets."""
    await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)


async def py_spy(pid: int, path: Path | None) -> asyncio.subprocess.Process | None:
    """Sample the gateway with py-spy (collapsed stacks to `path`) while a round runs."""
    if path is None:
        return None
    spy = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(pid), "-r", "250",
        "-f", "raw", "-o", str(path),
        "--gil", "--nonblocking", stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await asyncio.sleep(1.0)  # attached
    return spy


async def wait_offline(database: Database, deadline: float = 120.0) -> None:
    """Wait until the database shows no station connected."""
    give_up = time.monotonic() + deadline
    while database.offline():
        if time.monotonic() > give_up:
            raise RuntimeError("stations still shown connected")
        await asyncio.sleep(0.2)


async def bench(args: argparse.Namespace, database_url: str) -> dict[str, Any]:
    """Seed, start the gateway, boot everyone once, then measure the reconnect rounds."""
    app = create_app("testing", {"DATABASE_URL": database_url})
    fleet = seed_fleet(app, args.chargers, prefix="RC", password_hash=FLEET_KEY_HASH)
    prefix = f"bench-reconnect-{uuid.uuid4().hex[:8]}:"
    database = Database(database_url)
    proc, port = await start_gateway(database_url, prefix)
    result: dict[str, Any] = {"chargers": args.chargers, "parallel": args.parallel}
    try:
        booted = await wave(port, fleet.station_ids, BOOT, args.parallel)  # keys get cached
        await close_all(booted["sockets"])
        await wait_offline(database)
        for number in range(1, args.rounds + 1):
            await asyncio.sleep(1.0)  # pg_stat_database lags; let it settle
            cpu, db_cpu, commits = cpu_seconds(proc.pid), database.backend_cpu(), database.commits()
            spy = await py_spy(proc.pid, args.py_spy) if number == args.rounds else None
            measured = await wave(port, fleet.station_ids, HEARTBEAT, args.parallel)
            gateway_cpu = cpu_seconds(proc.pid) - cpu
            backends = cpu_delta(db_cpu, database.backend_cpu())
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                await spy.wait()
            await close_all(measured["sockets"])
            await wait_offline(database)
            await asyncio.sleep(1.0)
            # Commits of the offline writes are counted too: one full reconnect is both.
            round_commits = database.commits() - commits
            count = args.chargers
            result[f"round{number}"] = {
                "reconnects_per_s": round(count / measured["seconds"], 1),
                **percentiles(measured["latencies"]),
                "gateway_cpu_ms_per_reconnect": round(gateway_cpu / count * 1000, 3),
                "db_cpu_ms_per_reconnect": round(backends / count * 1000, 3),
                "db_commits_per_reconnect_and_close": round(round_commits / count, 2),
                "retries_503": measured["retries"],
            }
            print(f"round {number}: {json.dumps(result[f'round{number}'])}", flush=True)
    finally:
        await stop_process(proc)
        database.conn.close()
        with app.app_context():
            db.engine.dispose()
    last = result[f"round{args.rounds}"]
    result.update({f"last_{k}": v for k, v in last.items()})
    result["load_average_1m"] = round(os.getloadavg()[0], 2)
    return result


def main() -> None:
    """Run the benchmark on a scratch database and print the JSON line."""
    args = parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with scratch_database() as url:
        print(json.dumps(asyncio.run(bench(args, url))), flush=True)


if __name__ == "__main__":
    main()
