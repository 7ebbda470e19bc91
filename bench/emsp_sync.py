"""PlugPool as eMSP: pull a partner CPO's locations into the inventory, take its status pushes,
and search own + roaming chargers.

    python -m bench.emsp_sync --locations 100000

1. A PlugPool CPO (party NL*PLG) in its own scratch database, `--locations` locations loaded
   with COPY, served by gunicorn (`--workers`) on a free loopback port.
2. The eMSP PlugPool (party NL*EMP, `--own` own locations on the same grid, shifted east) in
   a second scratch database, with the CPO registered as its partner; the bench runs the same
   full pull as `flask ocpi sync NAME --full` (pages of 1,000 followed through Link, stored
   with set-based upserts, the spatial index maintained) and times it.
3. The eMSP is served by gunicorn; `--pushes` EVSE status PATCHes from the CPO to its Locations
   receiver over keep-alive HTTP are timed one by one (the receiver's answer time, end to end).
4. `--searches` searches (radius, connector, minimum power) through the search service
   in-process over own + roaming chargers, and the same page by the raw spatial SQL of
   bench/search.py on psycopg, in the same run: ratio_p95 = service p95 / raw p95.

status_push_cpu_ms is the CPU (gunicorn workers and database server) per push;
locations_per_cpu_s divides by the CPU the eMSP side spent (its Python process and its database
server processes), a figure that does not move with the machine's load. The last line is one
JSON object. Both scratch databases are dropped at the end.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import requests

from bench.ocpi_pull import ROOT, _free_port, gunicorn, load_locations, scratch_database
from bench.search import RAW_SQL, _backends, _cpu_seconds, _pct, _process_tree, _timed

EMSP_SETTINGS = {"OWN_COUNTRY_CODE": "NL", "OWN_PARTY_ID": "EMP", "OWN_PARTY_NAME": "eMSP"}
RADIUS_M = 2000
PUSHED_FROM = datetime(2027, 1, 1, tzinfo=UTC)
PAGE = 20


def migrate(url: str, **settings: Any) -> None:
    """Bring a scratch database to the head revision."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    app = create_app("testing", {"DATABASE_URL": url, **settings})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        db.engine.dispose()


def register_pair(cpo_url: str, emsp_url: str, cpo_base: str, emsp_base: str) -> tuple[str, int]:
    """Each side's partner row for the other (what the credentials handshake leaves behind).

    Returns the token the CPO presents to the eMSP and the eMSP's partner id of the CPO.
    """
    from app import create_app
    from app.core.security import digest_token, new_token
    from app.extensions import db
    from app.ocpi import pull
    from app.ocpi.models import OcpiPartner, PartnerEndpoint, PartnerRole

    cpo_to_emsp, emsp_to_cpo = new_token(), new_token()

    def partner(name: str, token_in: str, token_out: str, party: tuple[str, str, str]) -> Any:
        row = OcpiPartner(
            name=name,
            status="REGISTERED",
            token_in_digest=digest_token(token_in),
            token_out=token_out,
            version="2.2.1",
        )
        row.roles.append(
            PartnerRole(
                role=party[2],
                country_code=party[0],
                party_id=party[1],
                business_details={"name": name},
            )
        )
        return row

    cpo_app = create_app("testing", {"DATABASE_URL": cpo_url})
    with cpo_app.app_context():
        emsp = partner("bench-emsp", emsp_to_cpo, cpo_to_emsp, ("NL", "EMP", "EMSP"))
        emsp.endpoints.append(
            PartnerEndpoint(
                version="2.2.1",
                identifier="locations",
                role="RECEIVER",
                url=f"{emsp_base}/ocpi/emsp/2.2.1/locations",
            )
        )
        db.session.add(emsp)
        db.session.commit()
        db.engine.dispose()
    emsp_app = create_app("testing", {"DATABASE_URL": emsp_url, **EMSP_SETTINGS})
    with emsp_app.app_context():
        cpo = partner("bench-cpo", cpo_to_emsp, emsp_to_cpo, ("NL", "PLG", "CPO"))
        for module in ("locations", "tariffs"):
            cpo.endpoints.append(
                PartnerEndpoint(
                    version="2.2.1",
                    identifier=module,
                    role="SENDER",
                    url=f"{cpo_base}/ocpi/cpo/2.2.1/{module}",
                )
            )
        db.session.add(cpo)
        db.session.flush()
        pull.on_registered(cpo)
        db.session.commit()
        partner_id = cpo.id
        db.engine.dispose()
    return cpo_to_emsp, partner_id


