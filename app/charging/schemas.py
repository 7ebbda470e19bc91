"""Marshmallow schemas of the charging JSON API."""

from __future__ import annotations

from marshmallow import Schema, fields


class CommandAnswerSchema(Schema):
    """The charger's answer to a remote command."""

    status = fields.String(required=True, metadata={"description": "Accepted, Rejected, ..."})


class NoticeSchema(Schema):
    """A message about a booking for its driver or owner."""

    id = fields.Integer(required=True)
    booking_id = fields.Integer(allow_none=True)
    kind = fields.String(required=True)
    body = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class CardInSchema(Schema):
    """An RFID card to register: its UID as printed or as a charger reads it."""

    uid = fields.String(
        required=True,
        metadata={"description": "4, 7 or 10 byte UID in hex; ':', '-' and spaces are ignored"},
    )
    label = fields.String(
        load_default=None, allow_none=True, metadata={"description": "my name for the card"}
    )


class CardSchema(Schema):
    """A registered RFID card of mine."""

    uid = fields.String(required=True)
    label = fields.String(allow_none=True)
    valid = fields.Boolean(required=True, metadata={"description": "false while blocked"})
    created_at = fields.DateTime(required=True)
