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

The last line is one JSON object: attempts, booked, conflicts, errors, p50_ms, p99_ms, ...
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid

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
    cpu_ms = (time.process_time() - cpu) * 1000
    return {
        "booked": len(outcome.booked),
        "conflicts": outcome.conflicts,
        "conflicts_at_insert": outcome.conflicts_at_insert,
        "errors": len(outcome.errors),
        "error_sample": outcome.errors[:1],
        "latencies": outcome.latencies_ms,
        # This process's CPU per attempt (threads mode only): a figure that load does not skew.
        "cpu_ms_per_attempt": cpu_ms / attempts if servers is None else None,
    }


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
            db.engine.dispose()
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    last = rounds[-1]
    p99s = [p99(r["latencies"]) for r in rounds]
    for index, r in enumerate(rounds):
        print(
            f"round {index}: booked={r['booked']} conflicts={r['conflicts']} "
            f"at_insert={r['conflicts_at_insert']} errors={r['errors']} p99={p99s[index]:.1f} ms"
        )
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
                "cpu_ms_per_attempt": _rounded(last["cpu_ms_per_attempt"]),
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