def full_pull(emsp_url: str, partner_id: int) -> tuple[float, int, float]:
    """The first full pull, as `flask ocpi sync NAME --full` runs it.

    Returns (seconds, locations received, CPU seconds of this process and its database
    server processes): the CPU figure does not depend on how busy the machine is.
    """
    from app import create_app
    from app.extensions import db
    from app.ocpi import pull
    from app.ocpi.models import OcpiPartner

    app = create_app("testing", {"DATABASE_URL": emsp_url, **EMSP_SETTINGS})
    with app.app_context():
        partner = db.session.get(OcpiPartner, partner_id)
        started, cpu_started = time.perf_counter(), time.process_time()
        results = pull.sync_partner(partner, full=True)
        seconds = time.perf_counter() - started
        plain = emsp_url.replace("postgresql+psycopg://", "postgresql://")
        # The pool's server processes were started for this pull (the app is new).
        cpu = time.process_time() - cpu_started + _cpu_seconds(_backends(plain))
        failed = [result for result in results if not result.ok]
        if failed:
            raise SystemExit(f"pull failed: {failed}")
        received = sum(r.received for r in results if r.module == "locations")
        db.engine.dispose()
    return seconds, received, cpu


def push_statuses(
    emsp_base: str, token: str, count: int, locations: int, first: int = 0
) -> list[float]:
    """EVSE status PATCHes to the eMSP's receiver, one at a time over keep-alive; ms each.

    first: number of the first push (each push is a second later than the one before).
    """
    session = requests.Session()
    encoded = base64.b64encode(token.encode()).decode()
    rng = random.Random(7 + first)
    statuses = ("CHARGING", "AVAILABLE", "BLOCKED", "OUTOFORDER")
    timings = []
    for index in range(first, first + count):
        n = rng.randint(1, locations)
        stamp = (PUSHED_FROM + timedelta(seconds=index)).isoformat().replace("+00:00", "Z")
        body = {"status": statuses[index % len(statuses)], "last_updated": stamp}
        url = f"{emsp_base}/ocpi/emsp/2.2.1/locations/NL/PLG/L{n:07d}/E{n:07d}"
        headers = {"Authorization": f"Token {encoded}", "X-Request-ID": str(uuid.uuid4())}
        started = time.perf_counter()
        reply = session.patch(url, json=body, headers=headers, timeout=30)
        timings.append((time.perf_counter() - started) * 1000)
        if reply.json().get("status_code") != 1000:
            raise SystemExit(f"push refused: {reply.text}")
    return timings


def _specs(count: int, rng: random.Random) -> list[tuple[float, float, int]]:
    """(lat, lon, min kW) around the loaded grid."""
    return [
        (50.0 + rng.random() * 3, 4.0 + rng.randint(0, 3) / 100 + 0.0025, rng.choice((7, 11)))
        for _ in range(count)
    ]


def time_searches(emsp_url: str, count: int) -> tuple[list[float], list[float], float, float]:
    """(service ms, raw SQL ms, mean results, share of roaming results) on the same specs."""
    from app import create_app
    from app.extensions import db
    from app.search.criteria import SearchCriteria
    from app.search.services import search_chargers

    rng = random.Random(11)
    warmup, specs = _specs(30, rng), _specs(count, rng)
    app = create_app("testing", {"DATABASE_URL": emsp_url, **EMSP_SETTINGS})
    found: list[int] = []
    roaming: list[int] = []
    with app.app_context():

        def run(spec: tuple[float, float, int]) -> None:
            criteria = SearchCriteria(
                lat=spec[0],
                lon=spec[1],
                radius_m=RADIUS_M,
                standards=("IEC_62196_T2",),
                min_power_kw=Decimal(spec[2]),
            )
            page = search_chargers(criteria)
            found.append(len(page.results))
            roaming.append(sum(1 for r in page.results if not r.row.is_own))
            db.session.remove()

        service = _timed(run, warmup, specs)
        db.engine.dispose()
    plain = emsp_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:

        def raw(spec: tuple[float, float, int]) -> None:
            params = {
                "lat": spec[0],
                "lon": spec[1],
                "radius": RADIUS_M,
                "standard": "IEC_62196_T2",
                "min_w": spec[2] * 1000,
                "page": PAGE + 1,
            }
            connection.execute(RAW_SQL, params, prepare=True).fetchall()

        raw_times = _timed(raw, warmup, specs)
    shown = sum(found[len(warmup) :]) or 1
    return service, raw_times, shown / len(specs), sum(roaming[len(warmup) :]) / shown


