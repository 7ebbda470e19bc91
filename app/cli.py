"""Operator commands (`flask ...`); each calls one service and prints its result."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.core.errors import DomainError

demo_cli = AppGroup("demo", help="Demo data for trying PlugPool.")


def init_app(app: Flask) -> None:
    """Register the command groups, one line each."""
    from app.accounts.cli import user_cli
    from app.bookings.cli import bookings_cli
    from app.charging.cli import token_cli
    from app.gateway.cli import simulate_command
    from app.inventory.cli import station_cli

    app.cli.add_command(demo_cli)
    app.cli.add_command(user_cli)
    app.cli.add_command(station_cli)
    app.cli.add_command(bookings_cli)
    app.cli.add_command(token_cli)
    station_cli.add_command(simulate_command)


@demo_cli.command("seed")
def seed() -> None:
    """Load the demo party, accounts and chargers around Amsterdam (idempotent)."""
    from app.demo import seed_demo

    try:
        data = seed_demo()
    except DomainError as error:
        raise click.ClickException(error.detail) from error
    click.echo("Demo logins (web and POST /api/v1/auth/tokens):")
    for email, password, role in data.logins:
        click.echo(f"  {role:<7} {email:<24} {password}")
    click.echo("Demo chargers (OCPP station id, password, URL):")
    for station in data.stations:
        click.echo(
            f"  {station.station_id}  {station.password}  {station.ocpp_url}  {station.listing}"
        )
