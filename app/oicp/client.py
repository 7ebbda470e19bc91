"""Outbound OICP calls to Hubject: HTTPS with PlugPool's client certificate (mutual TLS)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import orjson
import requests
from flask import current_app
from marshmallow import Schema, ValidationError

from app.oicp.errors import HubjectCallFailed
from app.oicp.schemas import loading

log = logging.getLogger("plugpool.oicp.client")
_local = threading.local()


@dataclass(frozen=True)
class TlsSettings:
    """Where Hubject is and how we prove who we are."""

    base_url: str
    client_cert: str
    client_key: str
    ca_bundle: str
    timeout: float

    @classmethod
    def from_config(cls, config: Any) -> TlsSettings:
        """Read the OICP_* settings."""
        return cls(
            base_url=str(config["OICP_BASE_URL"]).rstrip("/"),
            client_cert=str(config["OICP_CLIENT_CERT"]),
            client_key=str(config["OICP_CLIENT_KEY"]),
            ca_bundle=str(config["OICP_CA_BUNDLE"]),
            timeout=float(config["OICP_HTTP_TIMEOUT"]),
        )


def _session(settings: TlsSettings) -> requests.Session:
    # One keep-alive session per thread and settings: a TLS handshake per call would eat
    # into the 10-second budget of authorisation.
    key = (settings.client_cert, settings.client_key, settings.ca_bundle)
    cached = getattr(_local, "sessions", None)
    if cached is None:
        cached = _local.sessions = {}
    session = cached.get(key)
    if session is None:
        session = cached[key] = requests.Session()
    return session


class HubjectClient:
    """POSTs OICP messages to Hubject and checks the answers against our schemas."""

    def __init__(self, settings: TlsSettings | None = None) -> None:
        self.settings = settings or TlsSettings.from_config(current_app.config)

    def post(
        self,
        path: str,
        body: dict[str, Any],
        answer: type[Schema],
        params: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """POST `body` to `path` under the base URL; return the validated answer."""
        url = f"{self.settings.base_url}/{path.lstrip('/')}"
        try:
            reply = _session(self.settings).post(
                url,
                data=orjson.dumps(body, default=_default),
                headers={"Content-Type": "application/json", "Accept": "application/json"},
                params=params,
                timeout=timeout or self.settings.timeout,
                # Per request: requests lets REQUESTS_CA_BUNDLE override a Session's verify.
                verify=self.settings.ca_bundle or True,
                cert=self._cert(),
            )
        except requests.RequestException as error:
            raise HubjectCallFailed(f"{path}: {type(error).__name__}: {error}") from error
        if reply.status_code != 200:
            raise HubjectCallFailed(f"{path}: HTTP {reply.status_code}")
        try:
            return loading.load(answer, orjson.loads(reply.content))
        except (orjson.JSONDecodeError, ValidationError) as error:
            raise HubjectCallFailed(f"{path}: invalid answer: {error}") from error

    def _cert(self) -> tuple[str, str] | str | None:
        if not self.settings.client_cert:
            return None
        if self.settings.client_key:
            return (self.settings.client_cert, self.settings.client_key)
        return self.settings.client_cert

    def acknowledged(self, path: str, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """POST and require an Acknowledgement with Result true (else HubjectCallFailed)."""
        from app.oicp.schemas.common import Acknowledgement

        ack = self.post(path, body, Acknowledgement, **kwargs)
        if not ack["Result"]:
            code = ack["StatusCode"]["Code"]
            text = ack["StatusCode"].get("Description") or ""
            raise HubjectCallFailed(f"{path}: refused with {code} {text}".strip(), code)
        return ack


def _default(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value).__name__)
