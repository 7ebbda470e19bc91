"""`flask user ...`: operator commands for accounts."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.accounts import services
from app.core.errors import DomainError

user_cli = AppGroup("user", help="Manage user accounts.")


@user_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["driver", "owner", "admin"]), default="driver")
@click.option("--name", default="", help="Display name (defaults to the e-mail's local part).")
@click.password_option(help="Prompted (hidden, twice) when not given.")
def create_user(email: str, role: str, name: str, password: str) -> None:
    """Create an account with any role."""
    try:
        user = services.create_user(email, password, name or email.split("@")[0], role)
    except DomainError as error:
        raise click.ClickException(_describe(error)) from error
    click.echo(f"Created {user.role} {user.email} (id {user.id})")


def _describe(error: DomainError) -> str:
    fields = error.extra.get("errors", {})
    details = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in fields.items())
    return f"{error.detail}{': ' + details if details else ''}"
