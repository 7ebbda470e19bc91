"""Load the OCPP gateway with many simulated 1.6 chargers and compare it with a bare `ocpp` server.

    python -m bench.gateway --chargers 10000

For each server (the gateway via `python -m app.gateway`, then a minimal
`ocpp`-library ChargePoint server as the baseline) it:

1. opens `--chargers` WebSocket clients that boot (pre-serialised frames on a hand-made
   client, `Charger`: no `ocpp` objects and no task per message, so the client stays light);
2. open loop: the chargers take turns sending Heartbeat / StatusNotification /
   MeterValues at `--rate` msg/s in total for `--seconds` (each charger every
   chargers/rate seconds), measuring round trips;
   Before it, `--warmup` seconds of the same load are not measured: right after
   10,000 connections the servers' young GC generations hold ~1M new objects, and
   the one collection that moves them on stalls for up to ~1.5 s (measured with
   gc.callbacks); a reconnect storm in production pays that once, too (the gateway's
   heap keeper, app/gateway/heap.py, runs it 5 s after the storm has settled).
3. closed loop: every connected charger (or `--saturate` of them) sends back to back for
   `--saturate-seconds` (right after the warm-up); then the same over the first `--hot`
   chargers only (`hot_capacity_msg_per_s`; earlier runs measured only this one). The
   shares below are taken of the higher of the two, the stricter basis: the 200 busy
   connections of the hot loop share their loop turns more than 10,000 mostly quiet ones;
4. for the gateway, open loops offering 50% and 75% of that capacity for `--seconds`
   each: `p99_at_50pct_ms` and `p99_at_75pct_ms` (target <= 50 ms at 75%) hold on any
   machine of this kind, where a fixed `--rate` is light on one and overload on another;
5. reads the server's VmRSS / VmHWM from /proc.

The last line is one JSON object. `msg_per_s` and the percentiles come from
the open loop (the target load), `ratio_vs_bare` compares closed-loop
capacity. Client and server share this machine's cores, so capacity is a
floor, not a ceiling. Loopback only; every loop ends by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gc
import json
import os
import random
import resource
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from websockets.asyncio.server import ServerConnection, serve

from app.gateway.poll import BatchingSelector

PASSWORD = "bench-password-0123456789"  # noqa: S105 - seeded into a throwaway fake
STAMP = "2026-11-21T10:00:00Z"
BOOT = '"BootNotification",{"chargePointVendor":"Bench","chargePointModel":"Sim"}]'
BODIES = (
    '"Heartbeat",{}]',
    '"StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Charging",'
    f'"timestamp":"{STAMP}"}}]',
    '"MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"' + STAMP + '",'
    '"sampledValue":[{"value":"1234","measurand":"Energy.Active.Import.Register","unit":"Wh"}]}]}]',
)
ROOT = Path(__file__).resolve().parents[1]
SHARES = (50, 75)  # percent of the measured capacity offered in the open loops
TICK = 0.01
CLIENT_BATCH_PAUSE = 0.0005  # seconds (the gateway pauses 1 ms by default)


def frame(seq: int, body: str) -> str:
    """Return a CALL frame: a fresh message id in front of a pre-serialised body."""
    return f'[2,"{seq}",{body}'


def station_id(index: int) -> str:
    """Return the id of simulated charger `index`."""
    return f"BENCH{index:05d}"


def raise_fd_limit() -> int:
    """Raise the open-files soft limit to the hard limit (children inherit it)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Refused(Exception):
    """The server answered the WebSocket upgrade with another status than 101."""

    def __init__(self, status: int) -> None:
        super().__init__(f"upgrade refused with HTTP {status}")
        self.status = status


def ws_frame(opcode: int, payload: bytes) -> bytes:
    """A final client frame: masked, as RFC 6455 requires, with an all-zero key (see Charger)."""
    size = len(payload)
    if size < 126:
        head = bytes((0x80 | opcode, 0x80 | size))
    elif size < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + size.to_bytes(8, "big")
    return head + b"\0\0\0\0" + payload


