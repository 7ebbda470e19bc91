"""Credentials use cases: issue TOKEN_A, register (both directions), rotate, unregister."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from marshmallow import ValidationError

from app.core.clock import utcnow
from app.core.security import digest_token, new_token
from app.extensions import db
from app.ocpi import errors, pull, registry
from app.ocpi.client import OcpiClient
from app.ocpi.credentials.queries import direct_holder
from app.ocpi.full_set import offer_full_set
from app.ocpi.hub import status as hub_status
from app.ocpi.hubparty import services as hubparty
from app.ocpi.models import HUB_ROLE, OcpiPartner, PartnerEndpoint, PartnerRole, PartnerStatus
from app.ocpi.schemas.credentials import CREDENTIALS, Version, VersionDetails
from app.ocpi.transport import SUPPORTED_VERSIONS

log = logging.getLogger("plugpool.ocpi")

# Modules that make a connection worth having for a CPO (besides credentials itself).
USEFUL_MODULES = frozenset({"locations", "tariffs", "tokens", "commands", "sessions", "cdrs"})


def add_partner(
    name: str, raw_tokens: bool = False, hub_party: bool = False
) -> tuple[OcpiPartner, str]:
    """Create a partner and its TOKEN_A; the token is returned once and stored as a digest.

    hub_party: the partner is a party on PlugPool's hub (it registers at the hub's versions URL).
    """
    token_a = new_token()
    partner = OcpiPartner(
        name=name,
        token_a_digest=digest_token(token_a),
        raw_tokens=raw_tokens,
        hub_member=hub_party,
    )
    db.session.add(partner)
    if hub_party:
        db.session.flush()
        hub_status.planned(partner)
    db.session.commit()
    return partner, token_a


def register_partner(partner: OcpiPartner, body: Any, version: str) -> dict[str, Any]:
    """POST credentials: call the partner back with TOKEN_B, answer with a new TOKEN_C."""
    if partner.status == PartnerStatus.REGISTERED:
        raise errors.MethodNotAllowed("Already registered: use PUT to update credentials")
    return _accept_credentials(partner, body, version)


def update_partner(partner: OcpiPartner, body: Any, version: str) -> dict[str, Any]:
    """PUT credentials: re-read the partner's versions, store its new token, issue a new one."""
    if partner.status != PartnerStatus.REGISTERED:
        raise errors.MethodNotAllowed("Not registered: use POST to register")
    return _accept_credentials(partner, body, version)


def unregister_partner(partner: OcpiPartner) -> None:
    """DELETE credentials: forget the partner's tokens and endpoints; its calls now get 401."""
    if partner.status != PartnerStatus.REGISTERED:
        raise errors.MethodNotAllowed("Not registered")
    _forget(partner)
    db.session.commit()


def connect_partner(
    versions_url: str,
    token_a: str,
    name: str | None = None,
    raw_tokens: bool = False,
    hub_party: bool = False,
) -> OcpiPartner:
    """Register PlugPool with a partner that gave us its versions URL and a TOKEN_A.

    hub_party: register the hub with the partner, which becomes a party on the hub.
    """
    client = OcpiClient(token_a, raw_token=raw_tokens)
    version, endpoints = _discover(client, versions_url, None)
    credentials_url = _endpoint_url(endpoints, "credentials")
    token_b = new_token()
    partner = OcpiPartner(
        name=name or versions_url,
        token_in_digest=digest_token(token_b),
        versions_url=versions_url,
        version=version,
        raw_tokens=raw_tokens,
        hub_member=hub_party,
    )
    db.session.add(partner)
    # Committed before the POST: the partner calls our versions with TOKEN_B meanwhile.
    db.session.commit()
    try:
        reply = client.post(credentials_url, _own_credentials(partner, token_b, version))
        theirs = _load_credentials(reply.data, version)
        _check_roles(partner, theirs)
    except (errors.PartnerCallFailed, errors.InvalidParameters) as error:
        db.session.delete(partner)
        db.session.commit()
        raise errors.ClientApiUnusable(f"registration refused: {error}") from error
    _store_registration(partner, theirs, version, endpoints)
    db.session.commit()
    return partner


