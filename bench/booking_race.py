"""Benchmark: N concurrent attempts to hold one slot on a throwaway PostgreSQL database.

Each attempt is a real hold_slot() in its own thread and app context (own session and
connection from the pool): rules, schedule, price by the tariff engine, the friendly
overlap check, the insert guarded by the exclusion constraint, and the commit. Payment is
left out (a hold is paid afterwards, by the one winner only); the race test covers it.

    python -m bench.booking_race [--attempts 200] [--rounds 5] [--processes 1]

Latency is measured per attempt from the moment its thread is released. Figures of the
last round are printed; `--processes N` spreads the attempts over N long-lived server
processes. A final round makes the same attempts one after another (sequential_*), the
service's latency without the rush. The machine's load average is printed with them.

In the same run the race is repeated in raw SQL as the baseline: one psycopg connection per
attempt (no Flask, no ORM, no pool), each a single INSERT of a pending booking into the same
`bookings` table, whose exclusion constraint lets exactly one through. `ratio_p99` is the
service's p99 over the raw p99 (target <= 3). PostgreSQL's max_connections may not leave room
for one connection per attempt: the raw race then uses as many as are free (raw_connections)
and the attempts queue for them, as the service's attempts queue for its pool.

`cpu_ms_per_attempt` is this process's CPU over a round divided by the attempts (threads
mode); it includes the client's own set-up before the gate (starting the threads, loading each
driver's row), which is no part of any latency. `cpu_ms_per_attempt_after_gate` counts from the
moment the attempts are let go: the CPU the latencies are made of.

The bench process stands for a web worker, and is set up as wsgi.py sets one up: once the app
is made (and migrated), what exists is frozen out of the cyclic collector's reach. Without
that, each full collection walked the ~250,000 start-up objects, a 130-260 ms stall that
landed in a round here and there (and in a worker's requests alike).

The last line is one JSON object: attempts, booked, conflicts, errors, p50_ms, p99_ms,
raw_p99_ms, ratio_p99, ...
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import queue
import statistics
import sys
import threading
import time
import uuid
from datetime import datetime

import psycopg
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from tests.support.booking_race import (
    ServerProcesses,
    make_drivers,
    make_slot_listing,
    one_after_another,
    p99,
    race,
    slot_tomorrow,
)

ADMIN_URL = os.environ.get(
    "TEST_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _admin(sql: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(sql)


def _round(app, attempts: int, tag: str, servers: ServerProcesses | None) -> dict:
    evse_id = make_slot_listing(app, tag)
    drivers = make_drivers(app, tag, attempts)
    cpu = time.process_time()
    if servers is not None:
        outcome = servers.race(drivers, evse_id, slot_tomorrow())
    else:
        outcome = race(app, drivers, evse_id, slot_tomorrow(), pay=False)
    ended = time.process_time()
    cpu_ms = (ended - cpu) * 1000
    return {
        "booked": len(outcome.booked),
        "conflicts": outcome.conflicts,
        "conflicts_at_insert": outcome.conflicts_at_insert,
        "errors": len(outcome.errors),
        "error_sample": outcome.errors[:1],
        "latencies": outcome.latencies_ms,
        # This process's CPU per attempt (threads mode only): a figure that load does not skew.
        "cpu_ms_per_attempt": cpu_ms / attempts if servers is None else None,
        # The same from the moment the attempts are let go: without the client's set-up before
        # it (threads started, each driver's row loaded), which no latency includes either.
        "cpu_ms_per_attempt_after_gate": (
            (ended - outcome.cpu_at_release) * 1000 / attempts if servers is None else None
        ),
    }


RAW_INSERT = """
    INSERT INTO bookings (driver_id, location_id, evse_id, starts_at, ends_at, status,
                          expires_at, instant_book, amount_minor, currency, policy,
                          created_at, last_updated)
    SELECT %(driver)s, location_id, id, %(starts)s, %(ends)s, 'pending',
           now() + interval '15 minutes', true, 660, 'EUR', '{}'::json, now(), now()
    FROM evses WHERE id = %(evse)s
