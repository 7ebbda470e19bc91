"""`flask token ...`: operator commands for drivers' RFID cards (the rules: app.charging.tokens)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.accounts import queries as accounts
from app.accounts.models import User
from app.charging import tokens
from app.core.errors import DomainError, ValidationFailed

token_cli = AppGroup("token", help="Manage drivers' RFID cards.")


def _driver(email: str) -> User:
    """Return the user with this e-mail, or stop with a clear message."""
    user = accounts.user_by_email(email)
    if user is None:
        raise click.ClickException(f"No user {email}")
    return user


def _fail(error: DomainError) -> click.ClickException:
    """Turn a refusal into the command's error message (a 422 names the bad field)."""
    if isinstance(error, ValidationFailed):
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in error.errors.items())
        return click.ClickException(problems or error.detail)
    return click.ClickException(error.detail)


@token_cli.command("add")
@click.argument("email")
@click.argument("uid")
@click.option("--label", help="The driver's name for the card.")
def add(email: str, uid: str, label: str | None) -> None:
    """Register an RFID card UID (hex, 4/7/10 bytes) for the driver with EMAIL."""
    try:
        card = tokens.add_card(_driver(email).id, uid, label)
    except DomainError as error:
        raise _fail(error) from error
    click.echo(f"card {card.uid} registered for {email}; chargers accept it now")


@token_cli.command("list")
@click.argument("email")
def list_cards(email: str) -> None:
    """List the driver's RFID cards."""
    for card in tokens.cards_of(_driver(email).id):
        state = "valid" if tokens.card_valid(card) else "blocked"
        click.echo(f"{card.uid}  {state:<7}  {card.label or ''}")


@token_cli.command("block")
@click.argument("email")
@click.argument("uid")
def block(email: str, uid: str) -> None:
    """Block a card until it is unblocked."""
    _act(tokens.block_card, email, uid, "blocked")


@token_cli.command("unblock")
@click.argument("email")
@click.argument("uid")
def unblock(email: str, uid: str) -> None:
    """Make a blocked card valid again."""
    _act(tokens.unblock_card, email, uid, "valid again")


@token_cli.command("remove")
@click.argument("email")
@click.argument("uid")
def remove(email: str, uid: str) -> None:
    """Remove a card (kept on record as not valid)."""
    _act(tokens.remove_card, email, uid, "removed")


def _act(action: object, email: str, uid: str, done: str) -> None:
    """Run one card action for the driver and print its outcome."""
    try:
        action(_driver(email).id, uid)  # type: ignore[operator]
    except DomainError as error:
        raise _fail(error) from error
    click.echo(f"card {uid} {done}")
