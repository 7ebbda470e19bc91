"""Hub fixtures: parties on the hub (registered partners with endpoints at recording servers)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.core.security import digest_token, new_token
from app.extensions import db as _db
from app.ocpi.hub.models import ConnectionStatus, HubMember
from app.ocpi.models import OcpiPartner, PartnerEndpoint, PartnerRole, PartnerStatus
from tests.ocpi.hub.party import Party, start_party

MODULES = ("locations", "tariffs", "sessions", "cdrs", "tokens", "commands", "hubclientinfo")


@pytest.fixture
def parties() -> Iterator[list[Party]]:
    """Recording servers started by make_party; stopped after the test."""
    started: list[Party] = []
    yield started
    for party in started:
        party.stop()


@pytest.fixture
def make_party(db: Any, parties: list[Party]) -> Callable[..., tuple[OcpiPartner, str, Party]]:
    """A party on the hub: (partner row, the token it uses with the hub, its server)."""

    def make(
        role: str = "CPO",
        country_code: str = "NL",
        party_id: str | None = None,
        version: str = "2.2.1",
        modules: tuple[str, ...] = MODULES,
        status: ConnectionStatus = ConnectionStatus.CONNECTED,
    ) -> tuple[OcpiPartner, str, Party]:
        server = start_party()
        parties.append(server)
        token = new_token()
        party_id = party_id or uuid.uuid4().hex[:3].upper()
        partner = OcpiPartner(
            name=f"{role}-{party_id}",
            status=PartnerStatus.REGISTERED.value,
            token_in_digest=digest_token(token),
            token_out=f"to-{party_id}",
            versions_url=server.url("versions"),
            version=version,
            hub_member=True,
        )
        partner.roles.append(
            PartnerRole(
                role=role,
                country_code=country_code,
                party_id=party_id,
                business_details={"name": party_id},
            )
        )
        for module in modules:
            for interface in ("SENDER", "RECEIVER"):
                url = server.url(f"{interface.lower()}/{version}/{module}")
                partner.endpoints.append(
                    PartnerEndpoint(version=version, identifier=module, role=interface, url=url)
                )
        _db.session.add(partner)
        _db.session.flush()
        _db.session.add(HubMember(partner_id=partner.id, status=status.value, suspended=False))
        _db.session.flush()
        return partner, token, server

    return make


def hub_headers(
    token: str, sender: OcpiPartner, to: OcpiPartner | tuple[str, str] | None
) -> dict[str, str]:
    """Authorization plus tracing and routing headers from sender's party to `to`."""
    role = sender.roles[0]
    headers = {
        "Authorization": "Token " + base64.b64encode(token.encode()).decode(),
        "X-Request-ID": str(uuid.uuid4()),
        "X-Correlation-ID": str(uuid.uuid4()),
        "OCPI-from-country-code": role.country_code,
        "OCPI-from-party-id": role.party_id,
    }
    if to is not None:
        country, party = (
            (to.roles[0].country_code, to.roles[0].party_id) if isinstance(to, OcpiPartner) else to
        )
        headers["OCPI-to-country-code"] = country
        headers["OCPI-to-party-id"] = party
    return headers
