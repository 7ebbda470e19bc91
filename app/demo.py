"""Demo data for `make run`: PlugPool's party, owners with chargers around Amsterdam, a driver."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from flask import current_app

from app.accounts import queries as account_queries
from app.accounts import services as accounts
from app.accounts.models import Role, User
from app.core.errors import DomainError
from app.extensions import db
from app.inventory import queries as inventory_queries
from app.inventory import services as inventory
from app.payments import queries as payment_queries
from app.payments.localconnect import DEMO_ACCOUNT_PREFIX
from app.payments.models import OwnerAccount

DEMO_PASSWORD = "plugpool-demo"  # noqa: S105 -- printed on purpose: demo accounts only
DEMO_USERS = (
    ("anna@plugpool.test", "Anna de Vries", Role.OWNER),
    ("bram@plugpool.test", "Bram Jansen", Role.OWNER),
    ("chris@plugpool.test", "Chris Bakker", Role.OWNER),
    ("dana@plugpool.test", "Dana Visser", Role.DRIVER),
    ("admin@plugpool.test", "PlugPool operator", Role.ADMIN),
)
_T2 = {"standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE"}
_T2_1P = {"standard": "IEC_62196_T2", "format": "CABLE", "power_type": "AC_1_PHASE"}
_CCS = {"standard": "IEC_62196_T2_COMBO", "format": "CABLE", "power_type": "DC"}
# (owner, name, address, postal code, lat, lon, connector, volts, amps, watts, price)
CHARGERS = (
    ("anna", "Jordaan driveway", "Bloemgracht 50", "1015TK", "52.374600", "4.882800",
     _T2, 230, 16, 11000, {"per_kwh": "0.29", "per_session": "0.50"}),
    ("anna", "De Pijp courtyard", "Sarphatipark 12", "1073CT", "52.353300", "4.893600",
     _T2_1P, 230, 32, 7400, {"per_hour": "1.50"}),
    ("anna", "Oosterpark garage", "Oosterpark 8", "1092AE", "52.360000", "4.927000",
     _T2, 230, 32, 22000, {"per_kwh": "0.35"}),
    ("bram", "Noord shed", "Buiksloterweg 5", "1031CC", "52.388600", "4.916500",
     _T2, 230, 16, 11000, {"per_kwh": "0.27", "per_hour": "0.50"}),
    ("bram", "Westerpark drive", "Haarlemmerweg 10", "1051KW", "52.386000", "4.873000",
     _T2_1P, 230, 16, 3700, {"per_hour": "1.00"}),
    ("bram", "Zuid office lot", "Beethovenstraat 90", "1077JN", "52.346000", "4.864000",
     _CCS, 400, 125, 50000, {"per_kwh": "0.49", "per_session": "1.00"}),
    ("chris", "Amstelveen carport", "Stadsplein 1", "1181ZM", "52.303000", "4.860000",
     _T2, 230, 16, 11000, {"per_kwh": "0.25"}),
    ("chris", "IJburg quay", "IJburglaan 600", "1087BD", "52.355000", "4.995000",
     _T2, 230, 32, 22000, {"per_kwh": "0.31", "per_hour": "0.25"}),
    ("chris", "Sloten farmhouse", "Sloterweg 1000", "1066CS", "52.348000", "4.810000",
     _T2_1P, 230, 32, 7400, {"per_session": "5.00"}),
    ("chris", "Centrum canal house", "Keizersgracht 100", "1015CV", "52.376000", "4.887000",
     _T2, 230, 16, 11000, {"per_kwh": "0.39", "per_session": "0.75"}),
)  # fmt: skip
SCHEDULE = [{"weekday": day, "start": "18:00", "end": "00:00"} for day in range(1, 6)] + [
    {"weekday": day, "start": "08:00", "end": "22:00"} for day in (6, 7)
]


@dataclass(frozen=True)
class DemoStation:
    listing: str
    owner: str
    station_id: str
    password: str
    ocpp_url: str


@dataclass(frozen=True)
class DemoData:
    logins: list[tuple[str, str, str]]
    stations: list[DemoStation]


def seed_demo() -> DemoData:
    """Create (or find) the demo party, accounts and chargers; safe to run again."""
    if current_app.config["ENV"] == "production":
        raise DomainError("Demo data is not loaded in production")
    inventory.ensure_own_party()
    db.session.commit()
    users = {email.split("@")[0]: _demo_user(email, name, role) for email, name, role in DEMO_USERS}
    for user in users.values():
        if user.role == Role.OWNER.value:
            _demo_payouts(user)
    stations = [
        _demo_charger(number, users[spec[0]], spec) for number, spec in enumerate(CHARGERS, 1)
    ]
    logins = [(email, DEMO_PASSWORD, role.value) for email, _, role in DEMO_USERS]
    return DemoData(logins=logins, stations=stations)


def demo_station_password(station_id: str) -> str:
    """A demo charger's OCPP password, derived from SECRET_KEY so every run prints the same."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"demo-station:{station_id}".encode(), hashlib.sha256).hexdigest()
    return digest[:24]


def _demo_user(email: str, name: str, role: Role) -> User:
    return account_queries.user_by_email(email) or accounts.create_user(
        email, DEMO_PASSWORD, name, role.value
    )


def _demo_payouts(owner: User) -> None:
    """Demo owners have finished payout onboarding, so their paid listings can be published.

    The account id is one the local Stripe stand-in knows as ready (app/payments/localconnect.py).
    """
    if payment_queries.owner_account(owner.id) is None:
        db.session.add(
            OwnerAccount(
                user_id=owner.id,
                account_id=f"{DEMO_ACCOUNT_PREFIX}{owner.id:020d}",
                charges_enabled=True,
                payouts_enabled=True,
                details_submitted=True,
                payable=True,
            )
        )
        db.session.commit()


def _demo_charger(number: int, owner: User, spec: tuple[Any, ...]) -> DemoStation:
    name = spec[1]
    station_id = f"PP-DEMO{number:04d}"
    password = demo_station_password(station_id)
    if inventory_queries.station_by_station_id(station_id) is None:
        inventory.create_listing(owner, _listing(spec), password, station_id)
    url = f"{current_app.config['GATEWAY_PUBLIC_URL'].rstrip('/')}/{station_id}"
    return DemoStation(name, owner.email, station_id, password, url)


def _listing(spec: tuple[Any, ...]) -> dict[str, Any]:
    _, name, address, postal, lat, lon, connector, volts, amps, watts, price = spec
    raw = {
        "name": name,
        "address": address,
        "city": "Amstelveen" if postal.startswith("118") else "Amsterdam",
        "postal_code": postal,
        "country": "NLD",
        "latitude": lat,
        "longitude": lon,
        "time_zone": "Europe/Amsterdam",
        "parking_type": "ON_DRIVEWAY",
        "access_instructions": "Park in front of the garage; the cable is in the box.",
        "evses": [
            {
                "connectors": [
                    {**connector, "max_voltage": volts, "max_amperage": amps,
                     "max_electric_power": watts}
                ],
                "capabilities": ["REMOTE_START_STOP_CAPABLE", "RESERVABLE"],
            }
        ],
        "price": {"currency": "EUR", **price},
        "availability": SCHEDULE,
        "publish": True,
    }  # fmt: skip
    return inventory.parse_listing(raw)
