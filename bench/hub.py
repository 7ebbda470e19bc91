"""The OCPI hub: routed requests against the same requests sent directly, and a broadcast fan-out.

    python -m bench.hub --parties 50

1. A scratch PostgreSQL database with one published location. Two gunicorn servers on it:
   PlugPool as CPO (`/ocpi/cpo`, NL*PLG) and PlugPool as the hub (`/ocpi/hub`); the CPO is a
   party on the hub, `--parties` eMSP parties too, their receivers served by one small asyncio
   "party farm" process that answers every push at once and counts what it received.
2. Routed vs direct, interleaved in rounds under the same load: GET of the CPO's location by an
   eMSP through the hub (OCPI-to = NL*PLG), and the same GET sent straight to the CPO by a
   direct partner; `--concurrency` client threads with keep-alive connections. The client is
   a lean HTTP/1.1 one (`KeepAlive`: request bytes from a template, the answer read by its
   Content-Length, status, status_code and data.id checked, a fresh X-Request-ID each time),
   as wrk-like load generators are: the load generator shares the machine's two cores with
   the servers, and `requests` cost about 1 ms of CPU per call (client_cpu_ms 1.2 against 0.15
   now) that the servers' throughput paid for.
3. Fan-out: the CPO sends `--changes` EVSE status PATCHes to the hub as broadcasts (to = the
   hub); `--delivery-workers` processes run the hub's delivery job until every one of the
   changes x parties deliveries has reached the farm. fanout_seconds runs from the first
   broadcast request to the farm's last receipt.

CPU per operation holds when the machine is shared (wall-clock figures do not): *_cpu_ms are
user + system CPU of the servers (hub and CPO gunicorn trees, the database's server processes
for the scratch database) per request; cpu_ratio = routed / direct. A routed request's share:
hub_cpu_ms, routed_cpo_cpu_ms, routed_db_cpu_ms (both servers' database work).
delivery_cpu_ms is the delivery processes' CPU per delivery, broadcast_accept_cpu_ms the hub's
per broadcast.
client_cpu_ms (client_direct_cpu_ms) is the load generator's own CPU (this process, all its
threads) per routed (direct) request: it runs on the same cores, so it is not counted above
but it is taken from the servers' wall-clock throughput.

The last line is one JSON object. The scratch database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import resource
import socket
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import requests

from bench.ocpi_pull import _free_port, _percentile, gunicorn, load_locations, scratch_database
from bench.search import _backends, _cpu_seconds, _process_tree

LOCATION = "L0000001"
EVSE = "E0000001"
HUB = ("NL", "HUB")


def _auth(token: str) -> str:
    return "Token " + base64.b64encode(token.encode()).decode()


# The party farm: one asyncio process answering every party's receiver.


def _farm(port: int, ready: Any) -> None:
    """Serve minimal OCPI answers on keep-alive HTTP/1.1 and count the requests received."""
    state = {"count": 0, "last": 0.0}
    reply = b'{"status_code":1000,"timestamp":"2026-01-01T00:00:00Z"}'
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in request.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
                if request.startswith(b"GET /count"):
                    body = json.dumps(state).encode()
                else:
                    state["count"] += 1
                    state["last"] = time.time()
                    body = reply
                writer.write(head % len(body) + body)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def _farm_state(port: int) -> dict[str, float]:
    return requests.get(f"http://127.0.0.1:{port}/count", timeout=5).json()


# Set-up: parties and partners in the scratch database.


def setup(url: str, hub_base: str, cpo_base: str, farm_base: str, parties: int) -> dict[str, str]:
    """Migrate; register the CPO and the eMSPs on the hub, the hub and a direct eMSP at the CPO."""
    from flask_migrate import upgrade

    from app import create_app
    from app.core.security import digest_token, new_token
    from app.extensions import db
    from app.ocpi.hub.models import HubMember
    from app.ocpi.models import OcpiPartner, PartnerEndpoint, PartnerRole

    app = create_app("testing", {"DATABASE_URL": url})
    tokens: dict[str, str] = {}
    with app.app_context():
        upgrade()

        def partner(
            name: str, hub_member: bool, roles: list[tuple[str, str, str]], token_out: str
        ) -> OcpiPartner:
            token = new_token()
            tokens[name] = token
            row = OcpiPartner(
                name=name,
                status="REGISTERED",
                token_in_digest=digest_token(token),
                token_out=token_out,
                version="2.2.1",
                versions_url=f"{farm_base}/{name}/versions",
                hub_member=hub_member,
            )
            for role, cc, pid in roles:
                row.roles.append(
                    PartnerRole(
                        role=role, country_code=cc, party_id=pid, business_details={"name": pid}
                    )
                )
            db.session.add(row)
            return row

        # At the CPO: the hub (whose token the hub forwards with) and a direct eMSP partner.
        hub_at_cpo = partner("hub", False, [("HUB", *HUB)], "unused")
        partner("direct-emsp", False, [("EMSP", "DE", "DIR")], "unused")
        # At the hub: the CPO (its own party, NL*PLG) and the eMSPs, all CONNECTED.
        cpo = partner("cpo-on-hub", True, [("CPO", "NL", "PLG")], tokens["hub"])
        for module in ("locations", "tariffs"):
            cpo.endpoints.append(
                PartnerEndpoint(
                    version="2.2.1",
                    identifier=module,
                    role="SENDER",
                    url=f"{cpo_base}/ocpi/cpo/2.2.1/{module}",
                )
            )
        emsps = []
        for n in range(parties):
            emsp = partner(f"emsp-{n}", True, [("EMSP", "DE", f"E{n:02d}")], f"farm-{n}")
            emsp.endpoints.append(
                PartnerEndpoint(
                    version="2.2.1",
                    identifier="locations",
                    role="RECEIVER",
                    url=f"{farm_base}/p{n}/locations",
                )
            )
            emsps.append(emsp)
        db.session.flush()
        for member in (cpo, *emsps):
            db.session.add(HubMember(partner_id=member.id, status="CONNECTED", suspended=False))
        db.session.commit()
        del hub_at_cpo
    return tokens


# Workloads.


class KeepAlive:
    """A lean HTTP/1.1 keep-alive client on one socket, as wrk-like load generators are: the
    request is bytes from a template, the answer is read by its Content-Length.

    The load generator shares the machine's cores with the servers; `requests` spent about a
    millisecond of CPU per call, which the servers' throughput paid for (client_cpu_ms).
    """

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.host = parts.netloc
        self.sock: socket.socket | None = None
        self.buffer = b""

    def get(self, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
        """GET path; return the HTTP status and the body."""
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        raw = f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n{lines}\r\n".encode()
        reused = self.sock is not None
        try:
            head = self._send(raw)
        except (ConnectionError, EOFError):
            if not reused or self.buffer:
                raise
            # The server closed the idle connection (gunicorn's keep-alive timeout) as it was
            # reused: nothing was answered, so the GET goes again on a fresh one.
            self.close()
            head = self._send(raw)
        status_line, *fields = head.decode("latin-1").split("\r\n")
        length, close = None, False
        for line in fields:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
            elif name == "transfer-encoding":
                raise SystemExit(f"unexpected Transfer-Encoding: {value}")
        if length is None:
            raise SystemExit(f"no Content-Length in {status_line}")
        body = self._exactly(length)
        if close:
            self.close()
        return int(status_line.split(" ", 2)[1]), body

    def _send(self, raw: bytes) -> bytes:
        """Send a request; return the answer's head."""
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=30)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(raw)
        return self._until(b"\r\n\r\n")

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""

    def _until(self, marker: bytes) -> bytes:
        while (end := self.buffer.find(marker)) < 0:
            self._more()
        found, self.buffer = self.buffer[:end], self.buffer[end + len(marker) :]
        return found

    def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._more()
        found, self.buffer = self.buffer[:size], self.buffer[size:]
        return found

    def _more(self) -> None:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buffer += chunk


