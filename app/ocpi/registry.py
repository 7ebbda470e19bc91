"""What PlugPool serves per OCPI version: module identifiers, interface roles and their URLs."""

from __future__ import annotations

from typing import Any

from flask import current_app

from app.ocpi.models import OcpiPartner
from app.ocpi.transport import SUPPORTED_VERSIONS

# (module identifier, interface role, path under /ocpi with {v} for the version)
MODULES: tuple[tuple[str, str, str], ...] = (
    ("credentials", "SENDER", "{v}/credentials"),
    ("credentials", "RECEIVER", "{v}/credentials"),
    ("locations", "SENDER", "cpo/{v}/locations"),
    ("tariffs", "SENDER", "cpo/{v}/tariffs"),
    ("sessions", "SENDER", "cpo/{v}/sessions"),
    ("cdrs", "SENDER", "cpo/{v}/cdrs"),
    ("tokens", "RECEIVER", "cpo/{v}/tokens"),
    ("commands", "RECEIVER", "cpo/{v}/commands"),
    ("chargingprofiles", "RECEIVER", "cpo/{v}/chargingprofiles"),
    ("sessions", "RECEIVER", "emsp/{v}/sessions"),
    ("cdrs", "RECEIVER", "emsp/{v}/cdrs"),
    ("tokens", "SENDER", "emsp/{v}/tokens"),
    ("commands", "SENDER", "emsp/{v}/commands"),
    ("locations", "RECEIVER", "emsp/{v}/locations"),
    ("tariffs", "RECEIVER", "emsp/{v}/tariffs"),
    ("hubclientinfo", "RECEIVER", "{v}/hubclientinfo"),
)
# Modules of one version only: the 2.3.0 Bookings module (its identifier is "Booking").
VERSION_MODULES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "2.3.0": (
        ("Booking", "SENDER", "cpo/{v}/bookings"),
        ("Booking", "RECEIVER", "emsp/{v}/bookings"),
    ),
}


def ocpi_base_url() -> str:
    """PlugPool's public OCPI root (from settings, never from the request's Host header)."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/ocpi"


def versions_url() -> str:
    """Our /versions URL, handed to partners."""
    return f"{ocpi_base_url()}/versions"


def versions() -> list[dict[str, str]]:
    """The Version objects we serve, oldest first."""
    return [{"version": v, "url": f"{ocpi_base_url()}/{v}"} for v in SUPPORTED_VERSIONS]


def our_role(path: str) -> str | None:
    """Our role behind a module path (CPO or EMSP); None for configuration modules."""
    segment = path.lstrip("/").split("/", 1)[0]
    return {"cpo": "CPO", "emsp": "EMSP"}.get(segment)


def version_details(version: str, partner: OcpiPartner | None = None) -> dict[str, Any]:
    """The VersionDetails object of one version; a hub partner sees the modules of the roles
    its settings offer it."""
    from app.ocpi.hubparty.services import offers

    base = ocpi_base_url()
    endpoints = [
        {"identifier": module, "role": role, "url": f"{base}/{path.format(v=version)}"}
        for module, role, path in (*MODULES, *VERSION_MODULES.get(version, ()))
        if partner is None or our_role(path) is None or offers(partner, our_role(path) or "")
    ]
    return {"version": version, "endpoints": endpoints}


def own_roles(version: str) -> list[dict[str, Any]]:
    """PlugPool's CredentialsRoles: one party (OWN_COUNTRY_CODE*OWN_PARTY_ID) as CPO and eMSP."""
    config = current_app.config
    details = {"name": config["OWN_PARTY_NAME"], "website": config["PUBLIC_BASE_URL"]}
    return [
        {
            "role": role,
            "business_details": details,
            "party_id": config["OWN_PARTY_ID"],
            "country_code": config["OWN_COUNTRY_CODE"],
        }
        for role in ("CPO", "EMSP")
    ]


def own_credentials(token: str, version: str, partner: OcpiPartner | None = None) -> dict[str, Any]:
    """The Credentials object by which a partner reaches us with `token` (a hub partner gets
    the roles its settings offer it)."""
    from app.ocpi.hubparty.services import offered_roles

    roles = offered_roles(partner, own_roles(version))
    return {"token": token, "url": versions_url(), "roles": roles}
