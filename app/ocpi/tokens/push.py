"""Push our drivers' token changes to every registered partner CPO with a Tokens Receiver.

A new token is PUT whole; a later change (blocked, unblocked, card removed) is a PATCH of
`valid` and `last_updated`, and a PUT again when the partner does not hold the token.
"""

from __future__ import annotations

from sqlalchemy import select

from app.charging.tokens import TOKEN_CHANGED
from app.core.outbox import OutboxEvent
from app.extensions import db
from app.ocpi.client import OcpiClient, endpoint_url
from app.ocpi.credentials.queries import registered_partners_with
from app.ocpi.errors import PartnerCallFailed
from app.ocpi.models import OcpiPartner, Token
from app.ocpi.tokens.services import token_to_ocpi

TOPICS = (TOKEN_CHANGED,)
NOT_HELD = frozenset({2003, 2004})


def recipients(event: OutboxEvent) -> list[OcpiPartner]:
    """Registered partners with a CPO role and a Tokens Receiver."""
    return [
        partner
        for partner in registered_partners_with("tokens", "RECEIVER")
        if partner.token_out and partner.party("CPO") is not None
    ]


def push(partner: OcpiPartner, event: OutboxEvent) -> None:
    """PUT or PATCH the token at the partner."""
    token = _token(event)
    if token is None:
        return
    base = partner.endpoint("tokens", "RECEIVER") or ""
    path = endpoint_url(base, token.country_code, token.party_id, token.uid)
    target = f"{path}?type={token.type}"
    client = OcpiClient(
        partner.token_out or "", raw_token=partner.raw_tokens, to_party=partner.party("CPO")
    )
    body = token_to_ocpi(token)
    if event.payload.get("action") == "added":
        client.put(target, body)
        return
    try:
        client.patch(target, {"valid": body["valid"], "last_updated": body["last_updated"]})
    except PartnerCallFailed as error:
        if error.ocpi_status not in NOT_HELD and error.http_status != 404:
            raise
        client.put(target, body)


def _token(event: OutboxEvent) -> Token | None:
    query = select(Token).where(
        Token.uid == event.payload["uid"],
        Token.type == event.payload["type"],
        Token.partner_id.is_(None),
    )
    return db.session.scalars(query).first()
