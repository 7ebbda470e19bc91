"""Read-only selects of partner tokens."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.ocpi.models import Token


def find_token(country_code: str, party_id: str, uid: str, token_type: str) -> Token | None:
    """A token by its full OCPI key."""
    query = select(Token).where(
        Token.country_code == country_code.upper(),
        Token.party_id == party_id.upper(),
        Token.uid == uid,
        Token.type == token_type,
    )
    return db.session.scalars(query).first()


def tokens_by_uid(uid: str, token_type: str) -> list[Token]:
    """Tokens a charger presents by uid (several eMSPs could, rarely, share one)."""
    query = select(Token).where(Token.uid == uid, Token.type == token_type).order_by(Token.id)
    return list(db.session.scalars(query))