def rotate_partner(partner: OcpiPartner) -> OcpiPartner:
    """PUT our credentials with a new token to the partner; store the token it answers with."""
    if partner.status != PartnerStatus.REGISTERED or not partner.token_out:
        raise errors.MethodNotAllowed("Not registered")
    client = OcpiClient(partner.token_out, raw_token=partner.raw_tokens)
    version, endpoints = _discover(client, partner.versions_url or "", partner.version)
    token_b = new_token()
    previous_digest = partner.token_in_digest
    partner.token_in_digest = digest_token(token_b)
    db.session.commit()
    try:
        reply = client.put(
            _endpoint_url(endpoints, "credentials"), _own_credentials(partner, token_b, version)
        )
        theirs = _load_credentials(reply.data, version)
    except (errors.PartnerCallFailed, errors.InvalidParameters) as error:
        partner.token_in_digest = previous_digest
        db.session.commit()
        raise errors.ClientApiUnusable(f"update refused: {error}") from error
    _store_registration(partner, theirs, version, endpoints)
    db.session.commit()
    return partner


def disconnect_partner(partner: OcpiPartner) -> None:
    """Unregister from a partner (DELETE its credentials endpoint), then forget it here."""
    if partner.status != PartnerStatus.REGISTERED or not partner.token_out:
        raise errors.MethodNotAllowed("Not registered")
    url = partner.endpoint("credentials", "SENDER") or partner.endpoint("credentials", "RECEIVER")
    if url is not None:
        try:
            OcpiClient(partner.token_out, raw_token=partner.raw_tokens).delete(url)
        except errors.PartnerCallFailed as error:
            # Forgetting it here still ends our side of the connection: its token stops working.
            log.warning("OCPI partner %s did not accept DELETE credentials: %s", partner.id, error)
    _forget(partner)
    db.session.commit()


def _own_credentials(partner: OcpiPartner, token: str, version: str) -> dict[str, Any]:
    """The Credentials we hand a partner: the hub's to a hub party, else PlugPool's."""
    if partner.hub_member:
        from app.ocpi.hub.identity import hub_credentials

        return hub_credentials(token, version, partner)
    return registry.own_credentials(token, version, partner)


def _accept_credentials(partner: OcpiPartner, body: Any, version: str) -> dict[str, Any]:
    theirs = _load_credentials(body, version)
    _check_roles(partner, theirs)
    client = OcpiClient(theirs["token"], raw_token=partner.raw_tokens)
    _, endpoints = _discover(client, theirs["url"], version)
    token_c = new_token()
    partner.token_in_digest = digest_token(token_c)
    partner.token_a_digest = None
    _store_registration(partner, theirs, version, endpoints)
    db.session.commit()
    log.info("OCPI partner %s registered on %s", partner.id, version)
    return _own_credentials(partner, token_c, version)


def _load_credentials(body: Any, version: str) -> dict[str, Any]:
    try:
        return CREDENTIALS[version]().load(body)
    except ValidationError as error:
        raise errors.InvalidParameters(f"Invalid credentials: {error.messages}") from error


def _check_roles(partner: OcpiPartner, theirs: dict[str, Any]) -> None:
    """A party can belong to one platform only; PlugPool's own party to none.

    A 2.3.0 hub (hub_party_id) lists the parties reachable through it, not its own: not checked.
    """
    if theirs.get("hub_party_id"):
        return
    own = (current_app.config["OWN_COUNTRY_CODE"], current_app.config["OWN_PARTY_ID"])
    for role in theirs["roles"]:
        party = (role["country_code"].upper(), role["party_id"].upper())
        holder = direct_holder(*party, role["role"])
        # PlugPool's own parties are parties on its hub like any other.
        own_party = party == own and not partner.hub_member
        if own_party or (holder is not None and holder.id != partner.id):
            raise errors.InvalidParameters(f"Party {party[0]}*{party[1]} is already registered")


