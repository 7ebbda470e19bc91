"""The WebSocket server: handshake checks before the upgrade, one link per station, local commands.

TLS (OCPP security profile 2) ends either in a proxy in front or, with `tls_cert` and
`tls_key`, in the gateway itself; with `tls_client_ca` stations may instead present a
client certificate signed by that CA (profile 3), whose subject CN or a SAN must be the
station id. See `app/gateway/README.md`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import http
import logging
import re
import secrets
import ssl
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit
from weakref import WeakKeyDictionary, WeakValueDictionary

from redis.exceptions import RedisError
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidHeader, NegotiationError
from websockets.headers import parse_subprotocol
from websockets.http11 import Request, Response

from app.gateway.bus import CommandBus
from app.gateway.commands import Command, CommandResult
from app.gateway.connection import StationConnection
from app.gateway.errors import CommandFailed, CommandTimeout, StationOffline
from app.gateway.keepalive import Keepalive
from app.gateway.limits import KeyedTokenBucket, retry_after
from app.gateway.metrics import COMMANDS, serve_metrics
from app.gateway.ports import AuthOutcome, OcppVersion, StationAuth, StationPort
from app.gateway.protocol import StationLink
from app.gateway.v16 import StationV16
from app.gateway.v201 import StationV201

log = logging.getLogger(__name__)

PATH_PREFIX = "/ocpp/"
# OCPP-J 2.0.1 part 4 limits the identity to 48 of these characters; 1.6 ids fit too.
STATION_ID = re.compile(r"[A-Za-z0-9*\-_=:+|@.]{1,48}")
LINK_CLASSES: dict[OcppVersion, type[StationLink]] = {
    OcppVersion.V16: StationV16,
    OcppVersion.V201: StationV201,
}


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """Network and protocol limits of one gateway process."""

    host: str = "127.0.0.1"
    port: int = 9000
    max_frame_bytes: int = 256 * 1024  # OCPP frames are small; a bigger one is abuse
    ping_interval: float | None = 30.0
    ping_timeout: float | None = 30.0
    open_timeout: float = 10.0  # the whole handshake, TLS excluded (terminated in front)
    close_timeout: float = 5.0
    response_timeout: float = 30.0  # how long a station may take to answer our CALL
    recent_ids: int = 32  # message ids remembered per connection for duplicate detection
    port_threads: int = 32  # blocking port calls of connected stations in flight at once
    # Password checks (Argon2, a DB read) run in their own pool: a reconnect storm after a
    # restart then cannot hold up the messages of the stations already connected.
    handshake_threads: int = 8
    # Handshakes waiting for that pool at most; more get 503 with Retry-After at once. A
    # connection held open past open_timeout would be closed without an answer instead,
    # which a proxy counts as a failed node: in a reconnect storm it would take every node
    # out of its upstream (nginx "no live upstreams") and turn the storm into an outage.
    handshake_backlog: int = 64
    # Handshakes allowed per client address and per station id: a burst, then a rate per
    # second (0 turns a limit off). They are checked before the password, so a flood costs
    # no Argon2 work; the excess gets 429 with Retry-After.
    ip_connect_rate: float = 5.0
    ip_connect_burst: int = 100
    station_connect_rate: float = 0.1
    station_connect_burst: int = 10
    # Peers (the TLS proxy) whose X-Forwarded-For names the client address.
    trusted_proxies: frozenset[str] = frozenset()
    # Refusals on one connection that raise a security event (0: never), and whether the
    # connection is then closed (1008) as well.
    violation_limit: int = 20
    disconnect_on_violations: bool = False
    # TLS in the gateway itself (PEM files); unset: plain ws:// (TLS ends in a proxy).
    tls_cert: str | None = None
    tls_key: str | None = None
    # Profile 3: the CA that signs stations' client certificates. A station presenting one
    # needs no password; with tls_require_client_cert every station must present one.
    tls_client_ca: str | None = None
    tls_require_client_cert: bool = False
    # Prometheus /metrics of this process on its own port (-1: off, 0: any free port).
    metrics_port: int = -1
    # `python -m app.gateway` freezes the heap's survivors every half second and collects
    # fully once connection churn (opened + closed) passed heap_churn_share of the open
    # connections or the frozen heap grew by heap_growth, after churn has been quiet for
    # heap_settle_seconds (0: no keeper). See app.gateway.heap.
    heap_churn_share: float = 0.1
    heap_growth: float = 0.25
    heap_settle_seconds: float = 5.0
    # Seconds a busy loop lets ready sockets gather before it polls again (0: poll at once).
    # Used by `python -m app.gateway`; see app.gateway.poll.
    batch_pause: float = 0.001


@dataclass(frozen=True, slots=True)
class Admission:
    """The outcome of a successful handshake check, kept until the connection starts."""

    station_id: str
    version: OcppVersion
    subprotocol: str | None
    accepted_before: bool = False


def station_from_path(path: str) -> str | None:
    """Return the station id of an `/ocpp/<station_id>` path, or None for other paths."""
    route = urlsplit(path).path
    if not route.startswith(PATH_PREFIX):
        return None
    station_id = unquote(route[len(PATH_PREFIX) :])
    return station_id if station_id and "/" not in station_id else None


def basic_credentials(headers: Headers) -> tuple[str | None, str | None]:
    """Return (username, password) from a Basic Authorization header, or (None, None)."""
    value = headers.get("Authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else (None, None)


def offered_subprotocols(headers: Headers) -> list[str]:
    """Return the subprotocols a client offers, in its order."""
    offered: list[str] = []
    try:
        for value in headers.get_all("Sec-WebSocket-Protocol"):
            offered.extend(parse_subprotocol(value))
    except InvalidHeader:
        return []
    return offered


def negotiate(offered: list[str], auth: StationAuth) -> Admission | None:
    """Pick the station's most preferred version the client offers (station id set later)."""
    for version in auth.protocols:
        if version.value in offered:
            return Admission("", version, version.value)
    if not offered and auth.allow_missing_subprotocol and OcppVersion.V16 in auth.protocols:
        return Admission("", OcppVersion.V16, None)  # old 1.6 firmware that sends no header
    return None


