"""Marshmallow schemas of the payments API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class CardSetupSchema(Schema):
    setup_intent_id = fields.String(attribute="id")
    status = fields.String()
    client_secret = fields.String()


class SaveCardInSchema(Schema):
    # Sent to Stripe in a URL path: only the characters a PaymentMethod id has.
    payment_method_id = fields.String(
        required=True,
        validate=[
            validate.Length(min=4, max=64),
            validate.Regexp(r"^pm_[A-Za-z0-9_]+$", error="Not a PaymentMethod id (pm_...)."),
        ],
    )


class SavedCardSchema(Schema):
    payment_method_id = fields.String()


class OnboardingInSchema(Schema):
    country = fields.String(load_default="NL", validate=validate.Regexp(r"^[A-Z]{2}$"))
    refresh_url = fields.Url(required=True)
    return_url = fields.Url(required=True)


class OnboardingLinkSchema(Schema):
    url = fields.String()
    expires_at = fields.Integer()
