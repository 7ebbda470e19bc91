"""`flask ocpi ...`: issue TOKEN_A, connect to a partner, rotate, deliver pushes."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup

from app.ocpi import errors, registry
from app.ocpi.models import OcpiPartner

ocpi_cli = AppGroup("ocpi", help="OCPI roaming partners.")


@ocpi_cli.command("partner-add")
@click.argument("name")
@click.option("--raw-tokens", is_flag=True, help="Partner sends/expects unencoded tokens.")
@click.option("--hub-party", is_flag=True, help="A party on PlugPool's hub (hub versions URL).")
def partner_add(name: str, raw_tokens: bool, hub_party: bool) -> None:
    """Create a partner; print our versions URL and its TOKEN_A (shown once)."""
    from app.ocpi.credentials import services
    from app.ocpi.hub import identity

    _, token_a = services.add_partner(name, raw_tokens, hub_party)
    url = identity.versions_url() if hub_party else registry.versions_url()
    click.echo(f"versions URL: {url}")
    click.echo(f"TOKEN_A: {token_a}")


@ocpi_cli.command("connect")
@click.argument("versions_url")
@click.argument("token_a")
@click.option("--name", default=None, help="Name for the partner (default: the URL).")
@click.option("--raw-tokens", is_flag=True, help="Partner sends/expects unencoded tokens.")
@click.option("--hub-party", is_flag=True, help="Register the hub with it: a party on the hub.")
def connect(
    versions_url: str, token_a: str, name: str | None, raw_tokens: bool, hub_party: bool
) -> None:
    """Register PlugPool (or its hub) with a partner from its versions URL and TOKEN_A."""
    from app.ocpi.credentials import services

    try:
        partner = services.connect_partner(versions_url, token_a, name, raw_tokens, hub_party)
    except errors.OcpiError as error:
        raise click.ClickException(f"OCPI {error.status_code}: {error.status_message}") from error
    click.echo(f"registered with {partner.name} on OCPI {partner.version}")
    if partner.party("CPO") is not None:
        _run_sync(partner, full=True)


@ocpi_cli.command("sync")
@click.argument("name")
@click.option("--full", is_flag=True, help="Pull everything, not only changes since the last pull.")
def sync(name: str, full: bool) -> None:
    """Pull a partner CPO's locations and tariffs now, with progress."""
    from app.ocpi.credentials.queries import partner_by_name

    partner = partner_by_name(name)
    if partner is None:
        raise click.ClickException(f"no partner named {name!r}")
    if not _run_sync(partner, full):
        raise click.ClickException(f"pull from {name} failed")


def _run_sync(partner: OcpiPartner, full: bool) -> bool:
    """Pull with a progress bar per module (sized by X-Total-Count); True when all went well."""
    from app.ocpi import pull

    bars: dict[str, Any] = {}

    def progress(module: str, done: int, total: int | None) -> None:
        bar = bars.get(module)
        if bar is None:
            bar = bars[module] = click.progressbar(
                length=total or done, label=f"{partner.name}: {module}", show_pos=True
            )
        bar.length = max(bar.length or 0, total or done)
        bar.update(done - bar.pos)

    if partner.is_hub:
        from app.ocpi.errors import PartnerCallFailed
        from app.ocpi.hubparty.services import pull_client_info

        try:
            click.echo(f"hubclientinfo: {pull_client_info(partner)} parties")
        except PartnerCallFailed as error:
            click.echo(f"hubclientinfo: FAILED ({error})")
    results = pull.sync_partner(partner, full=full, progress=progress)
    for bar in bars.values():
        bar.render_finish()
    for result in results:
        outcome = "ok" if result.ok else f"FAILED ({result.error})"
        click.echo(
            f"{result.module}: {outcome}; {result.received} received, {result.applied} stored,"
            f" {result.refused} refused"
        )
    if not results:
        click.echo("nothing to pull (no locations or tariffs sender, or a pull is running)")
    return all(result.ok for result in results)


