"""Outbound OCPI calls to partners: timeouts, retries, SSRF guard, tracing headers."""

from __future__ import annotations

import http.client
import ipaddress
import logging
import select
import socket
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests
from flask import current_app

from app.core.db import json_dumps, json_loads
from app.ocpi.errors import PartnerCallFailed, PartnerTimeout, UnsafeUrl
from app.ocpi.transport import encode_token

log = logging.getLogger("plugpool.ocpi.client")
_local = threading.local()
_PORTS = {"http": 80, "https": 443}


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


# Relays kept alive per thread: at most this many receivers' connections (least recent go).
RELAY_HOSTS = 10
# Methods a relay sends once more when the connection broke before any answer came.
RESENT_METHODS = frozenset({"GET", "PUT", "DELETE"})


class _Relays(threading.local):
    """This thread's keep-alive connections to receivers, most recently used last."""

    def __init__(self) -> None:
        self.connections: OrderedDict[tuple[str, str, int], http.client.HTTPConnection] = (
            OrderedDict()
        )

    def take(self, scheme: str, host: str, port: int, timeout: float) -> Any:
        """A connection to the host: the kept one, or a new one (not connected yet)."""
        key = (scheme, host, port)
        connection = self.connections.pop(key, None)
        if connection is None:
            kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            connection = kind(host, port, timeout=timeout)
        connection.timeout = timeout
        if connection.sock is not None and _dropped(connection.sock):
            connection.close()  # the receiver closed it while idle: a new one, not a resend
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        self.connections[key] = connection
        while len(self.connections) > RELAY_HOSTS:
            self.connections.popitem(last=False)[1].close()
        return connection

    def drop(self, scheme: str, host: str, port: int) -> None:
        connection = self.connections.pop((scheme, host, port), None)
        if connection is not None:
            connection.close()


_relays = _Relays()


def _dropped(sock: socket.socket) -> bool:
    """An idle kept connection the peer has closed (or written to unasked): it reads ready."""
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


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
        # Relaying is the hub's hot path: http.client on a kept connection per thread and
        # receiver costs a fraction of a pooled urllib3 call; the answer is passed on untouched.
        parts = urlsplit(url)
        address = (parts.scheme, parts.hostname or "", parts.port or _PORTS[parts.scheme])
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        for attempt in (1, 2):
            connection = _relays.take(*address, self._timeout)
            try:
                if connection.sock is None:
                    connection.connect()
            except OSError as error:  # refused, unresolvable, timed out: unreachable, not resent
                _relays.drop(*address)
                raise _unreachable(method, url, error) from error
            answered = False
            try:
                connection.request(method, target, body=body, headers=sent)
                reply = connection.getresponse()
                answered = True
                return RelayedReply(reply.status, reply.read(), _joined(reply.getheaders()))
            except ConnectionError as error:
                _relays.drop(*address)
                # Lost before any answer (a kept connection the receiver closed as it was
                # reused): the receiver got nothing, so a GET, PUT or DELETE goes once more on
                # a fresh connection. A POST or PATCH is never resent: it may have been acted on.
                if attempt == 1 and not answered and method in RESENT_METHODS:
                    continue
                raise PartnerCallFailed(f"{method} {url}: {type(error).__name__}") from error
            except (OSError, http.client.HTTPException) as error:
                _relays.drop(*address)
                raise _unreachable(method, url, error) from error
        raise AssertionError("unreachable")  # the second attempt returns or raises

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


def _unreachable(method: str, url: str, error: BaseException) -> PartnerCallFailed:
    """A relay's transport error as the partner-call error it means (a timeout: 4002)."""
    if isinstance(error, TimeoutError):
        return PartnerTimeout(f"{method} {url}: timed out")
    return PartnerCallFailed(f"{method} {url}: {type(error).__name__}")


def _joined(fields: list[tuple[str, str]]) -> dict[str, str]:
    """Answer headers by name, a repeated one's values joined by commas (as HTTP allows)."""
    headers: dict[str, str] = {}
    for name, value in fields:
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


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
