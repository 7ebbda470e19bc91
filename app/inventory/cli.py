"""`flask station ...`: operator commands for charge stations."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.core.errors import DomainError
from app.inventory import services

station_cli = AppGroup("station", help="Manage chargers' OCPP identities.")


@station_cli.command("create")
@click.option("--location", "location_id", type=int, required=True, help="Listing id.")
@click.option(
    "--move-evses",
    is_flag=True,
    help="Move EVSEs that already have a station to the new one (a replaced charger).",
)
def create_station(location_id: int, move_evses: bool) -> None:
    """Create an OCPP identity for a listing and print its password (shown once)."""
    try:
        created = services.create_station(location_id, move_evses=move_evses)
    except DomainError as error:
        raise click.ClickException(error.detail) from error
    station_id = created.station.station_id
    base = current_app.config["GATEWAY_PUBLIC_URL"].rstrip("/")
    click.echo(f"station id:    {station_id}")
    click.echo(f"OCPP password: {created.password}   (shown once; store it in the charger)")
    click.echo(f"OCPP URL:      {base}/{station_id}")
    click.echo(f"EVSEs linked:  {len(created.station.evses)}")
    for retired in created.retired:
        click.echo(f"station {retired} has no EVSEs left and is no longer approved")