def _timed(client: KeepAlive, path: str, headers: dict[str, str]) -> float:
    """One GET of the location with a fresh X-Request-ID; its answer checked in full."""
    started = time.perf_counter()
    status, raw = client.get(path, {**headers, "X-Request-ID": str(uuid.uuid4())})
    elapsed = (time.perf_counter() - started) * 1000
    body = json.loads(raw)
    if status != 200 or body["status_code"] != 1000 or body["data"]["id"] != LOCATION:
        raise SystemExit(f"request failed: {status} {body}")
    return elapsed


class CpuMeter:
    """CPU seconds spent by the servers (process trees) and the scratch database's backends."""

    def __init__(self, pg_url: str, *servers: Any) -> None:
        self.pg_url = pg_url
        self.servers = servers

    def pids(self) -> dict[str, list[int]]:
        found = {f"server{n}": _process_tree(s.pid) for n, s in enumerate(self.servers)}
        return {**found, "db": _backends(self.pg_url)}

    def read(self, pids: dict[str, list[int]]) -> dict[str, float]:
        return {name: _cpu_seconds(group) for name, group in pids.items()}

    def spent(self, work: Any) -> tuple[Any, dict[str, float]]:
        """Run work(); return its result and the CPU seconds each group spent meanwhile."""
        pids = self.pids()
        before = self.read(pids)
        result = work()
        after = self.read(pids)
        return result, {name: after[name] - before[name] for name in before}


