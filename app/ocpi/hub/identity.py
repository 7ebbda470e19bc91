"""What the hub publishes: its party, versions, endpoints per version, and its Credentials."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.ocpi.models import OcpiPartner, PartnerRole, PartnerStatus
from app.ocpi.registry import ocpi_base_url
from app.ocpi.transport import SUPPORTED_VERSIONS

# Functional modules the hub routes, each with both interfaces (the sender side and receiver
# side have their own hub URL, so the hub knows which interface of the receiver to call).
ROUTED_MODULES = (
    "locations",
    "tariffs",
    "sessions",
    "cdrs",
    "tokens",
    "commands",
    "chargingprofiles",
)
VERSION_MODULES = {"2.3.0": ("Booking",)}
INTERFACES = {"sender": "SENDER", "receiver": "RECEIVER"}


def hub_party() -> tuple[str, str]:
    """(country_code, party_id) of the hub."""
    config = current_app.config
    return config["HUB_COUNTRY_CODE"], config["HUB_PARTY_ID"]


def hub_base_url() -> str:
    """The hub's OCPI root."""
    return f"{ocpi_base_url()}/hub"


def versions_url() -> str:
    """The hub's /versions URL, handed to parties."""
    return f"{hub_base_url()}/versions"


def versions() -> list[dict[str, str]]:
    """The versions the hub serves, side by side."""
    return [{"version": v, "url": f"{hub_base_url()}/{v}"} for v in SUPPORTED_VERSIONS]


def routed_modules(version: str) -> tuple[str, ...]:
    """The functional modules the hub routes in a version."""
    return (*ROUTED_MODULES, *VERSION_MODULES.get(version, ()))


def version_details(version: str) -> dict[str, Any]:
    """The hub's VersionDetails: credentials, hubclientinfo and both sides of each module."""
    base = f"{hub_base_url()}/{version}"
    endpoints = [
        {"identifier": "credentials", "role": role, "url": f"{base}/credentials"}
        for role in ("SENDER", "RECEIVER")
    ]
    endpoints.append(
        {"identifier": "hubclientinfo", "role": "SENDER", "url": f"{base}/hubclientinfo"}
    )
    for module in routed_modules(version):
        for segment, role in INTERFACES.items():
            endpoints.append(
                {"identifier": module, "role": role, "url": f"{base}/{segment}/{module}"}
            )
    return {"version": version, "endpoints": endpoints}


def hub_credentials(token: str, version: str, partner: OcpiPartner) -> dict[str, Any]:
    """The hub's Credentials: 2.2.1 names it by role HUB; 2.3.0 by hub_party_id and lists the
    parties reachable through it (all but the caller's own)."""
    country_code, party_id = hub_party()
    details = {"name": current_app.config["HUB_NAME"]}
    hub_role = {
        "role": "HUB",
        "business_details": details,
        "party_id": party_id,
        "country_code": country_code,
    }
    credentials: dict[str, Any] = {"token": token, "url": versions_url()}
    if version == "2.2.1":
        credentials["roles"] = [hub_role]
        return credentials
    credentials["hub_party_id"] = country_code + party_id
    credentials["roles"] = _reachable_roles(partner) or [{**hub_role, "role": "OTHER"}]
    return credentials


def _reachable_roles(partner: OcpiPartner) -> list[dict[str, Any]]:
    query = (
        select(PartnerRole)
        .join(OcpiPartner)
        .where(
            OcpiPartner.hub_member.is_(True),
            OcpiPartner.status == PartnerStatus.REGISTERED.value,
            OcpiPartner.id != partner.id,
        )
        .order_by(PartnerRole.id)
    )
    return [
        {
            "role": role.role,
            "business_details": role.business_details or {"name": role.party_id},
            "party_id": role.party_id,
            "country_code": role.country_code,
        }
        for role in db.session.scalars(query)
        if role.role in ("CPO", "EMSP", "NAP", "NSP", "OTHER", "SCSP", "PTP")
    ]
