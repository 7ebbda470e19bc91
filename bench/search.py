"""Search benchmark: load N chargers over Europe into PostGIS, then time 500 searches three ways.

    python -m bench.search --chargers 1000000

1. the raw radius + filters SQL alone (psycopg, no app code; also the bare radius query);
2. the search service in-process (filters, schedule, blackouts, price quotes);
3. the HTTP API under gunicorn with concurrent keep-alive clients on loopback, with the CPU
   each search cost the app and PostgreSQL (target: app / PostgreSQL <= 1);
4. the same through nginx to --cluster-nodes gunicorn nodes (the `make cluster` proxy config).

Prints p50/p95/p99 of each, the HTTP throughput, and as its last line one JSON object.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get(
    "BENCH_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
NOW = datetime(2026, 11, 23, tzinfo=UTC)
STAMP = NOW.isoformat()

# (standard, format, power_type, volts, amps, watts, share): what Europe's chargers look like.
CONNECTOR_KINDS = [
    ("IEC_62196_T2", "SOCKET", "AC_3_PHASE", 230, 16, 11000, 40),
    ("IEC_62196_T2", "SOCKET", "AC_3_PHASE", 230, 32, 22000, 15),
    ("IEC_62196_T2", "CABLE", "AC_1_PHASE", 230, 32, 7400, 15),
    ("IEC_62196_T2_COMBO", "CABLE", "DC", 500, 125, 50000, 10),
    ("IEC_62196_T2_COMBO", "CABLE", "DC", 920, 400, 150000, 8),
    ("CHADEMO", "CABLE", "DC", 500, 125, 50000, 5),
    ("DOMESTIC_F", "SOCKET", "AC_1_PHASE", 230, 10, 2300, 7),
]
# What drivers ask for: (connector standard, minimum kW).
SEARCH_KINDS = [("IEC_62196_T2", 7), ("IEC_62196_T2", 11), ("IEC_62196_T2_COMBO", 50)]
PARTIES = [
    ("NL", "PLG", "PlugPool", True),
    ("DE", "ION", "Ionic Roam", False),
    ("FR", "ELC", "Electra Voie", False),
    ("NL", "FAS", "Fastlane", False),
    ("ES", "RAP", "Rapido", False),
    ("IT", "VOL", "Volta Rete", False),
    ("PL", "ZAP", "Zap Polska", False),
    ("SE", "NOR", "Norrladd", False),
]
TARIFFS_PER_PARTY = 12


@dataclass(frozen=True)
class Spec:
    """One random search."""

    lat: float
    lon: float
    standard: str
    min_kw: int
    start: datetime

    @property
    def end(self) -> datetime:
        return self.start + timedelta(hours=2)

    def params(self, radius_m: int) -> dict[str, Any]:
        return {
            "lat": f"{self.lat:.6f}",
            "lon": f"{self.lon:.6f}",
            "radius_m": radius_m,
            "connector": self.standard,
            "min_power_kw": self.min_kw,
            "available_from": self.start.isoformat().replace("+00:00", "Z"),
            "available_to": self.end.isoformat().replace("+00:00", "Z"),
        }


def main() -> None:
    args = _arguments()
    rng = random.Random(args.seed)
    name = args.reuse or f"plugpool_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = make_url(ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
    sa_url = url.render_as_string(hide_password=False)
    pg_url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    if not args.reuse:
        _admin(f'CREATE DATABASE "{name}"')
    try:
        started = time.perf_counter()
        if args.reuse:
            points = _points(pg_url)
        else:
            _migrate(sa_url)
            points = _load(pg_url, args.chargers, rng)
        load_s = time.perf_counter() - started
        print(f"loaded {len(points)} chargers in {load_s:.1f} s (COPY, index built after)")
        if args.keep and not args.reuse:
            print(f"kept as database {name}: time it again with --reuse {name}")
        warmup = [_spec(points, rng) for _ in range(args.warmup)]
        specs = [_spec(points, rng) for _ in range(args.searches)]
        raw, circle = _time_raw(pg_url, warmup, specs, args.radius)
        service, hits, service_cpu = _time_service(sa_url, warmup, specs, args.radius)
        http_times, rps, http_cpu = _time_http(sa_url, pg_url, warmup, specs, args)
        cluster = None
        if args.cluster_nodes and _has_nginx():
            cluster = _time_cluster(sa_url, pg_url, warmup, specs, args)
    finally:
        if not args.keep and not args.reuse:
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    load = os.getloadavg()  # this machine is shared: say how busy it was
    _report("raw radius + filters SQL (one page)", raw)
    _report("bare radius query (every EVSE)", circle)
    _report("search service in-process", service)
    _report(f"HTTP API, gunicorn, {args.clients} clients", http_times)
    print(f"HTTP throughput: {rps:.0f} requests/s; mean results per service search: {hits:.1f}")
    print(f"service Python CPU per search: {service_cpu:.2f} ms; load average {load}")
    spent = sum(http_cpu.values())
    print(
        f"CPU per HTTP search: gunicorn {http_cpu['app']:.2f} ms, PostgreSQL "
        f"{http_cpu['postgres']:.2f} ms, client {http_cpu['client']:.2f} ms: at most "
        f"{os.cpu_count() or 1} cores x 1000 / {spent:.2f} = "
        f"{(os.cpu_count() or 1) * 1000 / spent:.0f} requests/s on an otherwise idle machine"
    )
    ratio = http_cpu["app"] / http_cpu["postgres"]
    print(f"app / PostgreSQL CPU per HTTP search: {ratio:.2f} (target <= 1)")
    if cluster is not None:
        c_times, c_rps, c_cpu = cluster
        _report(f"through nginx, {args.cluster_nodes} web nodes", c_times)
        print(
            f"cluster: {c_rps:.0f} requests/s; CPU per search: nodes {c_cpu['app']:.2f} ms, "
            f"nginx {c_cpu['proxy']:.2f} ms, PostgreSQL {c_cpu['postgres']:.2f} ms"
        )
    summary = {
        "chargers": len(points),
        "searches": args.searches,
        "radius_m": args.radius,
        "load_s": round(load_s, 1),
        "raw_p50_ms": _pct(raw, 50),
        "raw_p95_ms": _pct(raw, 95),
        "raw_p99_ms": _pct(raw, 99),
        "service_p50_ms": _pct(service, 50),
        "service_p95_ms": _pct(service, 95),
        "service_p99_ms": _pct(service, 99),
        "ratio_p95": round(_pct(service, 95) / _pct(raw, 95), 2),
        "ratio_p50": round(_pct(service, 50) / _pct(raw, 50), 2),
        "circle_p95_ms": _pct(circle, 95),
        "http_p50_ms": _pct(http_times, 50),
        "http_p95_ms": _pct(http_times, 95),
        "http_p99_ms": _pct(http_times, 99),
        "http_rps": round(rps, 1),
        "service_cpu_ms": round(service_cpu, 2),
        "http_app_cpu_ms": round(http_cpu["app"], 2),
        "http_postgres_cpu_ms": round(http_cpu["postgres"], 2),
        "http_client_cpu_ms": round(http_cpu["client"], 2),
        "http_app_postgres_cpu_ratio": round(ratio, 2),
        "loadavg_1m": load[0],
        "http_workers": args.workers,
        "http_threads": args.threads if args.worker_class == "gthread" else 1,
        "http_worker_class": args.worker_class,
        "http_clients": args.clients,
    }
    if cluster is not None:
        summary.update(
            {
                "cluster_nodes": args.cluster_nodes,
                "cluster_rps": round(cluster[1], 1),
                "cluster_p99_ms": _pct(cluster[0], 99),
                "cluster_app_cpu_ms": round(cluster[2]["app"], 2),
                "cluster_proxy_cpu_ms": round(cluster[2]["proxy"], 2),
                "cluster_postgres_cpu_ms": round(cluster[2]["postgres"], 2),
            }
        )
    print(json.dumps(summary))


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chargers", type=int, default=1_000_000)
    parser.add_argument("--searches", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--radius", type=int, default=25_000)
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--cluster-nodes",
        type=int,
        default=2,
        help="then the same searches through nginx to this many gunicorn nodes (0: skip)",
    )
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse", metavar="DATABASE", help="time against a database kept by --keep (no load)"
    )
    return parser.parse_args()


def _admin(sql: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(sql)


def _migrate(sa_url: str) -> None:
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    app = create_app("default", {"DATABASE_URL": sa_url})
    with app.app_context():
        upgrade()
        db.engine.dispose()


def _load(pg_url: str, n: int, rng: random.Random) -> list[tuple[float, float]]:
    """COPY parties, tariffs, locations, EVSEs, connectors, schedules and blackouts."""
    # Ids follow 0.1-degree latitude bands, west to east, as `CLUSTER locations USING
    # ix_locations_geog` would leave a production table: neighbours share heap pages.
    points = sorted((_europe_point(rng) for _ in range(n)), key=lambda p: (int(p[0] * 10), p[1]))
    with psycopg.connect(pg_url) as connection:
        connection.execute("SET session_replication_role = replica")  # skip FK triggers
        connection.execute("DROP INDEX ix_locations_geog")
        _copy(connection, "parties", _party_rows(), PARTY_COLUMNS)
        _copy(connection, "tariffs", _tariff_rows(rng), TARIFF_COLUMNS)
        _copy(connection, "locations", _location_rows(points, rng), LOCATION_COLUMNS)
        _copy(connection, "evses", _evse_rows(n, rng), EVSE_COLUMNS)
        _copy(connection, "connectors", _connector_rows(points, rng), CONNECTOR_COLUMNS)
        _copy(connection, "availability_windows", _slot_rows(n, rng), SLOT_COLUMNS)
        _copy(connection, "blackouts", _blackout_rows(n, rng), BLACKOUT_COLUMNS)
        connection.execute("CREATE INDEX ix_locations_geog ON locations USING gist (geog)")
        for table in ("parties", "tariffs", "locations", "evses", "connectors"):
            connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE")
    return points


def _points(pg_url: str) -> list[tuple[float, float]]:
    with psycopg.connect(pg_url) as connection:
        sql = "SELECT latitude::float8, longitude::float8 FROM locations ORDER BY id"
        return [(lat, lon) for lat, lon in connection.execute(sql)]


def _copy(connection: psycopg.Connection, table: str, rows: Iterator[str], columns: str) -> None:
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buffer: list[str] = []
        for row in rows:
            buffer.append(row)
            if len(buffer) >= 20_000:
                copy.write("".join(buffer))
                buffer.clear()
        copy.write("".join(buffer))


def _europe_point(rng: random.Random) -> tuple[float, float]:
    """A point on land-ish Europe: dense core, thinner edges."""
    if rng.random() < 0.7:
        return rng.uniform(43.5, 55.5), rng.uniform(-1.5, 20.0)
    return rng.uniform(36.5, 64.0), rng.uniform(-9.0, 28.0)


def _zone(lat: float, lon: float) -> str:
    if lon < -1.5:
        return "Europe/London" if lat > 49.5 else "Europe/Lisbon"
    if lon < 20.0:
        return "Europe/Amsterdam" if lat > 51 else "Europe/Paris"
    return "Europe/Helsinki" if lat > 55 else "Europe/Athens"


PARTY_COLUMNS = "id, country_code, party_id, name, roles, is_own, created_at, last_updated"


def _party_rows() -> Iterator[str]:
    for index, (country, party, name, own) in enumerate(PARTIES, start=1):
        own_text = "t" if own else "f"
        yield f'{index}\t{country}\t{party}\t{name}\t["CPO"]\t{own_text}\t{STAMP}\t{STAMP}\n'


TARIFF_COLUMNS = (
    "id, country_code, party_id, ocpi_id, currency, tariff_alt_text, elements, "
    "created_at, last_updated"
)


def _tariff_rows(rng: random.Random) -> Iterator[str]:
    pk = 0
    for country, party, _name, _own in PARTIES:
        for index in range(TARIFFS_PER_PARTY):
            pk += 1
            elements = json.dumps(_tariff_elements(rng, index))
            yield f"{pk}\t{country}\t{party}\tT{index}\tEUR\t[]\t{elements}\t{STAMP}\t{STAMP}\n"


def _tariff_elements(rng: random.Random, index: int) -> list[dict[str, Any]]:
    energy = round(rng.uniform(0.22, 0.69), 2)
    base = [{"type": "ENERGY", "price": energy, "step_size": 1}]
    if index % 3 == 1:
        base.append({"type": "TIME", "price": round(rng.uniform(0.5, 3.0), 2), "step_size": 60})
    if index % 4 == 2:
        base.append({"type": "FLAT", "price": 0.5, "step_size": 1})
    if index % 2 == 0:
        # Off-peak energy at night, the base price otherwise.
        night = {"start_time": "22:00", "end_time": "07:00"}
        cheaper = [{"type": "ENERGY", "price": round(energy * 0.7, 2), "step_size": 1}]
        return [{"price_components": cheaper, "restrictions": night}, {"price_components": base}]
    return [{"price_components": base}]


LOCATION_COLUMNS = (
    "id, country_code, party_id, ocpi_id, publish, name, address, city, country, latitude, "
    "longitude, geog, time_zone, facilities, directions, images, charging_when_closed, "
    "created_at, last_updated"
)


def _party_of(pk: int) -> tuple[str, str]:
    # 60% PlugPool's own listings, the rest spread over the roaming partners.
    if pk % 10 < 6:
        return PARTIES[0][0], PARTIES[0][1]
    country, party, _name, _own = PARTIES[1 + pk % (len(PARTIES) - 1)]
    return country, party


def _location_rows(points: list[tuple[float, float]], rng: random.Random) -> Iterator[str]:
    for pk, (lat, lon) in enumerate(points, start=1):
        country, party = _party_of(pk)
        publish = "f" if rng.random() < 0.02 else "t"
        yield (
            f"{pk}\t{country}\t{party}\tL{pk}\t{publish}\tCharger {pk}\tStreet {pk % 997}\t"
            f"City {pk % 5000}\tEUR\t{lat:.6f}\t{lon:.6f}\tSRID=4326;POINT({lon:.6f} {lat:.6f})\t"
            f"{_zone(lat, lon)}\t[]\t[]\t[]\tt\t{STAMP}\t{STAMP}\n"
        )


EVSE_COLUMNS = (
    "id, location_id, uid, evse_id, status, capabilities, parking_restrictions, "
    "created_at, last_updated"
)
STATUSES = ["AVAILABLE"] * 90 + ["CHARGING"] * 5 + ["OUTOFORDER"] * 3 + ["UNKNOWN"] * 2


def _evse_rows(n: int, rng: random.Random) -> Iterator[str]:
    for pk in range(1, n + 1):
        status = rng.choice(STATUSES)
        yield f"{pk}\t{pk}\tE{pk}\tEU*PLG*E{pk}\t{status}\t[]\t[]\t{STAMP}\t{STAMP}\n"


CONNECTOR_COLUMNS = (
    "id, evse_pk, ocpi_id, standard, format, power_type, max_voltage, max_amperage, "
    "max_electric_power, tariff_ids, created_at, last_updated"
)


def _connector_rows(points: list[tuple[float, float]], rng: random.Random) -> Iterator[str]:
    weights = [kind[-1] for kind in CONNECTOR_KINDS]
    kinds = rng.choices(CONNECTOR_KINDS, weights=weights, k=len(points))
    for pk, kind in enumerate(kinds, start=1):
        standard, fmt, power_type, volts, amps, watts, _share = kind
        tariff = f'["T{rng.randrange(TARIFFS_PER_PARTY)}"]'
        yield (
            f"{pk}\t{pk}\t1\t{standard}\t{fmt}\t{power_type}\t{volts}\t{amps}\t{watts}\t"
            f"{tariff}\t{STAMP}\t{STAMP}\n"
        )


SLOT_COLUMNS = "location_id, weekday, start_time, end_time"


def _slot_rows(n: int, rng: random.Random) -> Iterator[str]:
    """A quarter of own listings share on a weekly schedule; the rest are always open."""
    for pk in range(1, n + 1):
        if pk % 10 >= 6 or rng.random() >= 0.25:
            continue
        start, end = rng.choice([("07:00", "22:00"), ("09:00", "18:00"), ("18:00", "00:00")])
        for weekday in range(1, 8):
            if weekday <= 5 or rng.random() < 0.5:
                yield f"{pk}\t{weekday}\t{start}\t{end}\n"


BLACKOUT_COLUMNS = "location_id, start_date, end_date"


def _blackout_rows(n: int, rng: random.Random) -> Iterator[str]:
    for pk in range(1, n + 1):
        if rng.random() < 0.02:
            first = NOW.date() + timedelta(days=rng.randrange(14))
            yield f"{pk}\t{first}\t{first + timedelta(days=rng.randrange(3))}\n"


def _spec(points: list[tuple[float, float]], rng: random.Random) -> Spec:
    """A search near a random charger (drivers search where chargers are)."""
    lat, lon = rng.choice(points)
    standard, min_kw = rng.choice(SEARCH_KINDS)
    start = NOW + timedelta(days=rng.randrange(14), minutes=15 * rng.randrange(24 * 4))
    return Spec(
        lat + rng.uniform(-0.05, 0.05), lon + rng.uniform(-0.05, 0.05), standard, min_kw, start
    )


# The search's radius + filters SQL alone, hand-written in the same shape: the area's locations
# nearest first, kept while usable (an EVSE in a usable status with a connector of the standard
# and power) until one page is found, joined to those EVSEs and connectors. What the service
# adds on top (schedules, blackouts, tariff versions, prices, JSON) is what the ratio measures.
RAW_SQL = """
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography AS g),
near AS (
    SELECT r.id, r.distance
    FROM (
        SELECT l.id, ST_Distance(l.geog, p.g, false) AS distance
        FROM locations l, p
        WHERE l.publish AND l.deleted_at IS NULL AND ST_DWithin(l.geog, p.g, %(radius)s, false)
        ORDER BY distance, l.id
        OFFSET 0
    ) r
    WHERE EXISTS (
        SELECT 1 FROM evses e JOIN connectors c ON c.evse_pk = e.id
        WHERE e.location_id = r.id AND e.status NOT IN ('REMOVED', 'INOPERATIVE', 'OUTOFORDER')
          AND c.standard = %(standard)s AND c.max_electric_power >= %(min_w)s)
    ORDER BY r.distance, r.id
    LIMIT %(page)s
)
SELECT e.id, e.uid, e.status, l.id, l.name, l.latitude, l.longitude, near.distance,
       c.standard, c.power_type, c.max_electric_power, c.tariff_ids