class Gateway:
    """Holds the live station links of this process and checks every handshake."""

    def __init__(self, port: StationPort, bus: CommandBus, config: GatewayConfig) -> None:
        self.port = port
        self.bus = bus
        self.config = config
        self.links: dict[str, StationLink] = {}
        self.server: Server | None = None
        self.metrics_port: int | None = None  # bound port of /metrics, when served
        self.executor = ThreadPoolExecutor(config.port_threads, thread_name_prefix="gateway-port")
        self.handshake_executor = ThreadPoolExecutor(
            config.handshake_threads, thread_name_prefix="gateway-handshake"
        )
        self._admissions: WeakKeyDictionary[ServerConnection, Admission] = WeakKeyDictionary()
        self._handshakes_waiting = 0
        self._ip_limit = KeyedTokenBucket(config.ip_connect_rate, config.ip_connect_burst)
        self._station_limit = KeyedTokenBucket(
            config.station_connect_rate, config.station_connect_burst
        )
        # One lock a station while its connections come and go, so that the port and the
        # bus learn "online" and "offline" in the order the connections really changed.
        self._station_locks: WeakValueDictionary[str, asyncio.Lock] = WeakValueDictionary()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.churn = 0  # connections opened plus closed since start (app.gateway.heap reads it)

    def connections(self) -> list[StationConnection]:
        """The open connections of the stations held here."""
        return [link._connection for link in self.links.values()]  # type: ignore[attr-defined]

    @property
    def bound_port(self) -> int:
        """Return the TCP port the server listens on (useful with port 0)."""
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        """Refuse the upgrade unless the station is known, authenticated and speaks our OCPP."""
        station_id = station_from_path(request.path)
        if station_id is None:
            return reject(connection, http.HTTPStatus.NOT_FOUND, "no such path", request.path)
        if not STATION_ID.fullmatch(station_id):
            return reject(connection, http.HTTPStatus.BAD_REQUEST, "invalid station id", station_id)
        throttled = self._throttle(connection, request, station_id)
        if throttled is not None:
            return throttled
        certified = certificate_identities(connection)
        if certified is not None and station_id not in certified:
            return reject(
                connection, http.HTTPStatus.FORBIDDEN, "certificate of another station", station_id
            )
        if self._handshakes_waiting >= self.config.handshake_backlog:
            response = reject(
                connection, http.HTTPStatus.SERVICE_UNAVAILABLE, "handshake backlog", station_id
            )
            # Spread the retries, so the next wave does not arrive all at once.
            response.headers["Retry-After"] = str(1 + secrets.randbelow(5))
            return response
        username, password = basic_credentials(request.headers)
        secret = password if username == station_id else None
        loop = asyncio.get_running_loop()
        self._handshakes_waiting += 1
        try:
            auth = await loop.run_in_executor(
                self.handshake_executor,
                self.port.authenticate,
                station_id,
                secret,
                certified is not None,
            )
        finally:
            self._handshakes_waiting -= 1
        if auth.outcome is AuthOutcome.UNKNOWN:
            return reject(connection, http.HTTPStatus.NOT_FOUND, "unknown station", station_id)
        if auth.outcome is not AuthOutcome.OK:
            response = reject(
                connection, http.HTTPStatus.UNAUTHORIZED, "bad credentials", station_id
            )
            response.headers["WWW-Authenticate"] = 'Basic realm="PlugPool OCPP", charset="UTF-8"'
            return response
        admission = negotiate(offered_subprotocols(request.headers), auth)
        if admission is None:
            return reject(
                connection, http.HTTPStatus.BAD_REQUEST, "no supported subprotocol", station_id
            )
        self._admissions[connection] = Admission(
            station_id, admission.version, admission.subprotocol, auth.accepted_before
        )
        return None

    def _throttle(
        self, connection: ServerConnection, request: Request, station_id: str
    ) -> Response | None:
        """Refuse with 429 a client address or station id past its connect rate."""
        client = client_address(connection, request.headers, self.config.trusted_proxies)
        for limit, key, what in (
            (self._ip_limit, client, "too many connections from this address"),
            (self._station_limit, station_id, "too many connections for this station"),
        ):
            wait = limit.take(key)
            if wait:
                response = reject(connection, http.HTTPStatus.TOO_MANY_REQUESTS, what, station_id)
                response.headers["Retry-After"] = retry_after(wait)
                return response
        return None

    def select_subprotocol(self, connection: ServerConnection, offered: Any) -> str | None:
        """Answer with the subprotocol chosen in `process_request`."""
        admission = self._admissions.get(connection)
        if admission is None:
            raise NegotiationError("handshake was not admitted")
        return admission.subprotocol

    async def handle(self, connection: ServerConnection) -> None:
        """Serve one station's connection until it closes."""
        admission = self._admissions.pop(connection)
        link = self._open_link(admission, connection)
        self.churn += 1
        # A station accepted at an earlier boot resends its queue at once on reconnect.
        link.accepted = admission.accepted_before
        try:
            async with self._station_lock(link.id):
                await self._in_thread(
                    self.port.connection_changed, link.id, True, admission.version
                )
                link.claim = await self.bus.attach(link.id)
            if link.accepted:
                link.announce_ready()
            await link.start()  # type: ignore[attr-defined]
        except ConnectionClosed:
            pass
        finally:
            self.churn += 1
            await self._close_link(link, admission)

    def _open_link(self, admission: Admission, connection: ServerConnection) -> StationLink:
        """Create the station's link and replace (close) an older connection of the same station."""
        link = LINK_CLASSES[admission.version](
            admission.station_id,
            connection,
            port=self.port,
            executor=self.executor,
            response_timeout=self.config.response_timeout,
            recent_ids=self.config.recent_ids,
            violation_limit=self.config.violation_limit,
            disconnect_on_violations=self.config.disconnect_on_violations,
        )
        previous = self.links.get(admission.station_id)
        self.links[admission.station_id] = link
        if previous is not None:
            log.info("%s: a new connection replaces the previous one", admission.station_id)
            self._spawn(previous.close(1000, "replaced by a newer connection"))
        log.info("%s: connected with %s", admission.station_id, admission.version.value)
        return link

    async def _close_link(self, link: StationLink, admission: Admission) -> None:
        """Forget a closed link; a replaced link leaves its successor's state alone."""
        await self._settle_commands(link)
        async with self._station_lock(link.id):
            if self.links.get(link.id) is not link:
                return
            del self.links[link.id]
            log.info("%s: disconnected", link.id)
            try:
                await self.bus.detach(link.id)
            except RedisError as error:  # the presence key expires by itself (its TTL)
                log.warning("%s: presence not released: %s", link.id, error)
            await self._in_thread(self.port.connection_changed, link.id, False, admission.version)

    async def _settle_commands(self, link: StationLink) -> None:
        """Fail the commands still waiting for an answer now (not at response_timeout); let
        those whose answer arrived before the close finish: the answer wins."""
        answered = []
        for task in list(link.commands):
            if link.answered(task):
                answered.append(task)
            else:
                task.cancel()
        if answered:
            await asyncio.wait(answered, timeout=self.config.close_timeout)
            for task in answered:
                task.cancel()  # no-op when done; bounds a stuck one

    def _station_lock(self, station_id: str) -> asyncio.Lock:
        """Return the station's connect/disconnect lock (kept while anyone holds a reference)."""
        lock = self._station_locks.get(station_id)
        if lock is None:
            lock = self._station_locks[station_id] = asyncio.Lock()
        return lock

    async def execute(self, station_id: str, command: Command, timeout: float) -> CommandResult:
        """Send a command to a station held by this process and wait up to `timeout` seconds."""
        link = self.links.get(station_id)
        if link is None:
            raise StationOffline(f"{station_id} is not connected")
        # The CALL runs in its own task that is never cancelled by a caller's timeout:
        # cancelling cp.call would leave its late reply in the response queue (notes pitfall 2).
        task = asyncio.create_task(link.execute(command))
        link.commands.add(task)
        task.add_done_callback(_finish_command(link))
        name, started = type(command).__name__, time.perf_counter()
        try:
            result = await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            COMMANDS.observe(name, "Timeout", time.perf_counter() - started)
            raise CommandTimeout(f"{station_id} did not answer within {timeout}s") from None
        except CommandTimeout:
            COMMANDS.observe(name, "Timeout", time.perf_counter() - started)
            raise
        except CommandFailed:
            COMMANDS.observe(name, "CallError", time.perf_counter() - started)
            raise
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task.cancelled() and current is not None and not current.cancelling():
                raise StationOffline(f"{station_id} disconnected before answering") from None
            raise
        COMMANDS.observe(name, result.status, time.perf_counter() - started)
        return result

    async def evict(self, station_id: str, claim: int | None = None) -> None:
        """Close this process's connection of a station that connected to another node since.

        `claim` numbers the other node's connection; a connection here claimed after it (or
        still claiming) is newer and stays: the eviction is late, the station came back.
        """
        link = self.links.get(station_id)
        if link is None:
            return
        if claim is not None and (link.claim is None or link.claim > claim):
            log.info("%s: ignored an eviction older than this connection", station_id)
            return
        log.info("%s: connected to another node; closing it here", station_id)
        await link.close(1000, "connected to another gateway node")

    async def _in_thread(self, method: Any, *args: Any) -> Any:
        """Run a blocking port method in the port thread pool."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, method, *args)

    def _spawn(self, coro: Any) -> None:
        """Run a background coroutine, keeping a reference until it ends."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _finish_command(link: StationLink) -> Any:
    """Return a done-callback that forgets a command task and logs an unread failure."""

    def done(task: asyncio.Task[CommandResult]) -> None:
        link.commands.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("%s: command ended with %r", link.id, task.exception())

    return done