"""
# Connections other clients (helpers, the service's pool already closed) may still need.
RAW_SPARE_CONNECTIONS = 15


def _raw_connections(url: str, wanted: int) -> int:
    """How many connections the raw race may open: one per attempt, or what the server has free."""
    with psycopg.connect(url) as connection:
        limit = int(connection.execute("SHOW max_connections").fetchone()[0])
        used = connection.execute("SELECT count(*) FROM pg_stat_activity").fetchone()[0]
    return max(1, min(wanted, limit - used - RAW_SPARE_CONNECTIONS))


def raw_race(url: str, driver_ids: list[int], evse_id: int, window: tuple[datetime, datetime]):
    """The same race in raw SQL; return (latencies_ms, booked, conflicts, errors, connections)."""
    count = _raw_connections(url, len(driver_ids))
    free: queue.Queue[psycopg.Connection] = queue.Queue()
    for _ in range(count):
        free.put(psycopg.connect(url, autocommit=True))
    gate = threading.Barrier(len(driver_ids))
    lock = threading.Lock()
    latencies: list[float] = []
    tally = {"booked": 0, "conflicts": 0, "errors": 0}
    samples: list[str] = []

    def attempt(driver_id: int) -> None:
        gate.wait()
        started = time.perf_counter()
        connection = free.get()
        try:
            connection.execute(
                RAW_INSERT,
                {"driver": driver_id, "starts": window[0], "ends": window[1], "evse": evse_id},
            )
            result = "booked"
        except psycopg.errors.ExclusionViolation:
            result = "conflicts"
        except psycopg.Error as error:
            result = "errors"
            with lock:
                samples.append(f"{type(error).__name__}: {error}")
        finally:
            free.put(connection)
            elapsed = (time.perf_counter() - started) * 1000
        with lock:
            latencies.append(elapsed)
            tally[result] += 1

    threads = [threading.Thread(target=attempt, args=(d,)) for d in driver_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    while not free.empty():
        free.get().close()
    if samples:
        print(f"raw race error: {samples[0]}", file=sys.stderr)
    return latencies, tally, count


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def main() -> None:
    """Run the rounds and print the figures of the last one, plus the medians over all."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--switch-interval-ms", type=float, default=5.0)
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="server processes the attempts are spread over (as gunicorn workers); 1: threads only",
    )
    args = parser.parse_args()
    sys.setswitchinterval(args.switch_interval_ms / 1000)
    name = f"plugpool_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
        app = create_app("testing", {"DATABASE_URL": url.render_as_string(hide_password=False)})
        with app.app_context():
            upgrade()
            db.session.execute(text("SELECT 1"))
        gc.freeze()  # as wsgi.py does once a web worker's app is made (see the docstring)
        url = app.config["DATABASE_URL"]
        servers = ServerProcesses(url, args.processes) if args.processes > 1 else None
        try:
            # The first round warms the pools and the code paths.
            _round(app, args.attempts, "warmup", servers)
            rounds = [_round(app, args.attempts, f"r{i}", servers) for i in range(args.rounds)]
        finally:
            if servers is not None:
                servers.close()
        evse_id = make_slot_listing(app, "sequential")
        drivers = make_drivers(app, "sequential", args.attempts)
        sequential = one_after_another(app, drivers, evse_id, slot_tomorrow())
        with app.app_context():
            db.session.remove()
            db.engine.dispose()  # give the pool's connections back before the raw race
        raw_url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        raw_rounds = []
        for index in range(args.rounds + 1):  # the first warms PostgreSQL's plan and pages
            evse_id = make_slot_listing(app, f"raw{index}")
            drivers = make_drivers(app, f"raw{index}", args.attempts)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            raw_rounds.append(raw_race(raw_url, drivers, evse_id, slot_tomorrow()))
        raw_rounds = raw_rounds[1:]
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    last = rounds[-1]
    p99s = [p99(r["latencies"]) for r in rounds]
    raw_latencies, raw_tally, raw_connections = raw_rounds[-1]
    raw_p99s = [p99(latencies) for latencies, _, _ in raw_rounds]
    for index, r in enumerate(rounds):
        print(
            f"round {index}: booked={r['booked']} conflicts={r['conflicts']} "
            f"at_insert={r['conflicts_at_insert']} errors={r['errors']} p99={p99s[index]:.1f} ms"
        )
    for index, (_, tally, _) in enumerate(raw_rounds):
        print(f"raw round {index}: {tally} p99={raw_p99s[index]:.1f} ms")
    print(
        json.dumps(
            {
                "attempts": args.attempts,
                "booked": last["booked"],
                "conflicts": last["conflicts"],
                "conflicts_at_insert": last["conflicts_at_insert"],
                "errors": last["errors"],
                "error_sample": last["error_sample"],
                "p50_ms": round(statistics.median(last["latencies"]), 1),
                "p99_ms": round(p99(last["latencies"]), 1),
                "max_ms": round(max(last["latencies"]), 1),
                "p99_ms_median_of_rounds": round(statistics.median(p99s), 1),
                # The baseline of the same run: the race as bare INSERTs on psycopg.
                "raw_p50_ms": round(statistics.median(raw_latencies), 1),
                "raw_p99_ms": round(p99(raw_latencies), 1),
                "ratio_p99": round(p99(last["latencies"]) / p99(raw_latencies), 2),
                "ratio_p99_median_of_rounds": round(
                    statistics.median(p99s) / statistics.median(raw_p99s), 2
                ),
                "raw_booked": raw_tally["booked"],
                "raw_conflicts": raw_tally["conflicts"],
                "raw_errors": raw_tally["errors"],
                "raw_connections": raw_connections,
                "cpu_ms_per_attempt": _rounded(last["cpu_ms_per_attempt"]),
                "cpu_ms_per_attempt_after_gate": _rounded(last["cpu_ms_per_attempt_after_gate"]),
                # The same attempts one at a time: latency without queueing behind the rush.
                "sequential_p50_ms": round(statistics.median(sequential.latencies_ms), 2),
                "sequential_p99_ms": round(p99(sequential.latencies_ms), 2),
                "sequential_booked": len(sequential.booked),
                # Other work on the machine inflates latencies; report it with them.
                "load_average_1m": round(os.getloadavg()[0], 2),
                "cpus": os.cpu_count(),
                "rounds": args.rounds,
                "processes": args.processes,
                "all_rounds_exactly_one": all(r["booked"] == 1 for r in rounds),
            }
        )
    )


if __name__ == "__main__":
    main()