FROM near
JOIN locations l ON l.id = near.id
JOIN evses e ON e.location_id = near.id
    AND e.status NOT IN ('REMOVED', 'INOPERATIVE', 'OUTOFORDER')
    AND EXISTS (SELECT 1 FROM connectors m WHERE m.evse_pk = e.id
                AND m.standard = %(standard)s AND m.max_electric_power >= %(min_w)s)
JOIN connectors c ON c.evse_pk = e.id
ORDER BY near.distance, near.id, e.id, c.id
"""
# The bare radius query the first version of this benchmark timed: every EVSE in the circle,
# nearest first, no filters (printed for comparison with earlier runs).
CIRCLE_SQL = """
SELECT e.id, ST_Distance(l.geog, p.g, false) AS distance
FROM locations l
JOIN evses e ON e.location_id = l.id,
     (SELECT ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography AS g) AS p
WHERE ST_DWithin(l.geog, p.g, %s, false)
ORDER BY distance, e.id
"""
PAGE = 20  # the API's default page


def _time_raw(
    pg_url: str, warmup: list[Spec], specs: list[Spec], radius: int
) -> tuple[list[float], list[float]]:
    """The radius + filters SQL alone (psycopg, prepared), and the bare circle query."""
    with psycopg.connect(pg_url, autocommit=True) as connection:

        def run(spec: Spec) -> None:
            params = {
                "lon": spec.lon,
                "lat": spec.lat,
                "radius": radius,
                "standard": spec.standard,
                "min_w": spec.min_kw * 1000,
                "page": PAGE + 1,
            }
            connection.execute(RAW_SQL, params, prepare=True).fetchall()

        def circle(spec: Spec) -> None:
            connection.execute(CIRCLE_SQL, (spec.lon, spec.lat, radius), prepare=True).fetchall()

        return _timed(run, warmup, specs), _timed(circle, warmup, specs)


def _time_service(
    sa_url: str, warmup: list[Spec], specs: list[Spec], radius: int
) -> tuple[list[float], float, float]:
    """The search service in-process; also its own CPU time per search (Python side)."""
    from app import create_app
    from app.extensions import db
    from app.search.criteria import SearchCriteria, Window
    from app.search.services import search_chargers

    app = create_app("default", {"DATABASE_URL": sa_url})
    found: list[int] = []
    with app.app_context():

        def run(spec: Spec) -> None:
            criteria = SearchCriteria(
                lat=spec.lat,
                lon=spec.lon,
                radius_m=radius,
                standards=(spec.standard,),
                min_power_kw=Decimal(spec.min_kw),
                window=Window(spec.start, spec.end),
            )
            page = search_chargers(criteria)
            found.append(len(page.results))
            db.session.remove()  # what the request teardown does

        for spec in warmup:
            run(spec)
        cpu_started = time.process_time()
        times = _timed(run, [], specs)
        cpu_ms = (time.process_time() - cpu_started) * 1000 / len(specs)
        db.engine.dispose()
    return times, statistics.mean(found[len(warmup) :]), cpu_ms


def _time_http(
    sa_url: str, pg_url: str, warmup: list[Spec], specs: list[Spec], args: argparse.Namespace
) -> tuple[list[float], float, dict[str, float]]:
    """The API under gunicorn; also the CPU each request cost the server, PostgreSQL, client."""
    server = _gunicorn(sa_url, args.port, args)
    try:
        wait_until_up(args.port)
        times, rps, cpu = _measure(args.port, [server.pid], [], pg_url, warmup, specs, args)
    finally:
        _stop(server)
    return times, rps, cpu


def _time_cluster(
    sa_url: str, pg_url: str, warmup: list[Spec], specs: list[Spec], args: argparse.Namespace
) -> tuple[list[float], float, dict[str, float]]:
    """The same searches through nginx to --cluster-nodes gunicorn nodes (as `make cluster`)."""
    from scripts import cluster

    proxy_port, base = args.port + 1, args.port + 2
    settings = {
        "CLUSTER_HTTP_PORT": proxy_port,
        "CLUSTER_WEB_BASE_PORT": base,
        "CLUSTER_WEB_NODES": args.cluster_nodes,
        "CLUSTER_GATEWAY_BASE_PORT": base + args.cluster_nodes,  # none run: HTTP only here
        "CLUSTER_GATEWAY_NODES": 1,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    }
    cluster.CLUSTER_DIR.mkdir(parents=True, exist_ok=True)
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (cluster.CLUSTER_DIR / "nginx-tmp" / name).mkdir(parents=True, exist_ok=True)
    conf = cluster.CLUSTER_DIR / "bench-search-nginx.conf"
    conf.write_text(cluster.nginx_conf(settings))
    nodes = [_gunicorn(sa_url, base + n, args) for n in range(args.cluster_nodes)]
    proxy = subprocess.Popen(
        [cluster.nginx_binary(), "-e", "stderr", "-p", str(cluster.CLUSTER_DIR), "-c", str(conf)]
    )
    try:
        for n in range(args.cluster_nodes):
            wait_until_up(base + n)
        wait_until_up(proxy_port)
        pids = [node.pid for node in nodes]
        return _measure(proxy_port, pids, [proxy.pid], pg_url, warmup, specs, args)
    finally:
        for process in [proxy, *nodes]:
            _stop(process)


def _has_nginx() -> bool:
    from scripts import cluster

    if shutil.which(cluster.nginx_binary()):
        return True
    print("nginx is not installed (make cluster installs it): no cluster figures")
    return False


def _gunicorn(sa_url: str, port: int, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": sa_url, "PLUGPOOL_ENV": "default"}
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        # What production runs (config/gunicorn.py); the bench's arguments below override.
        "--config",
        str(ROOT / "config" / "gunicorn.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        *worker_arguments(args.worker_class, args.threads),
        "--log-level",
        "warning",
        "wsgi:app",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env)


def worker_arguments(worker_class: str, threads: int) -> list[str]:
    """gunicorn's worker class, threads and keep-alive for a benchmark node."""
    # gunicorn silently runs gthread for any class when threads > 1: sync gets one.
    count = threads if worker_class == "gthread" else 1
    return ["--worker-class", worker_class, "--threads", str(count), "--keep-alive", "30"]


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def _measure(
    port: int,
    servers: list[int],
    proxies: list[int],
    pg_url: str,
    warmup: list[Spec],
    specs: list[Spec],
    args: argparse.Namespace,
) -> tuple[list[float], float, dict[str, float]]:
    """Send the searches to `port`; CPU per search of the servers, proxies, PostgreSQL, client."""
    _hammer(port, warmup, args.clients, args.radius)
    tree = [pid for server in servers for pid in _process_tree(server)]
    proxy_tree = [pid for proxy in proxies for pid in _process_tree(proxy)]
    backends = _backends(pg_url)

    def now() -> tuple[float, ...]:
        cpu = (_cpu_seconds(tree), _cpu_seconds(proxy_tree), _cpu_seconds(backends))
        return (*cpu, time.process_time())

    before = now()
    started = time.perf_counter()
    times = _hammer(port, specs, args.clients, args.radius)
    elapsed = time.perf_counter() - started
    after = now()
    per_request = [(b - a) * 1000 / len(specs) for a, b in zip(before, after, strict=True)]
    cpu = dict(zip(("app", "proxy", "postgres", "client"), per_request, strict=True))
    return times, len(specs) / elapsed, cpu


