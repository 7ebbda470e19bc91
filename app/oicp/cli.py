"""`flask oicp ...`: fullLoad, deliver, pull, pricing, authentication data, serve over mTLS."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.oicp.errors import HubjectCallFailed

oicp_cli = AppGroup("oicp", help="Hubject (OICP 2.3) bridge.")


def _run(job: object, what: str) -> None:
    try:
        result = job()  # type: ignore[operator]
    except HubjectCallFailed as error:
        raise click.ClickException(f"Hubject: {error}") from error
    click.echo(f"{what}: {result}")


@oicp_cli.command("full-load")
def full_load() -> None:
    """Push every own published EVSE (fullLoad) and its status to Hubject."""
    from app.oicp.services import cpo_push

    _run(cpo_push.full_load, "EVSE records pushed")


@oicp_cli.command("deliver")
def deliver() -> None:
    """Deliver pending changes, notifications and CDRs to Hubject now."""
    from app.oicp.services import delivery

    _run(delivery.deliver, "events delivered")


@oicp_cli.command("pull")
def pull() -> None:
    """Pull EVSE data (deltas after the first), status and pricing from Hubject."""
    from app.oicp.services import emp_pull

    _run(emp_pull.pull_evse_data, "EVSE records pulled")
    _run(emp_pull.pull_evse_status, "EVSE statuses changed")
    _run(emp_pull.pull_pricing, "EVSEs priced")


@oicp_cli.command("push-pricing")
def push_pricing() -> None:
    """Push own tariffs as pricing products and EVSE pricing (fullLoad)."""
    from app.oicp.services import pricing

    _run(pricing.push_pricing, "(EVSEs priced, tariffs OICP cannot express)")


@oicp_cli.command("push-auth-data")
def push_auth_data() -> None:
    """Push our drivers' RFID cards (PushAuthenticationData fullLoad)."""
    from app.oicp.services import emp_sessions

    _run(emp_sessions.push_authentication_data, "cards pushed")


@oicp_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8443, show_default=True)
@click.option("--cert", required=True, help="PEM server certificate.")
@click.option("--key", required=True, help="PEM server key.")
@click.option("--client-ca", required=True, help="PEM CA that signs Hubject's client certs.")
def serve(host: str, port: int, cert: str, key: str, client_ca: str) -> None:
    """Serve the app (Hubject's endpoints under /api/oicp) over mutual TLS."""
    from app.oicp.server import mtls_server

    server = mtls_server(current_app._get_current_object(), host, port, cert, key, client_ca)
    click.echo(f"serving https://{host}:{server.port}/api/oicp (client certificates required)")
    server.serve_forever()


def init_app(app: Flask) -> None:
    """Register the command group."""
    app.cli.add_command(oicp_cli)