def _discover(
    client: OcpiClient, versions_url: str, wanted: str | None
) -> tuple[str, list[dict[str, Any]]]:
    """Read the partner's versions and the details of the version to use (3001/3002/3003)."""
    try:
        listed = Version(many=True).load(client.get(versions_url).data or [])
    except (errors.PartnerCallFailed, ValidationError) as error:
        raise errors.ClientApiUnusable(f"Cannot read versions: {error}") from error
    urls = {item["version"]: item["url"] for item in listed}
    mutual = [v for v in SUPPORTED_VERSIONS if v in urls and (wanted is None or v == wanted)]
    if not mutual:
        raise errors.UnsupportedVersion(f"No mutual OCPI version in {sorted(urls)}")
    version = mutual[-1]
    try:
        details = VersionDetails().load(client.get(urls[version]).data or {})
    except (errors.PartnerCallFailed, ValidationError) as error:
        raise errors.ClientApiUnusable(f"Cannot read version details: {error}") from error
    endpoints = details["endpoints"]
    if not {e["identifier"] for e in endpoints} & USEFUL_MODULES:
        raise errors.NoMatchingEndpoints("No module in common")
    return version, endpoints


def _endpoint_url(endpoints: list[dict[str, Any]], identifier: str) -> str:
    for endpoint in endpoints:
        if endpoint["identifier"] == identifier:
            return endpoint["url"]
    raise errors.NoMatchingEndpoints(f"Partner has no {identifier} endpoint")


def _store_registration(
    partner: OcpiPartner, theirs: dict[str, Any], version: str, endpoints: list[dict[str, Any]]
) -> None:
    first = partner.status != PartnerStatus.REGISTERED
    partner.token_out = theirs["token"]
    partner.versions_url = theirs["url"]
    partner.version = version
    partner.status = PartnerStatus.REGISTERED.value
    partner.registered_at = partner.registered_at or utcnow()
    partner.roles.clear()
    partner.endpoints.clear()
    db.session.flush()
    roles = theirs["roles"]
    if theirs.get("hub_party_id"):
        # 2.3.0 names a hub by hub_party_id (2.2.1 by a HUB role): kept as a HUB role alike.
        # Its roles are the parties reachable through it: parties behind the hub, not its own.
        hub_id = theirs["hub_party_id"].upper()
        details = {"name": partner.name}
        partner.roles.append(
            PartnerRole(
                role=HUB_ROLE,
                country_code=hub_id[:2],
                party_id=hub_id[2:],
                business_details=details,
            )
        )
        db.session.flush()
        hubparty.store_reachable(partner, roles)
        roles = []
    for role in roles:
        partner.roles.append(
            PartnerRole(
                role=role["role"],
                country_code=role["country_code"].upper(),
                party_id=role["party_id"].upper(),
                business_details=role["business_details"],
            )
        )
    for endpoint in endpoints:
        partner.endpoints.append(
            PartnerEndpoint(
                version=version,
                identifier=endpoint["identifier"],
                role=endpoint["role"],
                url=endpoint["url"],
            )
        )
    if partner.hub_member:
        # The hub routes for its parties: no sync or pull of PlugPool's own roles with them.
        db.session.flush()
        hub_status.registered(partner)
        return
    if first:
        db.session.flush()
        offer_full_set(partner)  # pushed through the outbox
    # A CPO's parties enter the inventory, and its first full pull is scheduled.
    pull.on_registered(partner)


def _forget(partner: OcpiPartner) -> None:
    if partner.hub_member:
        hub_status.suspended(partner)
    partner.status = PartnerStatus.UNREGISTERED.value
    partner.token_in_digest = None
    partner.token_a_digest = None
    partner.token_out = None
    partner.roles.clear()
    partner.endpoints.clear()
