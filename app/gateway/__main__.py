"""`python -m app.gateway`: run one gateway process configured from the environment.

GATEWAY_BUS (local | redis), REDIS_URL (redis://127.0.0.1:6379/0),
GATEWAY_REDIS_PREFIX (plugpool:gw:), GATEWAY_NODE_TTL (5: seconds this node's liveness key
outlives a stalled or killed process), GATEWAY_PORT_IMPL (db, the default: the database of
create_app(), configured by the usual settings such as DATABASE_URL | memory |
package.module:factory) and, for memory, GATEWAY_SEED_STATIONS
("id:password[:pending][:nosubproto],...") and/or GATEWAY_SEED_FILE (the same entries,
one per line). Every `server.GatewayConfig` field is GATEWAY_<FIELD> (GATEWAY_HOST,
GATEWAY_PORT, GATEWAY_IP_CONNECT_RATE, ...).
See app/gateway/README.md.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import importlib
import logging
import os
import signal
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from app.gateway.bus import (
    NODE_TTL,
    CommandBus,
    LocalBus,
    RedisBus,
    RedisCommandClient,
    RedisKeys,
)
from app.gateway.heap import HeapKeeper, HeapPolicy
from app.gateway.memory import MemoryStationPort, parse_seed
from app.gateway.poll import new_event_loop
from app.gateway.ports import StationPort
from app.gateway.server import Gateway, GatewayConfig, run_gateway

log = logging.getLogger("app.gateway")

DB_PORT_FACTORY = "app.charging.port:create_port"


def config_from_env(env: Mapping[str, str]) -> GatewayConfig:
    """Read the network settings; what is not set keeps the `GatewayConfig` default."""
    fields = {f.name: f for f in dataclasses.fields(GatewayConfig)}
    settings: dict[str, Any] = {}
    for name, field in fields.items():
        raw = env.get(f"GATEWAY_{name.upper()}")
        if raw is not None:
            settings[name] = _parse_setting(name, str(field.type), raw)
    return GatewayConfig(**settings)


def _parse_setting(name: str, kind: str, raw: str) -> Any:
    """Convert one GATEWAY_* value to its field's type (annotations are strings here)."""
    if kind == "bool":
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if kind == "frozenset[str]":
        return frozenset(item.strip() for item in raw.split(",") if item.strip())
    if kind == "float | None" and raw.strip().lower() in {"", "none", "off"}:
        return None  # ping_interval / ping_timeout: no keepalive pings
    if kind in {"float", "float | None"}:
        return float(raw)
    if kind == "int":
        return int(raw)
    if kind == "str":
        return raw
    if kind == "str | None":
        return raw or None  # an empty setting means unset
    raise SystemExit(f"GATEWAY_{name.upper()}: unsupported setting type {kind}")


def port_from_env(env: Mapping[str, str]) -> StationPort:
    """Build the station port: the database one, the seeded in-memory one, or a named factory."""
    impl = env.get("GATEWAY_PORT_IMPL", "db")
    if impl == "db":
        impl = DB_PORT_FACTORY
    if impl == "memory":
        seed = env.get("GATEWAY_SEED_STATIONS", "")
        if "GATEWAY_SEED_FILE" in env:  # for thousands of stations (the benchmark)
            seed += "," + Path(env["GATEWAY_SEED_FILE"]).read_text().replace("\n", ",")
        return MemoryStationPort(parse_seed(seed))
    module_name, _, factory = impl.partition(":")
    return getattr(importlib.import_module(module_name), factory)()  # type: ignore[no-any-return]


def bus_from_env(env: Mapping[str, str]) -> CommandBus:
    """Build the command bus: in-process, or Redis for several nodes."""
    kind = env.get("GATEWAY_BUS", "local")
    if kind == "local":
        return LocalBus()
    if kind == "redis":
        url = env.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        keys = RedisKeys(env.get("GATEWAY_REDIS_PREFIX", "plugpool:gw:"))
        return RedisBus(url, keys=keys, node_ttl=float(env.get("GATEWAY_NODE_TTL", NODE_TTL)))
    raise SystemExit(f"GATEWAY_BUS must be local or redis, not {kind!r}")


def tune_gc() -> None:
    """Keep the cyclic GC from stalling the loop when thousands of sockets are held.

    Measured with 10,000 chargers: default thresholds gave 177 collections over 5 ms in
    45 s, full ones up to 2.5 s, together 25 s of stalls, because every young collection
    promotes in-flight message objects until a full pass over ~1M long-lived objects is due.
    A large young generation lets those objects die by refcount first; freezing moves the
    objects created at start-up out of every later pass (and `HeapKeeper` those of the
    connections, once a storm has settled).
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def run(env: Mapping[str, str]) -> None:
    """Run the gateway on an event loop that batches reads under load (app.gateway.poll)."""
    config = config_from_env(env)
    with asyncio.Runner(loop_factory=lambda: new_event_loop(config.batch_pause)) as runner:
        runner.run(main(env, config))


async def main(env: Mapping[str, str], config: GatewayConfig | None = None) -> None:
    """Serve until SIGINT or SIGTERM, then close connections and the bus."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Plain handlers, not loop.add_signal_handler: under load the loop's self-pipe can be
    # full (thread-pool wake-ups), and asyncio then drops the signal byte: SIGTERM is lost.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
    port, bus = port_from_env(env), bus_from_env(env)
    async with run_gateway(port, bus, config or config_from_env(env)) as gateway:
        log.info("gateway listening on %s:%d", gateway.config.host, gateway.bound_port)
        if gateway.metrics_port is not None:
            log.info("gateway metrics on %s:%d", gateway.config.host, gateway.metrics_port)
        halt_jobs = start_port_jobs(port, bus, env)
        keeper = start_heap_keeper(gateway)
        print(f"READY {gateway.bound_port}", flush=True)  # tests and the bench wait for this line
        await stop.wait()
        if keeper is not None:
            keeper.cancel()
        halt_jobs()


def start_heap_keeper(gateway: Gateway) -> asyncio.Task[None] | None:
    """Collect and freeze the heap after connection storms (see app.gateway.heap)."""
    config = gateway.config
    if config.heap_settle_seconds <= 0:
        return None
    policy = HeapPolicy(
        churn_share=config.heap_churn_share,
        growth=config.heap_growth,
        settle_seconds=config.heap_settle_seconds,
    )
    keeper = HeapKeeper(lambda: gateway.churn, lambda: len(gateway.links), policy)
    return asyncio.get_running_loop().create_task(keeper.run())


def start_port_jobs(
    port: StationPort, bus: CommandBus, env: Mapping[str, str]
) -> Callable[[], None]:
    """Start the port's background jobs (the DB port dispatches bookings) with a sync sender."""
    start_jobs = getattr(port, "start_jobs", None)
    if start_jobs is None:
        return lambda: None
    if isinstance(bus, LocalBus):
        sender: Any = bus
    else:
        url = env.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        sender = RedisCommandClient(
            url, keys=RedisKeys(env.get("GATEWAY_REDIS_PREFIX", "plugpool:gw:"))
        )
    return start_jobs(sender)  # type: ignore[no-any-return]


if __name__ == "__main__":
    logging.basicConfig(
        level=os.environ.get("GATEWAY_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    logging.getLogger("ocpp").setLevel(logging.WARNING)  # it logs every frame at INFO
    tune_gc()
    run(os.environ)
