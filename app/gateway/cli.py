"""`flask station simulate`: run a simulated charger against a gateway (demos, `make run`)."""

from __future__ import annotations

import asyncio
import logging
import signal
import ssl

import click
from flask import current_app

from app.gateway.ports import OcppVersion
from app.gateway.simulator import SimulatorConfig, simulate

PROTOCOLS = {"1.6": OcppVersion.V16, "2.0.1": OcppVersion.V201}


@click.command("simulate")
@click.argument("station_id")
@click.option("--password", envvar="SIMULATOR_PASSWORD", help="OCPP password (demo: derived).")
@click.option("--protocol", type=click.Choice(sorted(PROTOCOLS)), default="1.6", show_default=True)
@click.option("--url", help="Gateway base URL, e.g. ws://127.0.0.1:9000/ocpp.")
@click.option("--meter-interval", type=float, default=5.0, show_default=True, help="Seconds.")
@click.option("--power", "power_w", type=int, default=7400, show_default=True, help="Watts.")
@click.option("--cafile", type=click.Path(exists=True), help="wss://: CA of the gateway (PEM).")
@click.option("--cert", type=click.Path(exists=True), help="wss://: client certificate (PEM).")
@click.option("--key", type=click.Path(exists=True), help="wss://: the certificate's key.")
def simulate_command(
    station_id: str,
    password: str | None,
    protocol: str,
    url: str | None,
    meter_interval: float,
    power_w: int,
    cafile: str | None,
    cert: str | None,
    key: str | None,
) -> None:
    """Connect a simulated charger that charges when remotely started (Ctrl-C stops it)."""
    config = SimulatorConfig(
        station_id=station_id,
        password=password or (None if cert else _demo_password(station_id)),
        url=url or current_app.config["GATEWAY_PUBLIC_URL"],
        protocol=PROTOCOLS[protocol],
        meter_interval=meter_interval,
        power_w=power_w,
        ssl=_tls(cafile, cert, key),
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("ocpp").setLevel(logging.WARNING)
    click.echo(f"simulating {station_id} ({protocol}) against {config.url}")
    asyncio.run(_run(config))


async def _run(config: SimulatorConfig) -> None:
    """Simulate until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await simulate(config, stop)


def _tls(cafile: str | None, cert: str | None, key: str | None) -> ssl.SSLContext | None:
    """Return the TLS context for wss:// (security profile 2, or 3 with a certificate)."""
    if cafile is None and cert is None:
        return None
    context = ssl.create_default_context(cafile=cafile)
    if cert is not None:
        context.load_cert_chain(cert, key)
    return context


def _demo_password(station_id: str) -> str:
    """Return a demo charger's derived password; other stations need --password."""
    if not station_id.startswith("PP-DEMO"):
        raise click.UsageError("--password is required (only demo chargers derive theirs)")
    from app.demo import demo_station_password

    return demo_station_password(station_id)
