"""Operator use cases on routing rules: add and remove allow/deny entries."""

from __future__ import annotations

import re

from sqlalchemy import delete

from app.core.errors import ValidationFailed
from app.extensions import db
from app.ocpi.hub import table
from app.ocpi.hub.models import HubRule, RuleKind
from app.ocpi.models import OcpiPartner

PARTY = re.compile(r"^([A-Za-z]{2})[*\-]?([A-Za-z0-9]{3})$")


def parse_party(text: str) -> tuple[str, str]:
    """'DE*EMS', 'DE-EMS' or 'DEEMS' -> ('DE', 'EMS')."""
    match = PARTY.match(text.strip())
    if match is None:
        raise ValidationFailed({"party": ["use CC*PID, e.g. DE*EMS"]}, "invalid party")
    return match.group(1).upper(), match.group(2).upper()


def add_rule(partner: OcpiPartner, kind: str, party: str) -> HubRule:
    """Add a counter-party to the partner's allow-list or deny-list (replacing its old entry)."""
    if kind not in (RuleKind.ALLOW, RuleKind.DENY):
        raise ValidationFailed({"kind": ["allow or deny"]}, "invalid kind")
    country_code, party_id = parse_party(party)
    _delete(partner, country_code, party_id)
    rule = HubRule(partner_id=partner.id, kind=kind, country_code=country_code, party_id=party_id)
    db.session.add(rule)
    table.changed()
    db.session.commit()
    return rule


def remove_rules(partner: OcpiPartner, party: str) -> None:
    """Take a counter-party off both of the partner's lists."""
    _delete(partner, *parse_party(party))
    table.changed()
    db.session.commit()


def _delete(partner: OcpiPartner, country_code: str, party_id: str) -> None:
    db.session.execute(
        delete(HubRule).where(
            HubRule.partner_id == partner.id,
            HubRule.country_code == country_code,
            HubRule.party_id == party_id,
        )
    )
