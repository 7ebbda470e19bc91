"""extrawest-ocpi (py_ocpi) as a partner CPO or eMSP, with an in-memory store; in its own venv.

Usage: python server.py PORT TOKEN_A COUNTRY_CODE PARTY_ID [cpo|emsp]
Environment for py_ocpi is set before it is imported (its settings read the environment).
As an eMSP it serves the Receivers py_ocpi has for that role (locations, tariffs, sessions,
cdrs, hubclientinfo) and the tokens Sender; what is pushed to it lands in STORE["received"].
"""

from __future__ import annotations

import os
import secrets
import sys
from typing import Any

PORT, TOKEN_A, COUNTRY_CODE, PARTY_ID = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
ROLE = sys.argv[5] if len(sys.argv) > 5 else "cpo"
os.environ.update(
    OCPI_HOST=f"127.0.0.1:{PORT}",
    PROTOCOL="http",
    COUNTRY_CODE=COUNTRY_CODE,
    PARTY_ID=PARTY_ID,
    COMMAND_AWAIT_TIME="1",
    ENVIRONMENT="development",
)

import uvicorn  # noqa: E402
from fastapi import Request  # noqa: E402
from py_ocpi import get_application  # noqa: E402
from py_ocpi.core.authentication.authenticator import Authenticator  # noqa: E402
from py_ocpi.core.crud import Crud  # noqa: E402
from py_ocpi.core.enums import Action, ModuleID, RoleEnum  # noqa: E402
from py_ocpi.modules.versions.enums import VersionNumber  # noqa: E402

BASE = f"http://127.0.0.1:{PORT}/ocpi"
STORE: dict[str, Any] = {
    "token_c": [],  # tokens PlugPool may call us with
    "client_token": None,  # the token PlugPool gave us, to call it back
    "client": None,  # PlugPool's credentials and endpoints as we received them
    "tokens": {},  # "cc*pid*uid*type" -> Token
    "commands": [],  # (command, body) received
    "received": {},  # as eMSP: module -> "cc*pid*id" -> the object pushed to us
    # Ids in lower case: it writes every CiString in lower case anyway (see the test's quirks).
    "locations": {
        "xw-loc": {
            "country_code": COUNTRY_CODE,
            "party_id": PARTY_ID,
            "id": "xw-loc",
            "publish": True,
            "address": "Main street 1",
            "city": "Kyiv",
            "country": "UKR",
            "coordinates": {"latitude": "50.450100", "longitude": "30.523400"},
            "time_zone": "Europe/Kyiv",
            "evses": [
                {
                    "uid": "xw-evse-1",
                    "evse_id": "UA*XWC*E1",
                    "status": "AVAILABLE",
                    "capabilities": ["REMOTE_START_STOP_CAPABLE"],
                    "connectors": [
                        {
                            "id": "1",
                            "standard": "IEC_62196_T2",
                            "format": "SOCKET",
                            "power_type": "AC_3_PHASE",
                            "max_voltage": 230,
                            "max_amperage": 16,
                            "last_updated": "2026-01-01T00:00:00Z",
                        }
                    ],
                    "last_updated": "2026-01-01T00:00:00Z",
                }
            ],
            "last_updated": "2026-01-01T00:00:00Z",
        }
    },
}


def _own_credentials(token: str) -> dict[str, Any]:
    return {
        "token": token,
        "url": f"{BASE}/versions",
        "roles": [
            {
                "role": ROLE.upper(),
                "business_details": {"name": f"Extrawest {ROLE.upper()}"},
                "party_id": PARTY_ID,
                "country_code": COUNTRY_CODE,
            }
        ],
    }


class MemoryAuthenticator(Authenticator):
    @classmethod
    async def get_valid_token_c(cls) -> list[str]:
        return list(STORE["token_c"])

    @classmethod
    async def get_valid_token_a(cls) -> list[str]:
        return [TOKEN_A]


def _received_key(id: Any, kwargs: dict[str, Any]) -> str:
    return f"{kwargs.get('country_code')}*{kwargs.get('party_id')}*{id}".lower()


def _keep(module: ModuleID, key: str, data: dict) -> None:
    """The latest object per key, and every push in order under "<module>_log"."""
    STORE["received"].setdefault(module.value, {})[key] = _jsonable(data)
    STORE["received"].setdefault(f"{module.value}_log", []).append(_jsonable(data))