def _process_tree(pid: int) -> list[int]:
    """A process and its children (gunicorn's master and workers)."""
    pids, index = [pid], 0
    while index < len(pids):
        for task in Path(f"/proc/{pids[index]}/task").glob("*/children"):
            pids += [int(child) for child in task.read_text().split()]
        index += 1
    return pids


def _backends(pg_url: str) -> list[int]:
    """The PostgreSQL server processes serving the benchmark database (the workers' pools)."""
    with psycopg.connect(pg_url) as connection:
        sql = "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        mine = connection.info.backend_pid
        return [pid for (pid,) in connection.execute(sql) if pid != mine]


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of the processes (all their threads), from /proc."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / os.sysconf("SC_CLK_TCK")


def wait_until_up(
    port: int,
    path: str = "/healthz",
    seconds: float = 60,
    server: subprocess.Popen[bytes] | None = None,
) -> None:
    """Wait until GET `path` answers on loopback `port` (a `server` that exits fails at once)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server is not None and server.poll() is not None:
            raise RuntimeError("gunicorn exited")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=seconds)
            connection.request("GET", path)
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not come up within {seconds:.0f} s")


def _hammer(port: int, specs: list[Spec], clients: int, radius: int) -> list[float]:
    """Send every spec once over `clients` keep-alive connections; return latencies in ms."""
    times: list[float] = []
    lock = threading.Lock()
    queue = list(reversed(specs))
    errors: list[str] = []

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                if not queue:
                    break
                spec = queue.pop()
            path = "/api/v1/chargers?" + urllib.parse.urlencode(spec.params(radius))
            started = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                times.append(elapsed)
                if response.status != 200:
                    errors.append(body.decode()[:300])
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} HTTP searches failed, e.g. {errors[0]}")
    return times


def _timed(run: Callable[[Spec], None], warmup: list[Spec], specs: list[Spec]) -> list[float]:
    for spec in warmup:
        run(spec)
    times = []
    for spec in specs:
        started = time.perf_counter()
        run(spec)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _pct(times: list[float], percentile: int) -> float:
    return round(statistics.quantiles(times, n=100, method="inclusive")[percentile - 1], 3)


def _report(label: str, times: list[float]) -> None:
    print(
        f"{label:<40} n={len(times)}  p50 {_pct(times, 50):8.2f} ms  "
        f"p95 {_pct(times, 95):8.2f} ms  p99 {_pct(times, 99):8.2f} ms"
    )


if __name__ == "__main__":
    main()
