"""Bodies shared by every JSON API: the problem document (RFC 9457) of every error."""

from typing import Any

from marshmallow import Schema, fields, validate

# Ids are 64-bit signed integers in the database; a larger number names nothing.
MAX_ID = 2**63 - 1


def id_field(**kwargs: Any) -> fields.Integer:
    """An input id: a positive 64-bit integer (beyond it a 422, never a database error)."""
    return fields.Integer(strict=False, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class ProblemSchema(Schema):
    """What every 4xx/5xx answer carries (see app.core.errors)."""

    type = fields.String(metadata={"description": "about:blank"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "422 only: each bad field (dotted path) and its messages"},
    )
