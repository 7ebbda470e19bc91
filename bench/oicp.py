"""Hubject bridge throughput: fullLoad push, pull into the inventory, remote start latency.

    python -m bench.oicp --evses 100000

1. A scratch PostgreSQL database with `--evses` own published EVSEs (COPY, as bench.ocpi_pull).
2. The Hubject stand-in (tests/support/hubject_standin, its own process) over mutual TLS with
   certificates made here; it validates every pushed record against PlugPool's schemas.
3. Push: PushEvseData fullLoad of every EVSE (batches of OICP_PUSH_BATCH) and the status push.
   Baseline in the same process: the same number of records POSTed to the stand-in as already
   built batches (transport and the stand-in's validation only).
4. Pull: PullEvseData of `--evses` records from the stand-in into the inventory (upserts).
   Baseline: the same pages fetched and validated, nothing written.
5. Remote start: `--starts` AuthorizeRemoteStart from the stand-in to PlugPool (HTTPS, mutual
   TLS) through the gateway's command bus to a simulated OCPP 2.0.1 charger and back; each start
   is stopped again before the next. Latency is what the stand-in measures.

Besides wall-clock rates (which fall with the machine's load), push and pull report the CPU
seconds they took in PlugPool's process, the stand-in's process and the scratch database's
PostgreSQL backends (from /proc), and records per CPU-second of all three: a figure that holds
on a shared machine.

The last line is one JSON object. The scratch database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.ocpi_pull import load_locations, scratch_database

ROOT = Path(__file__).resolve().parent.parent
STATION_PASSWORD = "bench-password"  # noqa: S105 -- the simulated charger's, in a scratch database


class CpuMeter:
    """CPU seconds of this process, the stand-in and the database's backends between two points."""

    def __init__(self, url: str, standin_pid: int) -> None:
        self.url = url.replace("postgresql+psycopg://", "postgresql://")
        self.standin_pid = standin_pid

    def _backends(self) -> dict[int, float]:
        import psycopg

        with psycopg.connect(self.url) as conn:
            pids = conn.execute(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        return {pid: _proc_cpu(pid) for (pid,) in pids}

    def __enter__(self) -> CpuMeter:
        self.own = time.process_time()
        self.standin = _proc_cpu(self.standin_pid)
        self.db = self._backends()
        return self

    def __exit__(self, *_: Any) -> None:
        self.own_s = time.process_time() - self.own
        self.standin_s = _proc_cpu(self.standin_pid) - self.standin
        # A backend that was not there at the start spent all its CPU within.
        self.db_s = sum(cpu - self.db.get(pid, 0.0) for pid, cpu in self._backends().items())

    def report(self, prefix: str, count: int) -> dict[str, float]:
        """CPU seconds by process and records per CPU-second of all of them."""
        total = self.own_s + self.standin_s + self.db_s
        return {
            f"{prefix}_cpu_s_plugpool": round(self.own_s, 2),
            f"{prefix}_cpu_s_standin": round(self.standin_s, 2),
            f"{prefix}_cpu_s_db": round(self.db_s, 2),
            f"{prefix}_records_per_cpu_s": round(count / total, 1) if total else 0.0,
            f"{prefix}_records_per_plugpool_cpu_s": round(count / self.own_s, 1)
            if self.own_s
            else 0.0,
        }


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _app(url: str, standin: Any, pki: Any) -> Any:
    from flask_migrate import upgrade

    from app import create_app

    app = create_app(
        "testing",
        {
            "DATABASE_URL": url,
            "OICP_ENABLED": True,
            "OICP_BASE_URL": standin.url,
            "OICP_CLIENT_CERT": pki.plugpool_client.cert,
            "OICP_CLIENT_KEY": pki.plugpool_client.key,
            "OICP_CA_BUNDLE": pki.ca,
            # A 10,000-record batch is validated in full by the stand-in before it answers.
            "OICP_HTTP_TIMEOUT": 600.0,
        },
    )
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    return app


def bench_push(app: Any, standin: Any, count: int, url: str) -> dict[str, float]:
    """fullLoad of every own EVSE; baseline: the same records as ready-made batches."""
    from app.oicp.client import HubjectClient
    from app.oicp.services import cpo_push

    with app.app_context():
        with CpuMeter(url, standin.process.pid) as cpu:
            started = time.perf_counter()
            pushed = cpo_push.full_load()
            seconds = time.perf_counter() - started
        assert pushed == count, (pushed, count)
        state = standin.state(brief=True)
        assert state["errors"] == [], state["errors"]
        assert state["evse_data"] == count, state["evse_data"]
        sample = cpo_push._records(next(cpo_push.queries.own_evse_batches(1)))[0][1]
        batch = int(app.config["OICP_PUSH_BATCH"])
        client = HubjectClient()
        base_started = time.perf_counter()
        for start in range(0, count, batch):
            records = [
                {**sample, "EvseID": f"NL*PLG*EB{n:08d}"}
                for n in range(start, min(start + batch, count))
            ]
            cpo_push._push_data(client, "fullLoad" if start == 0 else "insert", records)
        baseline = time.perf_counter() - base_started
    return {
        "push_seconds": round(seconds, 2),
        "push_records_per_s": round(count / seconds, 1),
        "push_baseline_records_per_s": round(count / baseline, 1),
        "push_vs_baseline": round(baseline / seconds, 3),
        **cpu.report("push", count),
    }


def bench_pull(app: Any, standin: Any, count: int, url: str) -> dict[str, float]:
    """PullEvseData of `count` records into the inventory; baseline: fetch and validate only."""
    from app.oicp.client import HubjectClient
    from app.oicp.schemas.evse import EvseDataPage
    from app.oicp.services import emp_pull

    standin.configure(size=count)
    with app.app_context():
        client = HubjectClient()
        size = int(app.config["OICP_PULL_PAGE_SIZE"])
        path = "evsepull/v23/providers/NL-PLG/data-records"
        body = {"ProviderID": "NL-PLG", "GeoCoordinatesResponseFormat": "DecimalDegree"}
        base_started = time.perf_counter()
        fetched = 0
        for page in range((count + size - 1) // size):
            fetched += len(
                client.post(path, body, EvseDataPage, params={"page": page, "size": size})[
                    "content"
                ]
            )
        baseline = time.perf_counter() - base_started
        with CpuMeter(url, standin.process.pid) as cpu:
            started = time.perf_counter()
            pulled = emp_pull.pull_evse_data()
            seconds = time.perf_counter() - started
        status_started = time.perf_counter()
        changed = emp_pull.pull_evse_status()
        status_seconds = time.perf_counter() - status_started
    assert pulled == count == fetched, (pulled, fetched, count)
    return {
        "pull_seconds": round(seconds, 2),
        "pull_records_per_s": round(count / seconds, 1),
        "pull_baseline_records_per_s": round(count / baseline, 1),
        "pull_vs_baseline": round(baseline / seconds, 3),
        **cpu.report("pull", count),
        "status_pull_seconds": round(status_seconds, 2),
        "statuses_changed": changed,
    }


def _seed_charger(app: Any) -> tuple[str, str]:
    """One own published EVSE on a station the simulator plays; return station and EvseID."""
    from app.core.security import hash_secret
    from app.extensions import db
    from app.inventory.models import ChargeStation, Connector, Evse, Location

    with app.app_context():
        location = db.session.get(Location, 1)
        station = ChargeStation(
            station_id="BENCH-1", password_hash=hash_secret(STATION_PASSWORD), location=location
        )
        evse = Evse(
            uid="BENCH-EVSE",
            evse_id="NL*PLG*EBENCH1",
            status="AVAILABLE",
            capabilities=["REMOTE_START_STOP_CAPABLE"],
            station=station,
            ocpp_evse_id=1,
            location=location,
        )
        evse.connectors.append(
            Connector(
                ocpi_id="1",
                standard="IEC_62196_T2",
                format="SOCKET",
                power_type="AC_3_PHASE",
                max_voltage=230,
                max_amperage=16,
                max_electric_power=11000,
                tariff_ids=[],
            )
        )
        db.session.add_all([station, evse])
        db.session.commit()
    return "BENCH-1", "NL*PLG*EBENCH1"


def _query(app: Any, statement: Any) -> Any:
    from app.extensions import db

    with app.app_context():
        return db.session.execute(statement).first()


async def _until(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await asyncio.to_thread(check)
        if value:
            return value
        await asyncio.sleep(0.05)
    raise TimeoutError("condition not met")


def bench_remote_start(app: Any, standin: Any, pki: Any, starts: int) -> dict[str, float]:
    """Hubject's AuthorizeRemoteStart to the simulated charger's answer, `starts` times."""
    from sqlalchemy import select

    from app.charging.commands import use_local_bus
    from app.charging.models import ChargingSession
    from app.charging.port import DbStationPort
    from app.gateway.bus import LocalBus
    from app.gateway.ports import OcppVersion
    from app.gateway.server import GatewayConfig, run_gateway
    from app.gateway.simulator import SimulatorConfig, connected
    from app.inventory.models import ChargeStation, Evse
    from app.oicp.server import serving

    station_id, evse_id = _seed_charger(app)
    start_path = "/api/oicp/charging/v21/providers/DE-EMP/authorize-remote/start"
    stop_path = "/api/oicp/charging/v21/providers/DE-EMP/authorize-remote/stop"
    evse_status = select(Evse.status).where(Evse.uid == "BENCH-EVSE")
    online = select(ChargeStation.connected).where(ChargeStation.station_id == station_id)
    open_session = select(ChargingSession.id).where(
        ChargingSession.station_id == station_id, ChargingSession.end_date_time.is_(None)
    )

    async def scenario() -> list[float]:
        latencies = []
        settings = GatewayConfig(host="127.0.0.1", port=0)
        async with run_gateway(DbStationPort(app), LocalBus(), settings) as gateway:
            use_local_bus(gateway.bus)
            config = SimulatorConfig(
                station_id=station_id,
                password=STATION_PASSWORD,
                url=f"ws://127.0.0.1:{gateway.bound_port}/ocpp",
                protocol=OcppVersion.V201,
                meter_interval=5.0,
            )
            async with connected(config):
                await _until(lambda: (_query(app, online) or [False])[0])
                for _ in range(starts):
                    await _until(lambda: (_query(app, evse_status) or [""])[0] == "AVAILABLE")
                    body = {
                        "SessionID": str(uuid.uuid4()),
                        "ProviderID": "DE-EMP",
                        "EvseID": evse_id,
                        "Identification": {
                            "RemoteIdentification": {"EvcoID": "DE-EMP-C12345678-9"}
                        },
                    }
                    answer = await asyncio.to_thread(standin.drive, start_path, body)
                    assert answer["body"]["Result"] is True, answer
                    latencies.append(answer["elapsed_ms"])
                    await _until(lambda: _query(app, open_session))
                    stop = {k: body[k] for k in ("SessionID", "ProviderID", "EvseID")}
                    await asyncio.to_thread(standin.drive, stop_path, stop)
                    await _until(lambda: not _query(app, open_session))
            use_local_bus(None)
        return latencies

    with serving(app, pki.plugpool_server.cert, pki.plugpool_server.key, pki.ca) as server:
        standin.configure(plugpool_base=f"https://127.0.0.1:{server.port}")
        latencies = asyncio.run(scenario())
    ordered = sorted(latencies)
    return {
        "remote_starts": len(ordered),
        "remote_start_p50_ms": round(statistics.median(ordered), 1),
        "remote_start_p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
        "remote_start_p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))], 1),
    }


def main() -> None:
    """Run the three measurements and print one JSON line last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evses", type=int, default=100_000)
    parser.add_argument("--starts", type=int, default=40)
    args = parser.parse_args()

    from tests.support.hubject_standin import StandIn
    from tests.support.hubject_standin.certs import make_pki

    with tempfile.TemporaryDirectory() as directory, scratch_database() as url:
        pki = make_pki(Path(directory))
        standin = StandIn(pki, Path(directory))
        try:
            app = _app(url.replace("postgresql://", "postgresql+psycopg://"), standin, pki)
            loaded = load_locations(url, args.evses)
            print(f"loaded {args.evses} EVSEs in {loaded:.1f}s", flush=True)
            result: dict[str, Any] = {"evses": args.evses}
            result.update(bench_push(app, standin, args.evses, url))
            print(f"push: {result}", flush=True)
            result.update(bench_pull(app, standin, args.evses, url))
            print(f"pull: {result}", flush=True)
            result.update(bench_remote_start(app, standin, pki, args.starts))
            with app.app_context():
                from app.extensions import db

                db.engine.dispose()
        finally:
            standin.close()
    result["load_average_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
