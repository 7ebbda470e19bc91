"""`flask ocpi hub ...`: deliveries, still-alive checks, log retention, rules, suspend/resume."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.ocpi.hub import rules as hub_rules

hub_cli = AppGroup("hub", help="PlugPool's OCPI hub.")


def _party(name: str):
    from app.ocpi.credentials.queries import partner_by_name

    partner = partner_by_name(name)
    if partner is None or not partner.hub_member:
        raise click.ClickException(f"no hub party named {name!r}")
    return partner


@hub_cli.command("deliver")
def deliver() -> None:
    """Send due broadcast and ClientInfo deliveries until none is due."""
    from app.ocpi.hub.delivery import deliver_all

    click.echo(f"{deliver_all()} deliveries attempted")


@hub_cli.command("check")
def check() -> None:
    """Still-alive check of quiet parties (GET versions); OFFLINE ones are announced."""
    from app.ocpi.hub.clientinfo import check_members

    counts = check_members()
    click.echo(f"{counts['checked']} parties checked, {counts['offline']} offline")


@hub_cli.command("purge")
def purge() -> None:
    """Delete message log rows older than HUB_MESSAGE_RETENTION_DAYS."""
    from app.ocpi.hub.messages import purge as purge_log

    click.echo(f"{purge_log()} log rows deleted")


@hub_cli.command("suspend")
@click.argument("name")
def suspend(name: str) -> None:
    """Suspend a party: nothing is routed to or from it."""
    from app.ocpi.hub import status

    status.suspend(_party(name))
    click.echo(f"{name} suspended")


@hub_cli.command("resume")
@click.argument("name")
def resume(name: str) -> None:
    """Lift a party's suspension."""
    from app.ocpi.hub import status

    status.resume(_party(name))
    click.echo(f"{name} resumed")


@hub_cli.command("rule")
@click.argument("name")
@click.argument("kind", type=click.Choice(["allow", "deny"]))
@click.argument("party")
def rule(name: str, kind: str, party: str) -> None:
    """Add PARTY (e.g. DE*EMS) to a party's allow-list or deny-list."""
    hub_rules.add_rule(_party(name), kind, party)
    click.echo(f"{name}: {kind} {party}")


@hub_cli.command("unrule")
@click.argument("name")
@click.argument("party")
def unrule(name: str, party: str) -> None:
    """Remove PARTY from a party's lists."""
    hub_rules.remove_rules(_party(name), party)
    click.echo(f"{name}: {party} removed from its lists")
