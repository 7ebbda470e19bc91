"""The `make cluster` processes under load, then one gateway node killed.

    python -m bench.cluster --chargers 5000

On a throwaway database it starts the processes of scripts.cluster's Procfile (two web nodes,
two gateway nodes, a Celery worker, beat, nginx; tests/support/cluster.py), then:

1. connects `--chargers` simulated chargers (app.gateway.simulator, real WebSockets through
   nginx, half OCPP 1.6 and half 2.0.1, 40 a loopback source address so the gateways'
   per-address connect limit sees many sites) and starts a transaction on each;
2. for `--seconds`, chargers send meter values every `--meter-interval` seconds while
   `--searchers` drivers search and `--bookers` drivers book through the proxy:
   `msg_per_s` (messages the gateway nodes answered, from their /metrics), `search_rps`
   and search p50/p95/p99;
3. SIGKILLs gateway node 1 with the load still on: `reconnected_s` is the time until every
   charger of that node is connected again (target <= 30);
4. stops every transaction, waits for every offline queue to be delivered, and compares each
   charger's meter with what was stored: `lost_meter_values` and `double_counted` (target 0).

Stations' keys are Argon2id hashes with cheap parameters (tests/support/cluster.py): the
first connection of 5,000 chargers at the default profile would cost ~15 CPU-minutes, and
reconnects skip Argon2 anyway (app.charging.keycache). 5,000 chargers hold ~5,000 client
sockets here, ~10,000 in nginx and ~2,500 per gateway node: the open-files soft limit is raised
to the hard limit (children inherit it); the hard limit must be above ~11,000.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from tests.charging.support import seed_fleet
from tests.gateway.support import PASSWORD
from tests.support.cluster import (
    FLEET_KEY_HASH,
    ChargerFleet,
    Cluster,
    HttpLoad,
    audit,
    running_cluster,
    seed_drivers,
)
from tests.support.plugpool_process import scratch_database


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chargers", type=int, default=1000)
    parser.add_argument(
        "--meter-interval", type=float, default=None,
        help="seconds between a charger's meter values (default chargers/100)",
    )  # fmt: skip
    parser.add_argument("--seconds", type=float, default=30.0, help="measured load phase")
    parser.add_argument("--searchers", type=int, default=4)
    parser.add_argument("--bookers", type=int, default=2)
    parser.add_argument("--per-location", type=int, default=2, help="stations per listing")
    parser.add_argument("--logs", type=Path, help="keep the processes' logs in this directory")
    return parser.parse_args(argv)


def raise_fd_limit(needed: int) -> int:
    """Raise the open-files soft limit to the hard limit; refuse when that is too low."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise SystemExit(f"open-files hard limit {hard} < {needed} needed: raise `ulimit -Hn`")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def gateway_messages(cluster: Cluster, names: list[str]) -> float:
    """Sum the messages the named gateway nodes have answered (their /metrics)."""
    total = 0.0
    for name in names:
        port = cluster.settings["CLUSTER_GATEWAY_METRICS_BASE_PORT"] + int(name[-1]) - 1
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as page:
            text = page.read().decode()
        for family in text_string_to_metric_families(text):
            if family.name == "plugpool_gateway_messages":
                total += sum(s.value for s in family.samples if s.name.endswith("_total"))
    return total


def percentiles(values: list[float]) -> dict[str, float]:
    """p50/p95/p99 in ms."""
    if len(values) < 2:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0}
    cuts = statistics.quantiles(values, n=100)
    return {"p50_ms": round(cuts[49], 1), "p95_ms": round(cuts[94], 1),
            "p99_ms": round(cuts[98], 1)}  # fmt: skip