def certificate_identities(connection: ServerConnection) -> frozenset[str] | None:
    """Return the names a verified client certificate carries (subject CN, SAN DNS/URI
    entries), or None when the station presented none (or the connection is not TLS)."""
    transport = getattr(connection, "transport", None)
    peer = transport.get_extra_info("peercert") if transport is not None else None
    if not peer:
        return None  # the TLS layer verified any certificate against the CA before this
    names = {value for rdn in peer.get("subject", ()) for key, value in rdn if key == "commonName"}
    names |= {value for kind, value in peer.get("subjectAltName", ()) if kind in {"DNS", "URI"}}
    return frozenset(names)


def tls_context(config: GatewayConfig) -> ssl.SSLContext | None:
    """Build the server's TLS context (TLS 1.2 or newer, as OCPP's security profiles ask)."""
    if not config.tls_cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(config.tls_cert, config.tls_key or None)
    if config.tls_client_ca:
        context.load_verify_locations(cafile=config.tls_client_ca)
        context.verify_mode = (
            ssl.CERT_REQUIRED if config.tls_require_client_cert else ssl.CERT_OPTIONAL
        )
    return context


def client_address(
    connection: ServerConnection, headers: Headers, trusted_proxies: frozenset[str]
) -> str:
    """Return the client's address: the peer's, or the proxy's X-Forwarded-For when trusted."""
    peer = connection.remote_address
    address = str(peer[0]) if peer else ""
    forwarded = headers.get("X-Forwarded-For")
    if forwarded and address in trusted_proxies:
        # The proxy appends the address it saw last; earlier entries are the client's to forge.
        return forwarded.rsplit(",", 1)[-1].strip()
    return address


