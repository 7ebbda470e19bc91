"""Account request and response bodies."""

from typing import Any

from marshmallow import Schema, fields, pre_load, validate

from app.api.spec import MIN_LENGTH_SETTING


class SignUpSchema(Schema):
    email = fields.Email(required=True)
    # The length is checked by the service (the setting PASSWORD_MIN_LENGTH; 422 below it).
    password = fields.String(
        required=True,
        load_only=True,
        metadata={
            "description": "At least PASSWORD_MIN_LENGTH characters (minLength).",
            MIN_LENGTH_SETTING: "PASSWORD_MIN_LENGTH",
        },
    )
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    role = fields.String(load_default="driver", validate=validate.OneOf(["driver", "owner"]))

    @pre_load
    def _trim_email(self, data: Any, **_: Any) -> Any:
        # Pasted addresses often carry spaces; the service lower-cases them.
        if isinstance(data, dict) and isinstance(data.get("email"), str):
            return {**data, "email": data["email"].strip()}
        return data


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    email = fields.Email(dump_only=True)
    name = fields.String(dump_only=True)
    role = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class TokenRequestSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=255))
    password = fields.String(required=True, load_only=True)
    name = fields.String(load_default="api", validate=validate.Length(min=1, max=64))


class TokenSchema(Schema):
    token = fields.String(dump_only=True, metadata={"description": "Shown once; store it."})
    token_type = fields.String(dump_only=True, dump_default="Bearer")
    expires_at = fields.DateTime(dump_only=True)
    user = fields.Nested(UserSchema, dump_only=True)
