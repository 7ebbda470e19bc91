"""Bodies shared by every JSON API: the problem document (RFC 9457) of every error."""

from typing import Any

from marshmallow import INCLUDE, Schema, fields, validate

from app.core.db import MAX_ID


def id_field(**kwargs: Any) -> fields.Integer:
    """An input id: a positive integer up to MAX_ID (beyond it a 422, never a database error)."""
    return fields.Integer(strict=False, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class ProblemSchema(Schema):
    """What every 4xx/5xx answer carries (see app.core.errors); some add members of their own."""

    class Meta:
        unknown = INCLUDE  # documented as additionalProperties: extension members (RFC 9457)

    type = fields.String(metadata={"description": "about:blank"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "422 only: each bad field (dotted path) and its messages"},
    )
    retry_after = fields.Integer(
        metadata={"description": "429 only: seconds to wait, as in the Retry-After header"}
    )
    charger_status = fields.String(
        metadata={
            "description": "charging commands' 409/502/504: the charger's answer or the "
            "gateway's failure (Rejected, CommandTimeout, CommandFailed, ...)"
        }
    )