class Charger(asyncio.Protocol):
    """One simulated charger on a hand-made WebSocket client (asyncio.Protocol).

    The load generator shares the two cores with the server it measures. With the
    `websockets` client (a task, futures and an assembler per message) it spent ~50 us of
    CPU per message, as much as the gateway itself: in the open loop at 75% of capacity the
    two sides together held both cores and the client's own delays showed as round trips.
    This client writes pre-built frames and reads replies in data_received, with no task or
    future per message (a callback records the round trip). Its masking key is all zeros
    (the payload goes as is): the servers cannot tell, and a loopback load generator needs
    no protection against proxy cache poisoning. It answers the server's pings.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgrade: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.seq = 0
        self.sent_at = 0.0
        self.done: Callable[[bool, float], None] | None = None  # the waiting caller's callback
        self.open = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport."""
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        """Fail a waiting call; a later send fails at once."""
        self.open = False
        if not self.upgrade.done():
            self.upgrade.set_exception(ConnectionError("closed during the upgrade"))
        self._finish(False)

    def data_received(self, data: bytes) -> None:
        """Read the upgrade answer, then frames: text (a reply), ping, close."""
        self.buffer += data
        if not self.upgrade.done():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = int(bytes(self.buffer[:end]).split(b" ", 2)[1])
            del self.buffer[: end + 4]
            self.open = status == 101
            self.upgrade.set_result(status)
        buffer = self.buffer
        while len(buffer) >= 2:
            opcode, size, offset = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if size == 126:
                if len(buffer) < 4:
                    return
                size, offset = int.from_bytes(buffer[2:4], "big"), 4
            elif size == 127:
                if len(buffer) < 10:
                    return
                size, offset = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < offset + size:
                return
            payload = bytes(buffer[offset : offset + size])
            del buffer[: offset + size]
            if opcode == 0x1:
                self._finish(payload.startswith(b"[3,"))
            elif opcode == 0x9 and self.transport is not None:
                self.transport.write(ws_frame(0xA, payload))  # pong
            elif opcode == 0x8 and self.transport is not None:
                self.open = False
                self.transport.close()

    def _finish(self, ok: bool) -> None:
        done, self.done = self.done, None
        if done is not None:
            done(ok, time.perf_counter() - self.sent_at)

    def call(self, body: str, done: Callable[[bool, float], None]) -> None:
        """Send one CALL; `done(ok, seconds)` runs when its answer (or the end) arrives."""
        if not self.open or self.transport is None:
            done(False, 0.0)
            return
        self.seq += 1
        self.done = done
        self.sent_at = time.perf_counter()
        self.transport.write(ws_frame(0x1, frame(self.seq, body).encode()))

    async def send(self, body: str) -> float:
        """Send one CALL, await its answer, and return the round trip in seconds."""
        answered: asyncio.Future[float] = asyncio.get_running_loop().create_future()

        def done(ok: bool, seconds: float) -> None:
            if not ok:
                answered.set_exception(RuntimeError("no CallResult"))
            else:
                answered.set_result(seconds)

        self.call(body, done)
        return await answered

    def close(self) -> None:
        """Send a close frame and drop the connection."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(ws_frame(0x8, (1000).to_bytes(2, "big")))
            self.transport.close()


@dataclass
class Phase:
    """Round trips and errors measured during one phase."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    skipped: int = 0  # messages not sent because the charger still awaited an answer
    seconds: float = 0.0
    server_cpu: float = 0.0  # CPU seconds the server process used during the phase

    def summary(self) -> dict[str, float]:
        """Return msg/s and percentiles in milliseconds."""
        ordered = sorted(self.latencies) or [0.0]
        cuts = statistics.quantiles(ordered, n=100) if len(ordered) > 1 else ordered * 99
        return {
            "msg_per_s": round(len(self.latencies) / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(cuts[49] * 1000, 2),
            "p95_ms": round(cuts[94] * 1000, 2),
            "p99_ms": round(cuts[98] * 1000, 2),
            "errors": self.errors,
            "skipped": self.skipped,
            # Holds on a shared machine, where the wall-clock figures above do not.
            "server_cpu_us_per_msg": round(self.server_cpu * 1e6 / max(len(self.latencies), 1), 1),
        }


@contextlib.asynccontextmanager
async def server_process(kind: str, chargers: int) -> AsyncIterator[tuple[int, int]]:
    """Start the gateway or the bare server as a subprocess; yield (pid, port)."""
    with tempfile.NamedTemporaryFile("w", suffix=".seed", delete=False) as seed:
        seed.write("\n".join(f"{station_id(i)}:{PASSWORD}" for i in range(chargers)))
    env = {
        **os.environ,
        "GATEWAY_PORT": "0",
        "GATEWAY_BUS": "local",
        "GATEWAY_PORT_IMPL": "memory",
        "GATEWAY_SEED_FILE": seed.name,
        "GATEWAY_LOG_LEVEL": "WARNING",
        "GATEWAY_IP_CONNECT_RATE": "0",  # every simulated charger connects from 127.0.0.1
    }
    module = ["-m", "app.gateway"] if kind == "gateway" else ["-m", "bench.gateway", "--serve-bare"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *module, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        if not line.startswith("READY"):
            raise RuntimeError(f"{kind} server did not start")
        yield proc.pid, int(line.split()[1])
    finally:
        await stop_process(proc)
        os.unlink(seed.name)


async def stop_process(proc: asyncio.subprocess.Process) -> None:
    """Terminate a server process; kill it if it has not ended within 30 s."""
    proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()


async def connect(port: int, index: int) -> Charger:
    """Open one charger's socket (HTTP upgrade with Basic auth, ocpp1.6) and boot it."""
    token = base64.b64encode(f"{station_id(index)}:{PASSWORD}".encode()).decode()
    key = base64.b64encode(os.urandom(16)).decode()
    loop = asyncio.get_running_loop()
    transport, charger = await loop.create_connection(Charger, "127.0.0.1", port)
    transport.write(
        (
            f"GET /ocpp/{station_id(index)} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Protocol: ocpp1.6\r\nAuthorization: Basic {token}\r\n\r\n"
        ).encode()
    )
    try:
        status = await asyncio.wait_for(charger.upgrade, 60)
    except BaseException:
        transport.close()
        raise
    if status != 101:
        transport.close()
        raise Refused(status)
    await charger.send(BOOT)
    return charger


async def connect_all(port: int, count: int, parallel: int = 200) -> list[Charger]:
    """Connect `count` chargers, `parallel` handshakes at a time."""
    gate = asyncio.Semaphore(parallel)

    async def one(index: int) -> Charger | None:
        # A gateway past its handshake backlog answers 503 + Retry-After: come back, as a
        # charger does (outside the gate, so the retry does not hold a handshake slot).
        for _ in range(30):
            async with gate:
                try:
                    return await connect(port, index)
                except Refused as error:
                    if error.status != 503:
                        return None
                except (OSError, TimeoutError, RuntimeError):
                    return None
            await asyncio.sleep(0.2 + random.random())
        return None

    results = await asyncio.gather(*(one(i) for i in range(count)))
    return [c for c in results if c is not None]


async def open_loop(chargers: list[Charger], rate: float, seconds: float) -> Phase:
    """Send `rate` msg/s in total for `seconds`, chargers in turn, each one every N/rate s.

    One ticker releases the messages due every TICK seconds (a charger still waiting for
    its previous answer is skipped and counted), so neither side pays a timer wake-up per
    message; on a busy machine those wake-ups, not the servers, set the pace.
    """
    phase = Phase()
    busy: set[int] = set()

    def answered(index: int) -> Callable[[bool, float], None]:
        def done(ok: bool, seconds: float) -> None:
            busy.discard(index)
            if ok:
                phase.latencies.append(seconds)
            else:
                phase.errors += 1

        return done

    started = time.perf_counter()
    released = 0
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(int(rate * elapsed) - released):
            index = released % len(chargers)
            released += 1
            if index in busy:
                phase.skipped += 1
                continue
            busy.add(index)
            charger = chargers[index]
            charger.call(BODIES[charger.seq % len(BODIES)], answered(index))
        await asyncio.sleep(TICK)
    deadline = time.perf_counter() + 60
    while busy and time.perf_counter() < deadline:  # the last answers
        await asyncio.sleep(TICK)
    phase.errors += len(busy)
    phase.seconds = time.perf_counter() - started
    return phase


async def closed_loop(chargers: list[Charger], seconds: float) -> Phase:
    """Chargers send back to back for `seconds` to find the server's capacity."""
    phase = Phase()
    deadline = time.perf_counter() + seconds

    async def run(charger: Charger, index: int) -> None:
        while time.perf_counter() < deadline:
            try:
                phase.latencies.append(await charger.send(BODIES[index % len(BODIES)]))
            except RuntimeError:
                phase.errors += 1
                return
            index += 1

    started = time.perf_counter()
    await asyncio.gather(*(run(c, i) for i, c in enumerate(chargers)))
    phase.seconds = time.perf_counter() - started
    return phase


def memory_mb(pid: int) -> tuple[float, float]:
    """Return (VmRSS, VmHWM) of a process in MiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return tuple(round(int(fields[k].split()[0]) / 1024, 1) for k in ("VmRSS", "VmHWM"))  # type: ignore[return-value]


def cpu_seconds(pid: int) -> float:
    """Return the user+system CPU seconds a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def freeze_survivors() -> None:
    """Freeze the client's surviving objects every half second until cancelled."""
    while True:
        await asyncio.sleep(0.5)
        gc.freeze()


async def metered(pid: int, phase: Awaitable[Phase]) -> Phase:
    """Run a phase and note the server's CPU seconds during it."""
    before = cpu_seconds(pid)
    result = await phase
    result.server_cpu = cpu_seconds(pid) - before
    return result


async def measure(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run all phases against one server and return its figures."""
    async with server_process(kind, args.chargers) as (pid, port):
        started = time.perf_counter()
        chargers = await connect_all(port, args.chargers)
        ramp = time.perf_counter() - started
        gc.freeze()  # the sockets live until the end; later collections need not scan them
        # The client renews objects per message and holds them for seconds, as the gateway
        # does: its young collections grew to 100-300 ms and showed up as round-trip
        # time. Freezing survivors every half second (what app.gateway.heap does in the
        # gateway) keeps the measuring side out of the figures.
        freezer = asyncio.create_task(freeze_survivors())
        await open_loop(chargers, args.rate, args.warmup)  # not measured: see the docstring
        capacity = await metered(
            pid, closed_loop(chargers[: args.saturate or None], args.saturate_seconds)
        )
        hot = await metered(pid, closed_loop(chargers[: args.hot], args.saturate_seconds))
        shares: dict[int, Phase] = {}
        basis = max(capacity.summary()["msg_per_s"], hot.summary()["msg_per_s"])
        if kind == "gateway":
            for percent in SHARES:
                offered = basis * percent / 100
                shares[percent] = await metered(pid, open_loop(chargers, offered, args.seconds))
        cpu = (cpu_seconds(pid), cpu_seconds(os.getpid()))
        load = await open_loop(chargers, args.rate, args.seconds)
        busy = (cpu_seconds(pid) - cpu[0], cpu_seconds(os.getpid()) - cpu[1])
        rss, _ = memory_mb(pid)
        held = sum(1 for c in chargers if c.open)
        _, hwm = memory_mb(pid)
        freezer.cancel()
        for charger in chargers:
            charger.close()
    figures = {"held": held, "connect_s": round(ramp, 1), **load.summary()}
    # CPU share of each side during the open loop tells which one limits the rate.
    figures.update(
        server_cpu=round(busy[0] / load.seconds, 2), client_cpu=round(busy[1] / load.seconds, 2)
    )
    figures.update(rss_mb=rss, hwm_mb=hwm, capacity=capacity.summary(), hot=hot.summary())
    figures.update(basis_msg_per_s=basis)
    figures.update({f"at_{percent}pct": phase.summary() for percent, phase in shares.items()})
    print(f"{kind}: {json.dumps(figures)}", flush=True)
    return figures


def client_loop() -> asyncio.AbstractEventLoop:
    """The load generator's loop: it always reads in batches (app.gateway.poll), busy or not.

    Chargers live on other machines; this one shares the server's. A client blocked in
    epoll is woken by every answer, and on loopback the server's send() pays that wake-up
    (and the VM's cross-CPU interrupt): measured in the open loop at 15,000 msg/s, gateway
    CPU 54-57 us a message (17 of it system time) against 36-38 us (7) when the client
    waits CLIENT_BATCH_PAUSE in a sleep, where no answer wakes it. Round trips then include
    up to that pause. Batching only when busy (as the gateway does) left it blocking in
    epoll in the open loops, where the client is mostly idle.
    """
    return asyncio.SelectorEventLoop(
        BatchingSelector(CLIENT_BATCH_PAUSE, busy_share=0.0, quiet_share=0.0)
    )


def tune_gc() -> None:
    """Apply the gateway's GC settings (see app.gateway.__main__.tune_gc) to this process.

    The client holds 10,000 sockets too, and the bare baseline gets the same settings so
    that the ratio compares server code, not collector thresholds.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    """Measure the gateway and the bare baseline with the same load."""
    fd_limit = raise_fd_limit()
    gateway = await measure("gateway", args)
    bare = await measure("bare", args)
    ratio = gateway["capacity"]["msg_per_s"] / max(bare["capacity"]["msg_per_s"], 1e-9)
    return {
        "chargers": args.chargers,
        "held": gateway["held"],
        "msg_per_s": gateway["msg_per_s"],
        "p50_ms": gateway["p50_ms"],
        "p95_ms": gateway["p95_ms"],
        "p99_ms": gateway["p99_ms"],
        "errors": gateway["errors"],
        "skipped": gateway["skipped"],
        "rss_mb": gateway["rss_mb"],
        "hwm_mb": gateway["hwm_mb"],
        "capacity_msg_per_s": gateway["capacity"]["msg_per_s"],
        "bare_capacity_msg_per_s": bare["capacity"]["msg_per_s"],
        "bare_rss_mb": bare["rss_mb"],
        "ratio_vs_bare": round(ratio, 3),
        "hot_chargers": args.hot,
        "hot_capacity_msg_per_s": gateway["hot"]["msg_per_s"],
        "bare_hot_capacity_msg_per_s": bare["hot"]["msg_per_s"],
        "gateway_hot_cpu_us_per_msg": gateway["hot"]["server_cpu_us_per_msg"],
        "target_rate": args.rate,
        "shares_basis_msg_per_s": gateway["basis_msg_per_s"],
        # Offered loads relative to the capacity measured in the same run.
        "offered_50pct_msg_per_s": gateway["at_50pct"]["msg_per_s"],
        "p99_at_50pct_ms": gateway["at_50pct"]["p99_ms"],
        "offered_75pct_msg_per_s": gateway["at_75pct"]["msg_per_s"],
        "p99_at_75pct_ms": gateway["at_75pct"]["p99_ms"],
        "skipped_at_75pct": gateway["at_75pct"]["skipped"],
        "server_cpu_us_per_msg_at_75pct": gateway["at_75pct"]["server_cpu_us_per_msg"],
        "bare_server_cpu_us_per_msg": bare["capacity"]["server_cpu_us_per_msg"],
        "gateway_server_cpu_us_per_msg": gateway["capacity"]["server_cpu_us_per_msg"],
        "load_average_1m": round(os.getloadavg()[0], 2),
        "fd_limit": fd_limit,
    }


# The baseline: a minimal `ocpp`-library 1.6 server with no checks and no port.


def now() -> str:
    """Return the current UTC time in OCPP form."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class EchoChargePoint(ChargePoint):
    """Answer the benchmark's messages the simplest way the library allows."""

    @on("BootNotification")
    def on_boot(self, **_: Any) -> call_result.BootNotification:
        """Accept every charger."""
        return call_result.BootNotification(now(), 300, "Accepted")

    @on("Heartbeat")
    def on_heartbeat(self) -> call_result.Heartbeat:
        """Tell the time."""
        return call_result.Heartbeat(now())

    @on("StatusNotification")
    def on_status(self, **_: Any) -> call_result.StatusNotification:
        """Acknowledge."""
        return call_result.StatusNotification()

    @on("MeterValues")
    def on_meter_values(self, **_: Any) -> call_result.MeterValues:
        """Acknowledge."""
        return call_result.MeterValues()


async def handle(connection: ServerConnection) -> None:
    """Serve one charger until it leaves."""
    station = connection.request.path.rsplit("/", 1)[-1] if connection.request else "?"
    with contextlib.suppress(websockets.ConnectionClosed):  # a closed socket ends the loop
        await EchoChargePoint(station, connection).start()


async def serve_bare() -> None:
    """Listen on a free loopback port, print READY <port>, and serve until SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signal.signal(signal.SIGTERM, lambda *_: loop.call_soon_threadsafe(stop.set))
    async with serve(
        handle,
        "127.0.0.1",
        0,
        subprotocols=["ocpp1.6"],
        compression=None,  # type: ignore[list-item]
    ) as server:
        print(f"READY {server.sockets[0].getsockname()[1]}", flush=True)
        await stop.wait()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chargers", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=2000.0, help="open-loop msg/s in total")
    parser.add_argument("--seconds", type=float, default=20.0, help="open-loop duration")
    parser.add_argument("--warmup", type=float, default=10.0, help="unmeasured open loop first")
    parser.add_argument(
        "--saturate", type=int, default=0, help="closed-loop chargers for capacity (0: all)"
    )
    parser.add_argument("--hot", type=int, default=200, help="chargers of the second closed loop")
    parser.add_argument("--saturate-seconds", type=float, default=10.0)
    parser.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    tune_gc()
    if arguments.serve_bare:
        asyncio.run(serve_bare())
    else:
        with asyncio.Runner(loop_factory=client_loop) as runner:
            print(json.dumps(runner.run(bench(arguments))), flush=True)
