"""Marshmallow schemas of the charging JSON API."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.api.schemas import id_field


class CommandAnswerSchema(Schema):
    """The charger's answer to a remote command."""

    status = fields.String(
        required=True,
        metadata={
            "description": "Accepted (a refusal is a 409, no answer in time a 504, a command "
            "the gateway could not carry a 502, each a problem with `charger_status`)"
        },
    )


class NoticeSchema(Schema):
    """A message about a booking for its driver or owner."""

    id = fields.Integer(required=True)
    booking_id = fields.Integer(allow_none=True)
    kind = fields.String(required=True)
    body = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class RoamingTermsSchema(Schema):
    """What starting at a partner charger costs up front: the card hold and PlugPool's fee."""

    currency = fields.String(required=True)
    hold_minor = fields.Integer(required=True, metadata={"description": "held on the card"})
    fee_minor = fields.Integer(required=True, metadata={"description": "added to the CDR total"})


class RoamingStartSchema(Schema):
    """Start charging at a partner charger."""

    evse_id = id_field(required=True, metadata={"description": "the EVSE id from search"})
    connector_id = fields.String(load_default=None)


class RoamingReserveSchema(Schema):
    """Reserve a partner EVSE until a moment."""

    evse_id = id_field(required=True)
    expires_at = fields.AwareDateTime(required=True)


class RoamingCommandSchema(Schema):
    """A command sent to a partner network and where it stands."""

    id = fields.Integer(required=True)
    command = fields.String(required=True)
    status = fields.String(
        required=True, metadata={"description": "PENDING, ACCEPTED, REJECTED, TIMEOUT, ..."}
    )
    message = fields.String(allow_none=True)
    session_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime(required=True)


class RoamingSessionSchema(Schema):
    """A live or finished session at a partner charger."""

    id = fields.Integer(required=True)
    status = fields.String(required=True)
    kwh = fields.String(required=True)
    started_at = fields.DateTime(required=True)
    ended_at = fields.DateTime(allow_none=True)
    duration_seconds = fields.Integer(required=True)
    cost_minor = fields.Integer(allow_none=True, metadata={"description": "cost so far"})
    currency = fields.String(allow_none=True)
    network = fields.String(required=True)
    location_name = fields.String(allow_none=True)
    evse_uid = fields.String(allow_none=True)
    connector_id = fields.String(allow_none=True)


class RoamingReceiptSchema(Schema):
    """The receipt of one session on a partner network."""

    id = fields.Integer(required=True)
    state = fields.String(required=True)
    currency = fields.String(required=True)
    hold_minor = fields.Integer(required=True)
    cdr_cost_minor = fields.Integer(allow_none=True)
    fee_minor = fields.Integer(required=True)
    total_minor = fields.Integer(allow_none=True)
    captured_minor = fields.Integer(required=True)
    cdr_id = fields.String(allow_none=True)
    energy_kwh = fields.String(allow_none=True)
    started_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
    location = fields.String(allow_none=True)
    network = fields.String(allow_none=True)


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


class RoamingSlotSchema(Schema):
    """A free timeslot of a partner charger (from its OCPI 2.3.0 calendar)."""

    start = fields.DateTime(required=True)
    end = fields.DateTime(required=True)


class RoamingBookInSchema(Schema):
    """Book a partner charger for a window."""

    evse_id = id_field(required=True)
    start = fields.AwareDateTime(required=True)
    end = fields.AwareDateTime(required=True)


class RoamingBookingSchema(Schema):
    """A booking on a partner network and its status as the network last told us."""

    id = fields.Integer(required=True)
    location_id = fields.String(required=True)
    evse_uid = fields.String(allow_none=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    reservation_status = fields.String(
        required=True, metadata={"description": "PENDING, RESERVED, CANCELED, REJECTED, ..."}
    )
    message = fields.String(allow_none=True)