def reject(
    connection: ServerConnection, status: http.HTTPStatus, why: str, subject: str
) -> Response:
    """Log and build an HTTP refusal of a WebSocket upgrade."""
    log.info(
        "handshake refused (%d %s): %s from %s", status, why, subject, connection.remote_address
    )
    return connection.respond(status, f"{why}\n")


@asynccontextmanager
async def run_gateway(
    port: StationPort, bus: CommandBus, config: GatewayConfig
) -> AsyncIterator[Gateway]:
    """Start the bus and the WebSocket server; stop both (and the port threads) on exit."""
    gateway = Gateway(port, bus, config)
    metrics_server = None
    await bus.start(gateway)
    try:
        async with serve(
            gateway.handle,
            config.host,
            config.port,
            process_request=gateway.process_request,
            select_subprotocol=gateway.select_subprotocol,
            subprotocols=[v.value for v in OcppVersion],  # type: ignore[misc]
            compression=None,  # deflate state costs ~100 KiB per socket; OCPP frames are tiny
            max_size=config.max_frame_bytes,
            create_connection=StationConnection,
            ping_interval=None,  # app.gateway.keepalive pings the quiet stations only
            open_timeout=config.open_timeout,
            close_timeout=config.close_timeout,
            ssl=tls_context(config),
        ) as server:
            gateway.server = server
            if config.ping_interval is not None:
                keepalive = Keepalive(config.ping_interval, config.ping_timeout)
                gateway._spawn(keepalive.run(gateway.connections))
            if config.metrics_port >= 0:
                metrics_server, gateway.metrics_port = serve_metrics(
                    gateway, config.host, config.metrics_port
                )
            yield gateway
    finally:
        if metrics_server is not None:
            metrics_server.shutdown()
            metrics_server.server_close()
        for task in list(gateway._tasks):
            task.cancel()
        await bus.close()
        gateway.executor.shutdown(wait=False, cancel_futures=True)
        gateway.handshake_executor.shutdown(wait=False, cancel_futures=True)
