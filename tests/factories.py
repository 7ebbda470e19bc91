"""Factory fixtures: make_<thing>(**overrides) builds a valid row and flushes it."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from geoalchemy2.elements import WKTElement

from app.accounts.models import Role, User
from app.core.security import hash_secret
from app.extensions import db
from app.inventory.models import Connector, Evse, Location, Party
from app.tariffs.models import Tariff

_counter = itertools.count(1)
# Hashing with full Argon2 parameters in every factory call would dominate test time.
FACTORY_PASSWORD = "correct horse battery"
_FACTORY_HASH = hash_secret(FACTORY_PASSWORD)


def _next() -> int:
    return next(_counter)


def point(lat: Decimal | float | str, lon: Decimal | float | str) -> WKTElement:
    """A WGS84 point for a location's geog column."""
    return WKTElement(f"POINT({lon} {lat})", srid=4326)


@pytest.fixture
def make_party(db: Any) -> Callable[..., Party]:
    def make(**overrides: Any) -> Party:
        n = _next()
        fields: dict[str, Any] = {
            "country_code": "NL",
            "party_id": f"P{n:02d}"[:3],
            "name": f"Party {n}",
            "roles": ["CPO"],
            "is_own": False,
        }
        fields.update(overrides)
        party = Party(**fields)
        db_session().add(party)
        db_session().flush()
        return party

    return make


@pytest.fixture
def own_party(make_party: Callable[..., Party], app: Any) -> Party:
    existing = db_session().query(Party).filter_by(is_own=True).one_or_none()
    if existing:
        return existing
    return make_party(
        country_code=app.config["OWN_COUNTRY_CODE"],
        party_id=app.config["OWN_PARTY_ID"],
        name="PlugPool",
        roles=["CPO", "EMSP"],
        is_own=True,
    )


@pytest.fixture
def make_user(db: Any) -> Callable[..., User]:
    def make(**overrides: Any) -> User:
        n = _next()
        fields: dict[str, Any] = {
            "email": f"user{n}@example.test",
            "password_hash": _FACTORY_HASH,
            "name": f"User {n}",
            "role": Role.DRIVER.value,
        }
        fields.update(overrides)
        user = User(**fields)
        db_session().add(user)
        db_session().flush()
        return user

    return make


@pytest.fixture
def make_tariff(own_party: Party) -> Callable[..., Tariff]:
    def make(**overrides: Any) -> Tariff:
        n = _next()
        fields: dict[str, Any] = {
            "country_code": own_party.country_code,
            "party_id": own_party.party_id,
            "ocpi_id": f"T{n}",
            "currency": "EUR",
            "elements": [
                {"price_components": [{"type": "ENERGY", "price": Decimal("0.30"), "step_size": 1}]}
            ],
        }
        fields.update(overrides)
        tariff = Tariff(**fields)
        db_session().add(tariff)
        db_session().flush()
        return tariff

    return make


@pytest.fixture
def make_location(own_party: Party, make_user: Callable[..., User]) -> Callable[..., Location]:
    def make(
        lat: str = "52.370216",
        lon: str = "4.895168",
        evses: int = 1,
        connector: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> Location:
        n = _next()
        fields: dict[str, Any] = {
            "country_code": own_party.country_code,
            "party_id": own_party.party_id,
            "ocpi_id": f"LOC{n}",
            "owner_id": overrides.pop("owner", None) or make_user(role=Role.OWNER.value).id,
            "publish": True,
            "name": f"Home charger {n}",
            "address": f"Street {n}",
            "city": "Amsterdam",
            "postal_code": "1011AB",
            "country": "NLD",
            "latitude": Decimal(lat),
            "longitude": Decimal(lon),
            "geog": point(lat, lon),
            "time_zone": "Europe/Amsterdam",
        }
        fields.update(overrides)
        location = Location(**fields)
        for index in range(1, evses + 1):
            location.evses.append(_evse(n, index, connector or {}))
        db_session().add(location)
        db_session().flush()
        return location

    return make


def _evse(n: int, index: int, connector: dict[str, Any]) -> Evse:
    evse = Evse(uid=f"EVSE{n}-{index}", evse_id=f"NL*PLG*E{n}*{index}", status="AVAILABLE")
    fields: dict[str, Any] = {
        "ocpi_id": "1",
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 16,
        "max_electric_power": 11000,
    }
    fields.update(connector)
    evse.connectors.append(Connector(**fields))
    return evse


def db_session() -> Any:
    return db.session


@pytest.fixture
def bearer(db: Any) -> Callable[[User], dict[str, str]]:
    """Return Authorization headers with a fresh API token for a user."""
    from datetime import timedelta

    from app.accounts.models import ApiToken
    from app.core.clock import utcnow
    from app.core.security import digest_token, new_token

    def make(user: User) -> dict[str, str]:
        plain = new_token()
        expires = utcnow() + timedelta(days=1)
        db_session().add(ApiToken(user=user, digest=digest_token(plain), expires_at=expires))
        db_session().flush()
        return {"Authorization": f"Bearer {plain}"}

    return make


def with_payouts(user: User) -> User:
    """Give an owner a Connect account that has finished onboarding (can publish paid listings)."""
    from app.payments.models import OwnerAccount

    db_session().add(
        OwnerAccount(
            user_id=user.id,
            account_id=f"acct_test{user.id:020d}",
            charges_enabled=True,
            payouts_enabled=True,
            details_submitted=True,
            payable=True,
        )
    )
    db_session().flush()
    return user
