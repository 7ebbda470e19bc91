"""Hub fixtures: parties on the hub (registered partners with endpoints at recording servers)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.core.security import digest_token, new_token
from app.extensions import db as _db
from app.ocpi.hub import table
from app.ocpi.hub.models import ConnectionStatus, HubMember
from app.ocpi.models import OcpiPartner, PartnerEndpoint, PartnerRole, PartnerStatus
from tests.ocpi.hub.party import Party, start_party
from tests.ocpi.hub.serve import Instance
from tests.web.conftest import log_in  # noqa: F401 (a fixture, found by name)

MODULES = ("locations", "tariffs", "sessions", "cdrs", "tokens", "commands", "hubclientinfo")


@pytest.fixture
def parties() -> Iterator[list[Party]]:
    """Recording servers started by make_party; stopped after the test."""
    started: list[Party] = []
    yield started
    for party in started:
        party.stop()


def add_party(
    server: Party,
    role: str = "CPO",
    country_code: str = "NL",
    party_id: str | None = None,
    version: str = "2.2.1",
    modules: tuple[str, ...] = MODULES,
    status: ConnectionStatus = ConnectionStatus.CONNECTED,
) -> tuple[OcpiPartner, str]:
    """Write a registered party on the hub whose endpoints are at `server` (flushed, not
    committed): (partner row, the token it uses with the hub)."""
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
    table.changed()  # rows written here, not by the registration that would say so
    return partner, token


@pytest.fixture
def make_party(db: Any, parties: list[Party]) -> Callable[..., tuple[OcpiPartner, str, Party]]:
    """A party on the hub: (partner row, the token it uses with the hub, its server)."""

    def make(**kwargs: Any) -> tuple[OcpiPartner, str, Party]:
        server = start_party()
        parties.append(server)
        partner, token = add_party(server, **kwargs)
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


@pytest.fixture(scope="session")
def second_database_url() -> Iterator[str]:
    """A second migrated database, for a second PlugPool instance (a party on the hub)."""
    from flask_migrate import upgrade
    from sqlalchemy.engine import make_url

    from app import create_app
    from tests.conftest import ADMIN_URL, _admin_execute

    name = f"plugpool_party_{uuid.uuid4().hex[:10]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
    rendered = url.render_as_string(hide_password=False)
    try:
        application = create_app("testing", {"DATABASE_URL": rendered})
        with application.app_context():
            upgrade()
            _db.engine.dispose()
        yield rendered
    finally:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def party_instance(second_database_url: str) -> Iterator[Any]:
    """A second PlugPool (party NL*PTY) on a real port, on its own database, emptied after."""
    from tests.ocpi.conftest import LiveServer

    server = LiveServer(second_database_url)
    server.app.config.update(OWN_PARTY_ID="PTY", OWN_PARTY_NAME="PlugPool party")
    try:
        yield server
    finally:
        server.stop()
        empty_database(server.app)


def empty_database(app: Any) -> None:
    """Empty every table of an app's database (a second party's, kept for the session)."""
    with app.app_context():
        tables = ", ".join(f'"{t.name}"' for t in _db.metadata.sorted_tables)
        with _db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def hub(database_url: str, committed_db: None, tmp_path: Path) -> Iterator[Instance]:
    """The hub: a PlugPool process of its own on the test's committed database."""
    instance = Instance(database_url, tmp_path / "hub.log")
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def second_process(second_database_url: str, tmp_path: Path) -> Iterator[Instance]:
    """A second PlugPool process (a party on the hub) on its own database, emptied after."""
    instance = Instance(second_database_url, tmp_path / "party.log")
    try:
        yield instance
    finally:
        instance.stop()
        empty_database(instance.app)