def _own_cpu() -> float:
    """CPU seconds of this process (the load generator, all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def compare(
    hub_base: str,
    cpo_base: str,
    tokens: dict[str, str],
    rounds: int,
    per_round: int,
    concurrency: int,
    meter: CpuMeter,
) -> dict[str, Any]:
    """Routed and direct GETs, interleaved by round; return timings, routed throughput and the
    servers' CPU seconds per kind (meter's server0 = the hub)."""
    routed_path = f"/ocpi/hub/2.2.1/sender/locations/{LOCATION}"
    direct_path = f"/ocpi/cpo/2.2.1/locations/{LOCATION}"
    routed_headers = {
        "Authorization": _auth(tokens["emsp-0"]),
        "X-Correlation-ID": str(uuid.uuid4()),
        "OCPI-from-country-code": "DE",
        "OCPI-from-party-id": "E00",
        "OCPI-to-country-code": "NL",
        "OCPI-to-party-id": "PLG",
    }
    direct_headers = {
        **routed_headers,
        "Authorization": _auth(tokens["direct-emsp"]),
        "OCPI-from-party-id": "DIR",
    }
    # One connection per client thread and server, kept across rounds (threads are slots).
    bases = (hub_base, cpo_base)
    clients = {(slot, base): KeepAlive(base) for slot in range(concurrency) for base in bases}

    def batch(base: str, path: str, headers: dict[str, str]) -> tuple[list[float], float, float]:
        """per_round GETs from `concurrency` threads: timings, wall seconds, client CPU."""
        remaining = iter(range(per_round))
        timings: list[float] = []

        def worker(slot: int) -> None:
            client = clients[(slot, base)]
            for _ in remaining:  # shared: next() on a range iterator is atomic under the GIL
                timings.append(_timed(client, path, headers))

        cpu = _own_cpu()
        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(worker, range(concurrency)))
        return timings, time.perf_counter() - started, _own_cpu() - cpu

    batch(hub_base, routed_path, routed_headers)  # warm-up: connections, caches
    batch(cpo_base, direct_path, direct_headers)
    routed: list[float] = []
    direct: list[float] = []
    routed_seconds = 0.0
    cpu = dict.fromkeys(("routed", "direct", "hub", "cpo", "db", "direct_db"), 0.0)
    cpu.update(client_routed=0.0, client_direct=0.0)
    for _ in range(rounds):
        (timings, _seconds, client), spent = meter.spent(
            lambda: batch(cpo_base, direct_path, direct_headers)
        )
        cpu["client_direct"] += client
        direct += timings
        cpu["direct"] += sum(spent.values())
        cpu["direct_db"] += spent["db"]
        (timings, seconds, client), spent = meter.spent(
            lambda: batch(hub_base, routed_path, routed_headers)
        )
        cpu["client_routed"] += client
        routed += timings
        routed_seconds += seconds
        cpu["routed"] += sum(spent.values())
        cpu["hub"] += spent["server0"]
        cpu["cpo"] += spent["server1"]
        cpu["db"] += spent["db"]
    return {
        "routed": routed,
        "direct": direct,
        "routed_rps": len(routed) / routed_seconds,
        "cpu": cpu,
    }


def _deliver_worker(url: str, ready: Any, stop: Any) -> None:
    from app import create_app
    from app.ocpi.hub.delivery import deliver_round

    app = create_app("testing", {"DATABASE_URL": url})
    with app.app_context():
        deliver_round()  # connections and the sending threads, before the clock starts
        ready.release()
        while not stop.is_set():
            if deliver_round() == 0:
                time.sleep(0.05)


def fanout(
    url: str,
    hub_base: str,
    tokens: dict[str, str],
    farm_port: int,
    changes: int,
    parties: int,
    workers: int,
    meter: CpuMeter,
) -> dict[str, float]:
    """Broadcast `changes` EVSE status PATCHes; time until the farm got every delivery."""
    headers = {
        "Authorization": _auth(tokens["cpo-on-hub"]),
        "OCPI-from-country-code": "NL",
        "OCPI-from-party-id": "PLG",
        "OCPI-to-country-code": HUB[0],
        "OCPI-to-party-id": HUB[1],
    }
    target = f"{hub_base}/ocpi/hub/2.2.1/receiver/locations/NL/PLG/{LOCATION}/{EVSE}"
    expected = _farm_state(farm_port)["count"] + changes * parties
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    ready = context.Semaphore(0)
    pool = [
        context.Process(target=_deliver_worker, args=(url, ready, stop)) for _ in range(workers)
    ]
    for process in pool:
        process.start()
    for _ in pool:
        ready.acquire(timeout=120)
    local = threading.local()

    def send(n: int) -> float:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        status = "CHARGING" if n % 2 else "AVAILABLE"
        stamp = f"2026-02-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z"
        started = time.perf_counter()
        reply = local.session.patch(
            target,
            json={"status": status, "last_updated": stamp},
            headers={
                **headers,
                "X-Request-ID": str(uuid.uuid4()),
                "X-Correlation-ID": str(uuid.uuid4()),
            },
            timeout=30,
        )
        if reply.json()["status_code"] != 1000:
            raise SystemExit(f"broadcast refused: {reply.text}")
        return (time.perf_counter() - started) * 1000

    def accept_all() -> list[float]:
        with ThreadPoolExecutor(8) as sender:
            return list(sender.map(send, range(changes)))

    delivering = [p.pid for p in pool]
    delivery_cpu = _cpu_seconds(delivering)
    started_wall = time.time()
    started = time.perf_counter()
    accept, accept_cpu = meter.spent(accept_all)
    accepted = time.perf_counter() - started
    deadline = time.monotonic() + 600
    state = _farm_state(farm_port)
    while state["count"] < expected and time.monotonic() < deadline:
        time.sleep(0.2)
        state = _farm_state(farm_port)
    delivery_cpu = _cpu_seconds(delivering) - delivery_cpu
    stop.set()
    for process in pool:
        process.join(30)
    if state["count"] < expected:
        raise SystemExit(f"only {state['count']} of {expected} deliveries arrived")
    return {
        "fanout_seconds": state["last"] - started_wall,
        "broadcast_accept_seconds": accepted,
        "broadcast_accept_p99_ms": _percentile(accept, 0.99),
        "broadcast_accept_cpu_ms": accept_cpu["server0"] * 1000 / changes,
        "delivery_cpu_ms": delivery_cpu * 1000 / (changes * parties),
        "deliveries": changes * parties,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parties", type=int, default=50, help="eMSP parties on the hub")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved routed/direct rounds")
    parser.add_argument("--per-round", type=int, default=200, help="requests per kind per round")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--threads", type=int, default=4, help="gthread threads per worker")
    parser.add_argument("--changes", type=int, default=1000, help="status changes broadcast")
    parser.add_argument("--delivery-workers", type=int, default=2, help="delivery processes")
    args = parser.parse_args()

    hub_port, cpo_port, farm_port = _free_port(), _free_port(), _free_port()
    hub_base, cpo_base = f"http://127.0.0.1:{hub_port}", f"http://127.0.0.1:{cpo_port}"
    farm_base = f"http://127.0.0.1:{farm_port}"
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    farm = context.Process(target=_farm, args=(farm_port, ready), daemon=True)
    farm.start()
    ready.wait(30)
    with scratch_database() as url:
        db_url = url.replace("postgresql://", "postgresql+psycopg://")
        tokens = setup(db_url, hub_base, cpo_base, farm_base, args.parties)
        load_locations(db_url, 1)
        cpo = gunicorn(db_url, cpo_port, args.workers, args.threads)
        hub = gunicorn(db_url, hub_port, args.workers, args.threads)
        with cpo as cpo_process, hub as hub_process:
            meter = CpuMeter(url, hub_process, cpo_process)
            print("routed vs direct ...", file=sys.stderr)
            timings = compare(
                hub_base, cpo_base, tokens, args.rounds, args.per_round, args.concurrency, meter
            )
            print("broadcast fan-out ...", file=sys.stderr)
            spread = fanout(
                db_url,
                hub_base,
                tokens,
                farm_port,
                args.changes,
                args.parties,
                args.delivery_workers,
                meter,
            )
    farm.terminate()
    routed, direct = timings["routed"], timings["direct"]
    figures = {
        "parties": args.parties,
        "requests_per_kind": len(routed),
        "concurrency": args.concurrency,
        "routed_p50_ms": round(_percentile(routed, 0.50), 2),
        "routed_p95_ms": round(_percentile(routed, 0.95), 2),
        "routed_p99_ms": round(_percentile(routed, 0.99), 2),
        "direct_p50_ms": round(_percentile(direct, 0.50), 2),
        "direct_p95_ms": round(_percentile(direct, 0.95), 2),
        "direct_p99_ms": round(_percentile(direct, 0.99), 2),
        "ratio_p50": round(_percentile(routed, 0.50) / _percentile(direct, 0.50), 2),
        "ratio_p99": round(_percentile(routed, 0.99) / _percentile(direct, 0.99), 2),
        "routed_rps": round(timings["routed_rps"], 1),
        "routed_cpu_ms": round(timings["cpu"]["routed"] * 1000 / len(routed), 2),
        "direct_cpu_ms": round(timings["cpu"]["direct"] * 1000 / len(direct), 2),
        "hub_cpu_ms": round(timings["cpu"]["hub"] * 1000 / len(routed), 2),
        "routed_cpo_cpu_ms": round(timings["cpu"]["cpo"] * 1000 / len(routed), 2),
        "routed_db_cpu_ms": round(timings["cpu"]["db"] * 1000 / len(routed), 2),
        "direct_db_cpu_ms": round(timings["cpu"]["direct_db"] * 1000 / len(direct), 2),
        "cpu_ratio": round(timings["cpu"]["routed"] / timings["cpu"]["direct"], 2),
        "client_cpu_ms": round(timings["cpu"]["client_routed"] * 1000 / len(routed), 2),
        "client_direct_cpu_ms": round(timings["cpu"]["client_direct"] * 1000 / len(direct), 2),
        "fanout_seconds": round(spread["fanout_seconds"], 2),
        "deliveries": spread["deliveries"],
        "deliveries_per_s": round(spread["deliveries"] / spread["fanout_seconds"]),
        "broadcast_accept_seconds": round(spread["broadcast_accept_seconds"], 2),
        "broadcast_accept_p99_ms": round(spread["broadcast_accept_p99_ms"], 2),
        "broadcast_accept_cpu_ms": round(spread["broadcast_accept_cpu_ms"], 2),
        "delivery_cpu_ms": round(spread["delivery_cpu_ms"], 3),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
