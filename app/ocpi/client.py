"""Outbound OCPI calls to partners: timeouts, retries, SSRF guard, tracing headers."""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests
import urllib3
from flask import current_app
from urllib3.exceptions import ProtocolError
from urllib3.util.retry import Retry

from app.core.db import json_dumps, json_loads
from app.ocpi.errors import PartnerCallFailed, PartnerTimeout, UnsafeUrl
from app.ocpi.transport import encode_token

log = logging.getLogger("plugpool.ocpi.client")
_local = threading.local()


@dataclass
class OcpiResponse:
    """A partner's answer: the envelope fields and the headers that matter."""

    http_status: int
    status_code: int
    data: Any
    status_message: str | None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RelayedReply:
    """A partner's answer kept as it came: status, headers and the raw body."""

    http_status: int
    body: bytes
    headers: dict[str, str]


class StaleConnectionRetry(Retry):
    """Once more when an idempotent relay's connection broke before any answer came.

    That is a pooled keep-alive connection the receiver closed (idle timeout) just as it was
    reused: the receiver got nothing, and a fresh connection is the fix. Timeouts, refused
    connections, broken answers and non-idempotent methods (POST, PATCH) are never resent:
    the receiver may have acted on them.
    """

    def _is_connection_error(self, err: Exception) -> bool:
        return False  # refused / connect timeout: unreachable, no second try

    def _is_read_error(self, err: Exception) -> bool:
        # urllib3 reports a connection lost before the status line as "Connection aborted."
        # (RemoteDisconnected, reset, broken pipe); a body cut short is "Connection broken".
        if not isinstance(err, ProtocolError) or len(err.args) < 2:
            return False
        return err.args[0] == "Connection aborted." and isinstance(err.args[1], ConnectionError)


RELAY_RETRY = StaleConnectionRetry(
    total=1,
    connect=0,
    read=1,
    status=0,
    other=0,
    redirect=0,
    allowed_methods=frozenset({"GET", "PUT", "DELETE"}),
    raise_on_redirect=False,
    raise_on_status=False,
    respect_retry_after_header=False,  # a 503's Retry-After is the sender's to honour
)


def _pool() -> urllib3.PoolManager:
    # Relaying is the hub's hot path: plain urllib3 (keep-alive, one pool per thread) costs a
    # fraction of a requests.Session call; the answer is passed on untouched anyway.
    pool = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = urllib3.PoolManager(maxsize=4, retries=RELAY_RETRY)
    return pool


def _session() -> requests.Session:
    # One keep-alive session per thread: real-time authorisation must not pay a TCP handshake.
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def endpoint_url(url: str, *ids: str) -> str:
    """A partner's endpoint URL exactly as published (a trailing slash kept), or an object
    under it: its ids joined on with one slash each."""
    if not ids:
        return url
    return "/".join([url.rstrip("/"), *(quote(part, safe="") for part in ids)])