def _count(url: str, sql: str) -> int:
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as connection:
        return int(connection.execute(sql).fetchone()[0])


def _analyze(url: str) -> None:
    """What autovacuum does soon after a bulk load: statistics for the planner."""
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE locations, evses, connectors, tariffs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=100_000)
    parser.add_argument("--own", type=int, default=10_000, help="the eMSP's own locations")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per side")
    parser.add_argument("--pushes", type=int, default=1000)
    parser.add_argument("--searches", type=int, default=300)
    args = parser.parse_args()

    cpo_port, emsp_port = _free_port(), _free_port()
    cpo_base, emsp_base = f"http://127.0.0.1:{cpo_port}", f"http://127.0.0.1:{emsp_port}"
    with scratch_database("_cpo") as cpo_pg, scratch_database("_emsp") as emsp_pg:
        cpo_url = cpo_pg.replace("postgresql://", "postgresql+psycopg://")
        emsp_url = emsp_pg.replace("postgresql://", "postgresql+psycopg://")
        migrate(cpo_url)
        migrate(emsp_url, **EMSP_SETTINGS)
        load_locations(cpo_url, args.locations)
        load_locations(emsp_url, args.own, party=("NL", "EMP", "eMSP"), lon_offset=0.005)
        token, partner_id = register_pair(cpo_url, emsp_url, cpo_base, emsp_base)
        print(f"loaded {args.locations} CPO and {args.own} own locations", file=sys.stderr)

        with gunicorn(cpo_url, cpo_port, args.workers):
            pull_seconds, received, pull_cpu = full_pull(emsp_url, partner_id)
        stored = _count(emsp_url, "SELECT count(*) FROM locations WHERE party_id = 'PLG'")
        if received != args.locations or stored != args.locations:
            raise SystemExit(f"pulled {received}, stored {stored} of {args.locations}")
        print(f"pulled {stored} locations in {pull_seconds:.1f}s", file=sys.stderr)

        with gunicorn(emsp_url, emsp_port, args.workers, threads=2, **EMSP_SETTINGS) as server:
            push_statuses(emsp_base, token, 50, args.locations)  # warm-up: connections, caches
            servers = _process_tree(server.pid)
            cpu_before = _cpu_seconds(servers) + _cpu_seconds(_backends(emsp_pg))
            pushes = push_statuses(emsp_base, token, args.pushes, args.locations, first=50)
            push_cpu = _cpu_seconds(servers) + _cpu_seconds(_backends(emsp_pg)) - cpu_before
        changed = _count(
            emsp_url,
            "SELECT count(*) FROM evses e JOIN locations l ON l.id = e.location_id"
            " WHERE l.party_id = 'PLG' AND e.last_updated >= '2027-01-01'",
        )
        _analyze(emsp_url)
        service, raw, mean_results, roaming_share = time_searches(emsp_url, args.searches)

    figures = {
        "locations": stored,
        "pull_seconds": round(pull_seconds, 2),
        "locations_per_s": round(stored / pull_seconds),
        "pull_cpu_seconds": round(pull_cpu, 2),
        "locations_per_cpu_s": round(stored / pull_cpu),
        "status_pushes": len(pushes),
        "evses_changed": changed,
        "status_push_p50_ms": _pct(pushes, 50),
        "status_push_p99_ms": _pct(pushes, 99),
        "status_push_cpu_ms": round(push_cpu * 1000 / len(pushes), 2),
        "search_p50_ms": _pct(service, 50),
        "search_p95_ms": _pct(service, 95),
        "raw_p95_ms": _pct(raw, 95),
        "ratio_p95": round(_pct(service, 95) / _pct(raw, 95), 2),
        "mean_results": round(mean_results, 1),
        "roaming_share": round(roaming_share, 2),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
