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