@ocpi_cli.command("rotate")
@click.argument("name")
def rotate(name: str) -> None:
    """Give a partner a new token (PUT credentials) and store the one it answers with."""
    from app.ocpi.credentials import services
    from app.ocpi.credentials.queries import partner_by_name

    partner = partner_by_name(name)
    if partner is None:
        raise click.ClickException(f"no partner named {name!r}")
    try:
        services.rotate_partner(partner)
    except errors.OcpiError as error:
        raise click.ClickException(f"OCPI {error.status_code}: {error.status_message}") from error
    click.echo(f"credentials rotated with {partner.name}")


@ocpi_cli.command("disconnect")
@click.argument("name")
def disconnect(name: str) -> None:
    """Unregister from a partner (DELETE credentials) and forget its tokens and endpoints."""
    from app.ocpi.credentials import services
    from app.ocpi.credentials.queries import partner_by_name

    partner = partner_by_name(name)
    if partner is None:
        raise click.ClickException(f"no partner named {name!r}")
    try:
        services.disconnect_partner(partner)
    except errors.OcpiError as error:
        raise click.ClickException(f"OCPI {error.status_code}: {error.status_message}") from error
    click.echo(f"unregistered from {name}")


def _entries(value: str | None) -> list[str] | None:
    """A comma-separated option as a list ("" clears it); None when not given."""
    if value is None:
        return None
    return [entry.strip() for entry in value.split(",") if entry.strip()]


@ocpi_cli.command("hub-settings")
@click.argument("name")
@click.option("--offer-roles", default=None, help="Our roles offered to the hub: CPO,EMSP.")
@click.option("--offer-parties", default=None, help="Our parties offered (CC*PID,...; '' all).")
@click.option("--allow", default=None, help="Parties behind the hub accepted (CC*PID,...; '' all).")
@click.option("--deny", default=None, help="Parties behind the hub refused (CC*PID,...).")
@click.option("--push/--pull-only", default=None, help="Push to the hub, or only serve its pulls.")
def hub_settings(
    name: str,
    offer_roles: str | None,
    offer_parties: str | None,
    allow: str | None,
    deny: str | None,
    push: bool | None,
) -> None:
    """Show or change the operator's settings for a hub partner (PlugPool behind a hub)."""
    from app.core.errors import ValidationFailed
    from app.ocpi.credentials.queries import partner_by_name
    from app.ocpi.hubparty import services

    partner = partner_by_name(name)
    if partner is None:
        raise click.ClickException(f"no partner named {name!r}")
    changes = {
        "offer_roles": _entries(offer_roles),
        "offer_parties": _entries(offer_parties),
        "allow": _entries(allow),
        "deny": _entries(deny),
        "push": push,
    }
    if any(value is not None for value in changes.values()):
        try:
            services.set_hub_settings(partner, **changes)
        except ValidationFailed as error:
            raise click.ClickException(f"{error.detail}: {error.errors}") from error
    rules = services.rules_for(partner)
    if not partner.is_hub:
        click.echo(f"{name} is not (yet) a hub partner: these apply once it registers as one")
    click.echo(f"offer roles: {','.join(sorted(rules.offer_roles))}")
    click.echo(f"offer parties: {','.join(sorted(rules.offer_parties)) or 'all'}")
    click.echo(f"allow: {','.join(sorted(rules.allow)) or 'all CONNECTED'}")
    click.echo(f"deny: {','.join(sorted(rules.deny)) or 'none'}")
    click.echo(f"push: {'yes' if rules.push else 'no (only serve pulls)'}")


@ocpi_cli.command("push")
@click.option("--batch", default=100, show_default=True, help="Outbox events per round.")
def push(batch: int) -> None:
    """Deliver pending location/EVSE/tariff changes to registered eMSPs."""
    from app.ocpi.tasks import deliver_outbox

    delivered = deliver_outbox(batch)
    click.echo(f"{delivered} outbox events delivered")


@ocpi_cli.command("commands")
@click.option("--batch", default=20, show_default=True, help="Commands per round.")
def run_commands(batch: int) -> None:
    """Execute queued partner commands through the OCPP gateway, POST their results."""
    from app.ocpi.tasks import run_commands as run

    click.echo(f"{run(batch)} commands executed")


def init_app(app: Flask) -> None:
    """Register the `flask ocpi` group (with `flask ocpi hub ...`)."""
    from app.ocpi.hub.cli import hub_cli

    ocpi_cli.add_command(hub_cli)
    app.cli.add_command(ocpi_cli)