def _token_key(uid: Any, kwargs: dict[str, Any]) -> str:
    token_type = kwargs.get("token_type")
    token_type = getattr(token_type, "value", token_type)
    return f"{kwargs.get('country_code')}*{kwargs.get('party_id')}*{uid}*{token_type}"


class MemoryCrud(Crud):
    @classmethod
    async def get(cls, module: ModuleID, role: RoleEnum, id: Any, *args: Any, **kwargs: Any) -> Any:
        if module == ModuleID.credentials_and_registration:
            return _own_credentials(kwargs.get("auth_token") or id)
        if role == RoleEnum.emsp and module != ModuleID.tokens:
            return STORE["received"].get(module.value, {}).get(_received_key(id, kwargs))
        if module == ModuleID.tokens:
            return STORE["tokens"].get(_token_key(id, kwargs))
        if module == ModuleID.locations:
            return STORE["locations"].get(id)
        if module == ModuleID.commands:
            return {"result": "ACCEPTED"}
        return None

    @classmethod
    async def list(
        cls, module: ModuleID, role: RoleEnum, filters: dict, *args: Any, **kwargs: Any
    ) -> Any:
        if module == ModuleID.locations:
            items = list(STORE["locations"].values())
            return items, len(items), True
        return [], 0, True

    @classmethod
    async def create(
        cls, module: ModuleID, role: RoleEnum, data: dict, *args: Any, **kwargs: Any
    ) -> Any:
        if module == ModuleID.credentials_and_registration:
            STORE["client"] = data
            STORE["client_token"] = data["credentials"]["token"]
            token_c = secrets.token_urlsafe(24)
            STORE["token_c"].append(token_c)
            return _own_credentials(token_c)
        if role == RoleEnum.emsp and module != ModuleID.tokens:
            # py_ocpi passes the auth token where the id goes: key by the object's own id.
            _keep(module, _received_key(data.get("id"), kwargs), data)
            return data
        if module == ModuleID.tokens:
            STORE["tokens"][_token_key(data["uid"], kwargs)] = data
            return data
        return data

    @classmethod
    async def update(
        cls, module: ModuleID, role: RoleEnum, data: dict, id: Any, *args: Any, **kwargs: Any
    ) -> Any:
        if module == ModuleID.tokens:
            STORE["tokens"][_token_key(id, kwargs)] = data
        elif role == RoleEnum.emsp:
            _keep(module, _received_key(id, kwargs), data)
        return data

    @classmethod
    async def delete(
        cls, module: ModuleID, role: RoleEnum, id: Any, *args: Any, **kwargs: Any
    ) -> None:
        if module == ModuleID.credentials_and_registration:
            STORE["client"] = None

    @classmethod
    async def do(
        cls,
        module: ModuleID,
        role: Any,
        action: Action,
        *args: Any,
        data: dict | None = None,
        **kwargs: Any,
    ) -> Any:
        if action == Action.get_client_token:
            return STORE["client_token"]
        if action == Action.send_command:
            body = data if data is not None else (args[0] if args else {})
            command = kwargs.get("command")
            STORE["commands"].append([getattr(command, "value", command), _jsonable(body)])
            return {"result": "ACCEPTED", "timeout": 30}
        return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "value"):
        return value.value
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


MODULES = {
    "cpo": [
        ModuleID.credentials_and_registration,
        ModuleID.locations,
        ModuleID.tokens,
        ModuleID.commands,
    ],
    "emsp": [
        ModuleID.credentials_and_registration,
        ModuleID.locations,
        ModuleID.tariffs,
        ModuleID.sessions,
        ModuleID.cdrs,
        ModuleID.tokens,
        ModuleID.hub_client_info,
    ],
}

app = get_application(
    version_numbers=[VersionNumber.v_2_2_1],
    roles=[RoleEnum(ROLE.upper())],
    crud=MemoryCrud,
    modules=MODULES[ROLE],
    authenticator=MemoryAuthenticator,
)


@app.get("/_store")
async def read_store() -> dict[str, Any]:
    """Test-only: what the peer holds."""
    return _jsonable(STORE)


@app.post("/_store")
async def write_store(request: Request) -> dict[str, Any]:
    """Test-only: set some of the store's keys (e.g. a token_c, the client token)."""
    body = await request.json()
    for key, value in body.items():
        if key == "token_c":
            STORE["token_c"].append(value)
        else:
            STORE[key] = value
    return {"ok": True}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(PORT), log_level="warning")