def check_url(url: str, allow_insecure: bool) -> None:
    """Refuse plain HTTP and private, loopback or link-local hosts (SSRF) unless allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeUrl(f"not an HTTP(S) URL: {url!r}")
    if allow_insecure:
        return
    if parts.scheme != "https":
        raise UnsafeUrl("partner URLs must use HTTPS")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as error:
        raise UnsafeUrl(f"cannot resolve {parts.hostname}") from error
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise UnsafeUrl(f"{parts.hostname} resolves to a non-public address")


class OcpiClient:
    """Calls one partner with the token it issued to us."""

    def __init__(
        self,
        token: str,
        *,
        raw_token: bool = False,
        to_party: tuple[str, str] | None = None,
        correlation_id: str | None = None,
        timeout: float | None = None,
        from_party: tuple[str, str] | None = None,
    ) -> None:
        config = current_app.config
        self._authorization = encode_token(token, raw_token)
        self._to_party = to_party
        self._correlation_id = correlation_id
        self._timeout = timeout or config["OCPI_HTTP_TIMEOUT"]
        self._retries = config["OCPI_GET_RETRIES"]
        self._allow_insecure = config["OCPI_ALLOW_INSECURE_URLS"]
        self._from_party = from_party or (config["OWN_COUNTRY_CODE"], config["OWN_PARTY_ID"])

    def get(self, url: str, params: dict[str, Any] | None = None) -> OcpiResponse:
        """GET, retried on connection errors and 5xx (GET is safe to repeat)."""
        attempt = 0
        while True:
            try:
                return self._call("GET", url, params=params)
            except PartnerCallFailed as error:
                retriable = error.http_status is None or error.http_status >= 500
                if isinstance(error, UnsafeUrl) or not retriable or attempt >= self._retries:
                    raise
                attempt += 1
                time.sleep(0.2 * attempt)

    def post(
        self, url: str, body: Any = None, params: dict[str, Any] | None = None
    ) -> OcpiResponse:
        """POST once: pushes are never queued or repeated (the partner resyncs by GET)."""
        return self._call("POST", url, body=body, params=params)

    def put(self, url: str, body: Any) -> OcpiResponse:
        """PUT once."""
        return self._call("PUT", url, body=body)

    def patch(self, url: str, body: Any) -> OcpiResponse:
        """PATCH once."""
        return self._call("PATCH", url, body=body)

    def delete(self, url: str) -> OcpiResponse:
        """DELETE once."""
        return self._call("DELETE", url)

    def relay(
        self,
        method: str,
        url: str,
        body: bytes | None,
        headers: dict[str, str],
        params: list[tuple[str, str]] | None = None,
    ) -> RelayedReply:
        """Send a request on someone else's behalf, once, and return the answer untouched.

        headers: the routing and tracing headers to send (our Authorization is added); safe to
        call from worker threads (no application context needed).
        """
        check_url(url, self._allow_insecure)
        sent = {**headers, "Authorization": self._authorization, "Accept": "application/json"}
        if body is not None:
            sent["Content-Type"] = "application/json"
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
        try:
            reply = _pool().request(
                method, url, body=body, headers=sent, timeout=self._timeout, redirect=False
            )
        except (urllib3.exceptions.HTTPError, TimeoutError) as error:
            # Retries used up: urllib3 wraps the last error.
            cause = getattr(error, "reason", None) or error
            raise _relay_failure(method, url, cause) from error
        return RelayedReply(reply.status, reply.data, dict(reply.headers))

    def _headers(self, routed: bool) -> dict[str, str]:
        request_id = str(uuid.uuid4())
        headers = {
            "Authorization": self._authorization,
            "X-Request-ID": request_id,
            "X-Correlation-ID": self._correlation_id or request_id,
            "Accept": "application/json",
        }
        if routed:
            headers["OCPI-from-country-code"], headers["OCPI-from-party-id"] = self._from_party
            if self._to_party:
                headers["OCPI-to-country-code"], headers["OCPI-to-party-id"] = self._to_party
        return headers

    def _call(
        self, method: str, url: str, body: Any = None, params: dict[str, Any] | None = None
    ) -> OcpiResponse:
        check_url(url, self._allow_insecure)
        headers = self._headers(routed=self._to_party is not None)
        data = None
        if body is not None:
            data = json_dumps(body)
            headers["Content-Type"] = "application/json"
        try:
            # No redirect is followed: the guard checked this URL only, and a hop to an internal
            # address (or another host, with our token) is exactly what it must not reach.
            reply = _session().request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            log.warning("OCPI out %s %s failed: %s", method, url, type(error).__name__)
            raise PartnerCallFailed(f"{method} {url}: {type(error).__name__}") from error
        log.info(
            "OCPI out %s %s -> %s request_id=%s",
            method,
            url,
            reply.status_code,
            headers["X-Request-ID"],
        )
        return _parse(method, url, reply)


def _relay_failure(method: str, url: str, error: BaseException) -> PartnerCallFailed:
    """A relay's transport error as the partner-call error it means."""
    if isinstance(error, urllib3.exceptions.NewConnectionError):
        # Refused or unresolvable: unreachable (urllib3 files it under connect timeouts).
        return PartnerCallFailed(f"{method} {url}: {type(error).__name__}")
    if isinstance(error, urllib3.exceptions.TimeoutError | TimeoutError):
        return PartnerTimeout(f"{method} {url}: timed out")
    return PartnerCallFailed(f"{method} {url}: {type(error).__name__}")


def _parse(method: str, url: str, reply: requests.Response) -> OcpiResponse:
    if reply.is_redirect:
        raise PartnerCallFailed(
            f"{method} {url}: HTTP {reply.status_code} redirect, not followed", reply.status_code
        )
    try:
        body = json_loads(reply.content)
    except ValueError as error:
        raise PartnerCallFailed(
            f"{method} {url}: HTTP {reply.status_code}, not JSON", reply.status_code
        ) from error
    if not isinstance(body, dict) or not isinstance(body.get("status_code"), int):
        raise PartnerCallFailed(f"{method} {url}: no OCPI envelope", reply.status_code)
    response = OcpiResponse(
        http_status=reply.status_code,
        status_code=body["status_code"],
        data=body.get("data"),
        status_message=body.get("status_message"),
        headers=dict(reply.headers),
    )
    if reply.status_code >= 300 or not 1000 <= response.status_code < 2000:
        raise PartnerCallFailed(
            f"{method} {url}: HTTP {reply.status_code}, OCPI {response.status_code} "
            f"{response.status_message or ''}".strip(),
            reply.status_code,
            response.status_code,
        ) from None
    return response
