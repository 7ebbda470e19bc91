"""OCPI fixtures: registered partners in the rolled-back DB, and real servers on real ports."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app import create_app
from app.core.security import digest_token, new_token
from app.extensions import db as _db
from app.ocpi.models import OcpiPartner, PartnerEndpoint, PartnerRole, PartnerStatus
from tests.ocpi.peer import EmspPeer


def token_header(token: str) -> dict[str, str]:
    """Authorization header for a token, Base64 as OCPI 2.2+ requires."""
    return {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}


@pytest.fixture
def make_partner(db: Any) -> Callable[..., tuple[OcpiPartner, str]]:
    """A registered partner (default: eMSP DE*EMS) and the token it uses with us."""

    def make(
        name: str | None = None,
        roles: tuple[tuple[str, str, str], ...] = (("EMSP", "DE", "EMS"),),
        endpoints: tuple[tuple[str, str, str], ...] = (),
        raw_tokens: bool = False,
        version: str = "2.2.1",
    ) -> tuple[OcpiPartner, str]:
        token = new_token()
        partner = OcpiPartner(
            name=name or f"partner-{token[:8]}",
            status=PartnerStatus.REGISTERED.value,
            token_in_digest=digest_token(token),
            token_out="token-they-gave-us",
            version=version,
            raw_tokens=raw_tokens,
        )
        for role, country_code, party_id in roles:
            partner.roles.append(
                PartnerRole(
                    role=role,
                    country_code=country_code,
                    party_id=party_id,
                    business_details={"name": party_id},
                )
            )
        for identifier, role, url in endpoints:
            partner.endpoints.append(
                PartnerEndpoint(version=version, identifier=identifier, role=role, url=url)
            )
        _db.session.add(partner)
        _db.session.flush()
        return partner, token

    return make


class LiveServer:
    """PlugPool served by werkzeug in a thread, on the test database, with real commits."""

    def __init__(self, database_url: str) -> None:
        self.app: Flask = create_app("testing", {"DATABASE_URL": database_url})
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.app.config["PUBLIC_BASE_URL"] = self.base
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def versions_url(self) -> str:
        return f"{self.base}/ocpi/versions"

    def url(self, path: str) -> str:
        return f"{self.base}/ocpi/{path.lstrip('/')}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        with self.app.app_context():
            _db.session.remove()
            _db.engine.dispose()


@pytest.fixture
def plugpool(database_url: str, committed_db: None) -> Iterator[LiveServer]:
    """PlugPool as CPO on a real port."""
    server = LiveServer(database_url)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def peer() -> Iterator[EmspPeer]:
    """A small eMSP peer on a real port."""
    with EmspPeer() as emsp:
        yield emsp