async def scenario(
    cluster: Cluster, fleet_data: Any, tokens: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    """Connect, charge, load, kill gateway1, settle; return the figures."""
    interval = args.meter_interval or max(1.0, args.chargers / 100)
    fleet = ChargerFleet(cluster.ocpp_url, fleet_data.station_ids, PASSWORD, interval)
    load = HttpLoad(cluster.http_url, tokens, fleet_data.evse_pks)
    result: dict[str, Any] = {"chargers": args.chargers, "meter_interval_s": interval}
    try:
        began = time.monotonic()
        await fleet.start()
        await fleet.wait(fleet.online, 900, "every charger connected")
        result["connected_s"] = round(time.monotonic() - began, 1)
        print(f"{args.chargers} chargers connected in {result['connected_s']} s", flush=True)
        holders = await asyncio.to_thread(cluster.holders, fleet_data.station_ids)
        victims = [s for s, node in holders.items() if node == "gateway1"]
        result["on_gateway1"] = len(victims)
        for start in range(0, len(fleet.members), 200):  # starts in waves: StartTransaction
            batch = list(fleet.members.values())[start : start + 200]
            await asyncio.gather(
                *(m.charger.start_charging(fleet_data.driver_token) for m in batch)
            )
        await asyncio.sleep(interval)  # every charger has sent meter values
        load.start(args.searchers, args.bookers)
        gateways = ["gateway1", "gateway2"]
        before = await asyncio.to_thread(gateway_messages, cluster, gateways)
        measured_from = time.monotonic()
        await asyncio.sleep(args.seconds)
        after = await asyncio.to_thread(gateway_messages, cluster, gateways)
        seconds = time.monotonic() - measured_from
        searches = len(load.search_ms)
        result["msg_per_s"] = round((after - before) / seconds, 1)
        result["search_rps"] = round(searches / seconds, 1)
        result.update({f"search_{k}": v for k, v in percentiles(list(load.search_ms)).items()})
        print(f"load: {result['msg_per_s']} msg/s, {result['search_rps']} searches/s", flush=True)

        cluster.kill("gateway1")
        killed_at = time.monotonic()
        back, watching = fleet.watch_return(victims)
        await fleet.wait(lambda: fleet.online(victims, links=2), 600, "gateway1's chargers back")
        await watching
        # Connected again (the WebSocket open through the proxy), then its queue delivered.
        result["reconnected_s"] = round(max(back.values()) - killed_at, 2)
        result["reconnected_p50_s"] = round(statistics.median(back.values()) - killed_at, 2)
        result["queues_resent_s"] = round(
            max(fleet.members[s].linked_at for s in victims) - killed_at, 2
        )
        print(f"{len(victims)} chargers reconnected in {result['reconnected_s']} s", flush=True)
        await asyncio.sleep(interval)
        load.stop()
        await fleet.stop_charging()
        await fleet.wait(fleet.settled, 600, "every offline queue delivered")
        result["settled_s"] = round(time.monotonic() - killed_at, 1)
    finally:
        load.stop()
        await fleet.close()
    result.update(
        bookings=len(load.booked),
        booking_refused=load.refused,
        booking_failed=load.failed,
        search_failures=load.search_failures,
    )
    result["fleet"] = fleet
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the bench and print the figures, the last line one JSON object."""
    args = parse_args(argv)
    fd_limit = raise_fd_limit(2 * args.chargers + 1000)
    load_at_start = os.getloadavg()[0]
    with scratch_database() as url, tempfile.TemporaryDirectory() as scratch:
        directory = args.logs or scratch
        app = create_app("testing", {"DATABASE_URL": url})
        fleet_data = seed_fleet(
            app, args.chargers, prefix="BC", password_hash=FLEET_KEY_HASH,
            per_location=args.per_location,
        )  # fmt: skip
        tokens = seed_drivers(app, max(args.bookers, 1), "BC")
        redis_url = os.environ.get("BENCH_CLUSTER_REDIS_URL", "redis://127.0.0.1:6379/8")
        with running_cluster(
            url, Path(directory), redis_url=redis_url, CLUSTER_WEB_NODES=2
        ) as cluster:
            result = asyncio.run(scenario(cluster, fleet_data, tokens, args))
        report = audit(app, result.pop("fleet"))
        with app.app_context():
            from app.extensions import db

            db.engine.dispose()  # the database is dropped next
    result.update(
        sessions=report.sessions,
        lost_meter_values=report.lost_meter_values,
        unknown_meter_values=report.unknown_meter_values,
        double_counted=report.double_counted,
        under_counted=report.under_counted,
        not_completed=report.not_completed,
        problems=report.problems[:5],
        load_average_1m_start=round(load_at_start, 2),
        load_average_1m=round(os.getloadavg()[0], 2),
        fd_limit=fd_limit,
        cpus=os.cpu_count(),
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
