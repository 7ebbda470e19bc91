"""Bodies shared by every JSON API: the problem document (RFC 9457) of every error."""

from marshmallow import Schema, fields


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
