"""Pull every location from PlugPool over OCPI, page by page, and time real-time authorisation.

    python -m bench.ocpi_pull --locations 100000

1. Creates a scratch PostgreSQL database, migrates it, and loads `--locations` published
   locations (one EVSE, one connector each) with COPY.
2. Serves PlugPool with gunicorn (`--workers`) on a free loopback port, registers an eMSP
   partner, and pulls /ocpi/cpo/2.2.1/locations following the Link headers.
3. Real-time authorisation: `--rta` calls of authorize_token() for a whitelist=NEVER token,
   each a POST to a small eMSP stand-in on loopback (keep-alive), measured end to end.

The last line is one JSON object. The scratch database is dropped at the end.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CC, PID = "NL", "PLG"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def scratch_database(suffix: str = "") -> Any:
    """A fresh database, dropped afterwards."""
    name = f"plugpool_bench_{os.getpid()}{suffix}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _copy(connection: psycopg.Connection, table: str, columns: str, rows: io.StringIO) -> None:
    rows.seek(0)
    with connection.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        while chunk := rows.read(1 << 20):
            copy.write(chunk)


def load_locations(
    url: str,
    count: int,
    party: tuple[str, str, str] = (CC, PID, "PlugPool"),
    lon_offset: float = 0.0,
) -> float:
    """COPY `count` own locations with one EVSE and one connector each; return seconds taken.

    party: (country code, party id, name) of the own party; lon_offset shifts the grid east.
    """
    cc, pid, party_name = party
    started = time.perf_counter()
    locations, evses, connectors = io.StringIO(), io.StringIO(), io.StringIO()
    for n in range(1, count + 1):
        stamp = (T0 + timedelta(seconds=n)).isoformat()
        lat, lon = 50.0 + (n % 30000) / 10000, 4.0 + (n // 30000) / 100 + lon_offset
        locations.write(
            f"{n}\t{cc}\t{pid}\tL{n:07d}\tt\tStreet {n}\tUtrecht\tNLD\t{lat:.6f}\t{lon:.6f}\t"
            f"SRID=4326;POINT({lon:.6f} {lat:.6f})\tEurope/Amsterdam\t[]\t[]\t[]\tt\t"
            f"{stamp}\t{stamp}\n"
        )
        evses.write(
            f"{n}\t{n}\tE{n:07d}\t{cc}*{pid}*E{n:07d}\tAVAILABLE\t[]\t[]\t{stamp}\t{stamp}\n"
        )
        connectors.write(
            f"{n}\t{n}\t1\tIEC_62196_T2\tSOCKET\tAC_3_PHASE\t230\t16\t11000\t[]\t{stamp}\t{stamp}\n"
        )
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as connection:
        connection.execute(
            "INSERT INTO parties (country_code, party_id, name, roles, is_own, created_at,"
            " last_updated) VALUES (%s, %s, %s, '[\"CPO\"]', true, now(), now())",
            (cc, pid, party_name),
        )
        _copy(
            connection,
            "locations",
            "id, country_code, party_id, ocpi_id, publish, address, city, country, latitude,"
            " longitude, geog, time_zone, facilities, directions, images, charging_when_closed,"
            " created_at, last_updated",
            locations,
        )
        _copy(
            connection,
            "evses",
            "id, location_id, uid, evse_id, status, capabilities, parking_restrictions,"
            " created_at, last_updated",
            evses,
        )
        _copy(
            connection,
            "connectors",
            "id, evse_pk, ocpi_id, standard, format, power_type, max_voltage, max_amperage,"
            " max_electric_power, tariff_ids, created_at, last_updated",
            connectors,
        )
        for table in ("locations", "evses", "connectors"):
            connection.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {count})")
    # What autovacuum does soon after a bulk load: statistics and the visibility map.
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE locations, evses, connectors")
    return time.perf_counter() - started


def migrate_and_register(url: str, base_url: str, rta_url: str) -> tuple[str, str]:
    """Migrate, create a registered eMSP partner with a tokens endpoint; return token and uid."""
    from flask_migrate import upgrade

    from app import create_app
    from app.core.security import digest_token, new_token
    from app.extensions import db
    from app.ocpi.models import OcpiPartner, PartnerEndpoint, PartnerRole, Token

    app = create_app("testing", {"DATABASE_URL": url, "PUBLIC_BASE_URL": base_url})
    token = new_token()
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        partner = OcpiPartner(
            name="bench-emsp",
            status="REGISTERED",
            token_in_digest=digest_token(token),
            token_out="bench-emsp-token",  # noqa: S106 -- the stand-in accepts any token
            version="2.2.1",
        )
        partner.roles.append(
            PartnerRole(role="EMSP", country_code="DE", party_id="EMS", business_details={})
        )
        partner.endpoints.append(
            PartnerEndpoint(version="2.2.1", identifier="tokens", role="SENDER", url=rta_url)
        )
        db.session.add(partner)
        db.session.flush()
        db.session.add(
            Token(
                partner_id=partner.id,
                country_code="DE",
                party_id="EMS",
                uid="BENCH-RFID",
                type="RFID",
                contract_id="DE-EMS-1",
                issuer="bench",
                valid=True,
                whitelist="NEVER",
                last_updated=T0,
            )
        )
        db.session.commit()
        db.engine.dispose()
    return token, "BENCH-RFID"


class _Emsp(BaseHTTPRequestHandler):
    """The eMSP's authorize endpoint: always ALLOWED, keep-alive."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        uid = self.path.split("/")[-2]
        token = {
            "country_code": "DE",
            "party_id": "EMS",
            "uid": uid,
            "type": "RFID",
            "contract_id": "DE-EMS-1",
            "issuer": "bench",
            "valid": True,
            "whitelist": "NEVER",
            "last_updated": "2026-01-01T00:00:00Z",
        }
        body = json.dumps(
            {
                "data": {"allowed": "ALLOWED", "token": token},
                "status_code": 1000,
                "timestamp": "2026-01-01T00:00:00Z",
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def gunicorn(url: str, port: int, workers: int, threads: int = 1, **settings: str) -> Any:
    """PlugPool served by gunicorn on loopback (settings: more environment variables).

    threads > 1: gthread workers, which keep client connections alive between requests.
    """
    env = {
        **os.environ,
        "PLUGPOOL_ENV": "testing",
        "DATABASE_URL": url,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        **settings,
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        *(["--threads", str(threads)] if threads > 1 else []),
        "wsgi:app",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"http://127.0.0.1:{port}/ocpi/versions", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        process.wait(10)


def pull(base_url: str, token: str, limit: int) -> dict[str, Any]:
    """Follow Link headers over all pages; return counts and timings."""
    session = requests.Session()
    encoded = base64.b64encode(token.encode()).decode()
    headers = {"Authorization": f"Token {encoded}"}
    url: str | None = f"{base_url}/ocpi/cpo/2.2.1/locations?limit={limit}"
    pages: list[float] = []
    seen = 0
    total = None
    started = time.perf_counter()
    while url:
        headers["X-Request-ID"] = str(uuid.uuid4())
        page_started = time.perf_counter()
        reply = session.get(url, headers=headers, timeout=60)
        body = reply.json()
        pages.append((time.perf_counter() - page_started) * 1000)
        if body["status_code"] != 1000:
            raise SystemExit(f"pull failed: {body}")
        seen += len(body["data"])
        total = int(reply.headers["X-Total-Count"])
        link = reply.headers.get("Link")
        url = link.split(";")[0].strip("<>") if link else None
    seconds = time.perf_counter() - started
    return {"seen": seen, "total": total, "seconds": seconds, "pages": pages}


def time_rta(url: str, base_url: str, calls: int) -> list[float]:
    """authorize_token() round trips to the eMSP stand-in, in ms."""
    from app import create_app
    from app.ocpi.tokens.services import authorize_token

    app = create_app("testing", {"DATABASE_URL": url, "PUBLIC_BASE_URL": base_url})
    timings = []
    with app.app_context():
        for index in range(calls + 20):
            started = time.perf_counter()
            result = authorize_token("BENCH-RFID", "RFID", {"location_id": "L0000001"})
            elapsed = (time.perf_counter() - started) * 1000
            if result.source != "realtime" or not result.accepted:
                raise SystemExit(f"RTA failed: {result}")
            if index >= 20:  # warm-up: first connections, statement caches
                timings.append(elapsed)
    return timings


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=100_000)
    parser.add_argument("--limit", type=int, default=1000, help="page size asked for")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--rta", type=int, default=1000, help="real-time authorisations")
    args = parser.parse_args()

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    emsp = ThreadingHTTPServer(("127.0.0.1", 0), _Emsp)
    threading.Thread(target=emsp.serve_forever, daemon=True).start()
    rta_url = f"http://127.0.0.1:{emsp.server_port}/ocpi/emsp/2.2.1/tokens"
    with scratch_database() as url:
        db_url = url.replace("postgresql://", "postgresql+psycopg://")
        token, _ = migrate_and_register(db_url, base_url, rta_url)
        load_seconds = load_locations(db_url, args.locations)
        print(f"loaded {args.locations} locations in {load_seconds:.1f}s", file=sys.stderr)
        with gunicorn(db_url, port, args.workers):
            result = pull(base_url, token, args.limit)
        rta = time_rta(db_url, base_url, args.rta)
    emsp.shutdown()
    if result["seen"] != args.locations or result["total"] != args.locations:
        raise SystemExit(f"pulled {result['seen']} of {result['total']}, expected all")
    pages = result["pages"]
    figures = {
        "locations": result["seen"],
        "pages": len(pages),
        "load_seconds": round(load_seconds, 2),
        "seconds": round(result["seconds"], 2),
        "locations_per_s": round(result["seen"] / result["seconds"]),
        "first_page_ms": round(pages[0], 1),
        "median_page_ms": round(statistics.median(pages), 1),
        "last_page_ms": round(pages[-1], 1),
        "rta_p50_ms": round(_percentile(rta, 0.50), 2),
        "rta_p99_ms": round(_percentile(rta, 0.99), 2),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
