"""A simulated charger (OCPP 1.6J or 2.0.1) for demos, `make run` and end-to-end tests.

It connects like a real one (Basic auth, subprotocol), boots, reports its connector
Available, sends heartbeats, and charges when remotely started: it accepts
RemoteStartTransaction / RequestStartTransaction, starts a transaction, sends meter values
every `meter_interval` seconds at `power_w`, and stops on RemoteStop / RequestStopTransaction.
It accepts ReserveNow and CancelReservation too. Commands are answered first and acted
on afterwards (`@after`), because calling the CSMS from inside a handler deadlocks.

Like a real charger it keeps charging through a network drop: transaction messages
(MeterValues, StopTransaction; 2.0.1 TransactionEvent, marked `offline`) wait in a queue
until it is back, and a charger that was accepted before reconnects without a new
BootNotification (OCPP 1.6 section 4.2) and sends its queue at once.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import hashlib
import logging
import secrets
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import websockets
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201

from app.gateway.ports import OcppVersion

log = logging.getLogger(__name__)

REGISTER = "Energy.Active.Import.Register"
_random = secrets.SystemRandom()
# What a charger keeps while offline and delivers later (the rest is dropped).
QUEUED_ACTIONS = frozenset({"MeterValues", "StopTransaction", "TransactionEvent"})


@dataclass
class SimulatorConfig:
    """How the simulated charger connects and behaves."""

    station_id: str
    password: str | None
    url: str = "ws://127.0.0.1:9000/ocpp"  # the station id is appended
    protocol: OcppVersion = OcppVersion.V16
    meter_interval: float = 5.0
    power_w: int = 7400
    heartbeat_interval: float = 60.0
    vendor: str = "PlugPool"
    model: str = "Simulator"
    ssl: Any = None  # an ssl.SSLContext for wss:// (security profiles 2 and 3)
    # 2.0.1: sign each energy register sample (OCMF-like, as German Eichrecht meters do).
    signed_meter_values: bool = False
    # Connect from this local address (a loopback alias such as 127.0.3.7): many simulated
    # chargers then look like many sites to a gateway's per-address connect limit.
    source_address: str | None = None


@dataclass
class Meter:
    """The energy register, advanced by elapsed time at the charging power."""

    wh: Decimal = Decimal(0)
    since: datetime | None = None

    def read(self, power_w: int) -> int:
        """Advance the register to now while charging and return it in whole Wh."""
        now = datetime.now(UTC)
        if self.since is not None:
            hours = Decimal(str((now - self.since).total_seconds())) / 3600
            self.wh += Decimal(power_w) * hours
            self.since = now
        return int(self.wh)


@dataclass
class Transaction:
    """The transaction in progress (one connector: one at a time)."""

    id_token: str
    transaction_id: str | int | None = None
    remote_start_id: int | None = None
    seq_no: int = 0
    task: asyncio.Task[None] | None = field(default=None, repr=False)


def now_iso() -> str:
    """Return the current UTC time as OCPP writes it."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class OfflineQueue:
    """Mixin: survive network drops like a real charger (queue, reconnect without booting)."""

    config: SimulatorConfig
    transaction: Transaction | None
    call: Any  # the library's ChargePoint.call
    _connection: Any

    def _init_queue(self) -> None:
        self.online = True
        self.accepted = False  # a BootNotification was answered Accepted (on any connection)
        self.queue: deque[Any] = deque()
        self.receiver: asyncio.Task[None] | None = None
        # (timestamp, Wh) of every register sample the charger took for a transaction: what
        # the CSMS must end up storing once each, to compare with after a failover.
        self.sampled: list[tuple[str, int]] = []

    async def send(self, request: Any) -> Any:
        """Send a CALL and return the answer; offline, queue a transaction message (None).

        A message whose answer never came (the connection died under it) is queued too: the
        CSMS may or may not have stored it, so it is resent and the CSMS must store it once.
        """
        if self.online:
            try:
                return await self._call_while_connected(request)
            except (websockets.ConnectionClosed, TimeoutError):
                self.online = False
        if type(request).__name__ in QUEUED_ACTIONS:
            self.queue.append(self._offline_copy(request))
        return None

    async def _call_while_connected(self, request: Any) -> Any:
        """Call, but give up as soon as the connection is gone (not after the 30 s timeout)."""
        receiver = self.receiver
        call = asyncio.ensure_future(self.call(request))
        if receiver is None:
            return await call
        try:
            await asyncio.wait({call, receiver}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            call.cancel()  # the caller gave up: so does the call, as an awaited one would
            raise
        if not call.done():
            call.cancel()
            with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                await call
            raise websockets.ConnectionClosed(None, None)
        return call.result()

    def _offline_copy(self, request: Any) -> Any:
        """Return the request as it is kept offline (2.0.1 marks it `offline`)."""
        return request

    async def flush(self) -> int:
        """Send the queued messages in order (new message ids, as real chargers do)."""
        sent = 0
        while self.queue and self.online:
            await self._call_while_connected(self.queue[0])
            self.queue.popleft()
            sent += 1
        return sent

    def attach(self, connection: Any) -> None:
        """Use a new connection and start receiving on it."""
        self._connection = connection
        self.online = True
        self.receiver = asyncio.create_task(self.start())  # type: ignore[attr-defined]
        self.receiver.add_done_callback(self._receiver_ended)

    def _receiver_ended(self, task: asyncio.Task[None]) -> None:
        """The connection is gone: from now on, queue."""
        if task is self.receiver:
            self.online = False

    async def drop(self) -> None:
        """Lose the connection (the charger keeps running and queues)."""
        self.online = False
        receiver, self.receiver = self.receiver, None
        if receiver is not None:
            receiver.cancel()
        await self._connection.close()
        if receiver is not None:
            with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                await receiver

    def halt(self) -> None:
        """Stop the charger's own tasks (metering)."""
        if self.transaction is not None and self.transaction.task is not None:
            self.transaction.task.cancel()


class Simulated16(OfflineQueue, ChargePoint16):
    """The 1.6J simulated charger."""

    def __init__(self, config: SimulatorConfig, connection: Any) -> None:
        super().__init__(config.station_id, connection, response_timeout=30)
        self.config = config
        self.meter = Meter()
        self.transaction: Transaction | None = None
        self.commands: list[str] = []
        self._init_queue()

    async def boot(self) -> str:
        """Send BootNotification and the connector's status; return the registration status."""
        reply = await self.call(
            call16.BootNotification(
                charge_point_vendor=self.config.vendor, charge_point_model=self.config.model
            )
        )
        self.accepted = reply.status == "Accepted"
        if self.accepted:
            await self._status("Available")
        return str(reply.status)

    async def heartbeat(self) -> None:
        """Send one Heartbeat."""
        await self.send(call16.Heartbeat())

    @on("RemoteStartTransaction")
    def on_remote_start(self, id_tag: str, **extra: Any) -> result16.RemoteStartTransaction:
        """Accept a remote start when idle."""
        self.commands.append("RemoteStartTransaction")
        busy = self.transaction is not None
        return result16.RemoteStartTransaction(status="Rejected" if busy else "Accepted")

    @after("RemoteStartTransaction")
    async def start_after_remote(self, id_tag: str, **extra: Any) -> None:
        """Start charging for the token the CSMS named."""
        if self.transaction is None:
            await self.start_charging(id_tag)

    @on("RemoteStopTransaction")
    def on_remote_stop(self, transaction_id: int) -> result16.RemoteStopTransaction:
        """Accept a stop of the running transaction."""
        self.commands.append("RemoteStopTransaction")
        running = self.transaction is not None and self.transaction.transaction_id == transaction_id
        return result16.RemoteStopTransaction(status="Accepted" if running else "Rejected")

    @after("RemoteStopTransaction")
    async def stop_after_remote(self, transaction_id: int) -> None:
        """Stop charging."""
        if self.transaction is not None and self.transaction.transaction_id == transaction_id:
            await self.stop_charging("Remote")

    @on("ReserveNow")
    def on_reserve_now(self, **payload: Any) -> result16.ReserveNow:
        """Accept a reservation."""
        self.commands.append("ReserveNow")
        return result16.ReserveNow(status="Accepted")

    @on("CancelReservation")
    def on_cancel_reservation(self, **payload: Any) -> result16.CancelReservation:
        """Accept a cancellation."""
        self.commands.append("CancelReservation")
        return result16.CancelReservation(status="Accepted")

    @on("ChangeConfiguration")
    def on_change_configuration(self, **payload: Any) -> result16.ChangeConfiguration:
        """Accept configuration changes (password rotation included)."""
        self.commands.append("ChangeConfiguration")
        return result16.ChangeConfiguration(status="Accepted")

    async def start_charging(self, id_tag: str) -> None:
        """Start a transaction and keep sending meter values until it stops."""
        self.transaction = Transaction(id_tag)
        await self._status("Preparing")
        reply = await self.call(
            call16.StartTransaction(
                connector_id=1, id_tag=id_tag, meter_start=self.meter.read(0), timestamp=now_iso()
            )
        )
        if reply is None or reply.id_tag_info["status"] != "Accepted":
            self.transaction = None  # refused, or offline: 1.6 needs the CSMS's transaction id
            await self._status("Available")
            return
        self.transaction.transaction_id = reply.transaction_id
        self.meter.since = datetime.now(UTC)
        await self._status("Charging")
        self.transaction.task = asyncio.create_task(self._metering(reply.transaction_id))

    async def stop_charging(self, reason: str = "Local") -> None:
        """Stop the running transaction."""
        transaction = self.transaction
        if transaction is None:
            return
        if transaction.task is not None:
            transaction.task.cancel()
        wh = self.meter.read(self.config.power_w)
        self.meter.since = None
        await self.send(
            call16.StopTransaction(
                meter_stop=wh,
                timestamp=now_iso(),
                transaction_id=int(transaction.transaction_id or 0),
                reason=reason,
            )
        )
        self.transaction = None
        await self._status("Available")

    async def _metering(self, transaction_id: int) -> None:
        """Send the energy register every meter_interval seconds."""
        while True:
            await asyncio.sleep(self.config.meter_interval)
            wh = self.meter.read(self.config.power_w)
            sample = {"value": str(wh), "measurand": REGISTER, "unit": "Wh"}
            stamp = now_iso()
            self.sampled.append((stamp, wh))
            request = call16.MeterValues(
                connector_id=1,
                transaction_id=transaction_id,
                meter_value=[{"timestamp": stamp, "sampled_value": [sample]}],
            )
            # A stop cancels this task: the sample taken goes out (or into the queue) anyway.
            await asyncio.shield(self.send(request))

    async def _status(self, status: str) -> None:
        """Report connector 1's status."""
        await self.send(call16.StatusNotification(1, "NoError", status, timestamp=now_iso()))


class Simulated201(OfflineQueue, ChargePoint201):
    """The 2.0.1 simulated charging station (one EVSE with one connector)."""

    def __init__(self, config: SimulatorConfig, connection: Any) -> None:
        super().__init__(config.station_id, connection, response_timeout=30)
        self.config = config
        self.meter = Meter()
        self.transaction: Transaction | None = None
        self.commands: list[str] = []
        self._init_queue()

    def _offline_copy(self, request: Any) -> Any:
        """A TransactionEvent sent late carries offline=true."""
        if isinstance(request, call201.TransactionEvent):
            return dataclasses.replace(request, offline=True)
        return request

    async def boot(self) -> str:
        """Send BootNotification and the connector's status; return the registration status."""
        station = {"vendor_name": self.config.vendor, "model": self.config.model}
        reply = await self.call(
            call201.BootNotification(charging_station=station, reason="PowerUp")
        )
        self.accepted = reply.status == "Accepted"
        if self.accepted:
            await self._status("Available")
        return str(reply.status)

    async def heartbeat(self) -> None:
        """Send one Heartbeat."""
        await self.send(call201.Heartbeat())

    @on("RequestStartTransaction")
    def on_request_start(
        self, id_token: dict[str, Any], remote_start_id: int, **extra: Any
    ) -> result201.RequestStartTransaction:
        """Accept a remote start when idle."""
        self.commands.append("RequestStartTransaction")
        busy = self.transaction is not None
        return result201.RequestStartTransaction(status="Rejected" if busy else "Accepted")

    @after("RequestStartTransaction")
    async def start_after_request(
        self, id_token: dict[str, Any], remote_start_id: int, **extra: Any
    ) -> None:
        """Start charging for the token the CSMS named."""
        if self.transaction is None:
            await self.start_charging(id_token["id_token"], id_token["type"], remote_start_id)

    @on("RequestStopTransaction")
    def on_request_stop(self, transaction_id: str) -> result201.RequestStopTransaction:
        """Accept a stop of the running transaction."""
        self.commands.append("RequestStopTransaction")
        running = self.transaction is not None and self.transaction.transaction_id == transaction_id
        return result201.RequestStopTransaction(status="Accepted" if running else "Rejected")

    @after("RequestStopTransaction")
    async def stop_after_request(self, transaction_id: str) -> None:
        """Stop charging."""
        if self.transaction is not None and self.transaction.transaction_id == transaction_id:
            await self.stop_charging("Remote")

    @on("ReserveNow")
    def on_reserve_now(self, **payload: Any) -> result201.ReserveNow:
        """Accept a reservation."""
        self.commands.append("ReserveNow")
        return result201.ReserveNow(status="Accepted")

    @on("CancelReservation")
    def on_cancel_reservation(self, **payload: Any) -> result201.CancelReservation:
        """Accept a cancellation."""
        self.commands.append("CancelReservation")
        return result201.CancelReservation(status="Accepted")

    async def start_charging(
        self,
        id_token: str,
        token_type: str = "Central",  # noqa: S107 - an OCPP IdToken type, not a secret
        remote_start_id: int | None = None,
    ) -> None:
        """Start a transaction and keep sending meter values until it stops."""
        transaction = Transaction(id_token, uuid.uuid4().hex, remote_start_id)
        self.transaction = transaction
        self.meter.since = datetime.now(UTC)
        reply = await self._event(
            "Started", "RemoteStart", context="Transaction.Begin", charging_state="Charging",
            id_token={"id_token": id_token, "type": token_type},
        )  # fmt: skip
        info = (reply.id_token_info if reply is not None else None) or {}
        if info.get("status") not in (None, "Accepted"):
            self.meter.read(self.config.power_w)
            self.meter.since = None
            await self._event("Ended", "Deauthorized", context="Transaction.End",
                              stopped_reason="DeAuthorized")  # fmt: skip
            self.transaction = None
            return
        await self._status("Occupied")
        transaction.task = asyncio.create_task(self._metering())

    async def stop_charging(self, reason: str = "Local") -> None:
        """End the running transaction."""
        transaction = self.transaction
        if transaction is None:
            return
        if transaction.task is not None:
            transaction.task.cancel()
        trigger = "RemoteStop" if reason == "Remote" else "StopAuthorized"
        await self._event("Ended", trigger, context="Transaction.End", stopped_reason=reason)
        self.meter.since = None
        self.transaction = None
        await self._status("Available")

    async def _metering(self) -> None:
        """Send the energy register every meter_interval seconds."""
        while True:
            await asyncio.sleep(self.config.meter_interval)
            # A stop cancels this task: the sample taken goes out (or into the queue) anyway.
            await asyncio.shield(
                self._event("Updated", "MeterValuePeriodic", context="Sample.Periodic")
            )

    async def _event(
        self, kind: str, trigger: str, context: str, **info: Any
    ) -> result201.TransactionEvent | None:
        """Send (or, offline, queue) a TransactionEvent of the running transaction."""
        transaction = self.transaction
        assert transaction is not None
        id_token = info.pop("id_token", None)
        wh = self.meter.read(self.config.power_w)
        sample: dict[str, Any] = {"value": wh, "measurand": REGISTER, "context": context}
        if self.config.signed_meter_values:
            sample["signed_meter_value"] = signed_sample(self.config.station_id, wh, context)
        transaction_info: dict[str, Any] = {"transaction_id": transaction.transaction_id, **info}
        if transaction.remote_start_id is not None:
            transaction_info["remote_start_id"] = transaction.remote_start_id
        stamp = now_iso()
        self.sampled.append((stamp, wh))
        request = call201.TransactionEvent(
            event_type=kind,
            timestamp=stamp,
            trigger_reason=trigger,
            seq_no=transaction.seq_no,
            transaction_info=transaction_info,
            evse={"id": 1, "connector_id": 1},
            id_token=id_token,
            meter_value=[{"timestamp": stamp, "sampled_value": [sample]}],
        )
        transaction.seq_no += 1
        return await self.send(request)

    async def _status(self, status: str) -> None:
        """Report EVSE 1 connector 1's status."""
        await self.send(call201.StatusNotification(now_iso(), status, 1, 1))


Simulated = Simulated16 | Simulated201
SIMULATED_PUBLIC_KEY = "3059301306072A8648CE3D020106082A8648CE3D03010703420004SIMULATED"


def signed_sample(station_id: str, wh: int, context: str) -> dict[str, str]:
    """A 2.0.1 signedMeterValue for a register reading (the digest stands in for a signature)."""
    payload = f'OCMF|{{"GI":"{station_id}","RD":[{{"RV":{wh},"RU":"Wh","XT":"{context}"}}]}}'
    digest = hashlib.sha256(payload.encode()).hexdigest()
    data = f'{payload}|{{"SA":"ECDSA-secp256r1-SHA256","SD":"{digest}"}}'
    return {
        "signed_meter_data": base64.b64encode(data.encode()).decode(),
        "signing_method": "ECDSA-secp256r1-SHA256",
        "encoding_method": "OCMF",
        "public_key": SIMULATED_PUBLIC_KEY,
    }


def auth_headers(config: SimulatorConfig) -> dict[str, str]:
    """Return the Basic Authorization header (username = station id)."""
    if config.password is None:
        return {}
    token = base64.b64encode(f"{config.station_id}:{config.password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def link(config: SimulatorConfig, charger: Simulated | None = None) -> Simulated:
    """Connect (a new charger, or `charger` again after a drop); boot only if never accepted.

    A charger accepted before does not boot on reconnect: it sends its queue at once.
    """
    url = f"{config.url.rstrip('/')}/{config.station_id}"
    socket = await websockets.connect(
        url,
        subprotocols=[config.protocol.value],  # type: ignore[list-item]
        additional_headers=auth_headers(config),
        open_timeout=10,
        ssl=config.ssl,
        **({"local_addr": (config.source_address, 0)} if config.source_address else {}),
    )
    if charger is None:
        cls = Simulated16 if config.protocol is OcppVersion.V16 else Simulated201
        charger = cls(config, socket)
    charger.attach(socket)
    if charger.accepted:
        await charger.flush()
    else:
        await charger.boot()
    return charger


@contextlib.asynccontextmanager
async def reconnected(charger: Simulated) -> Any:
    """Connect a charger again after a drop (no boot when accepted before); drop it on exit."""
    await link(charger.config, charger)
    try:
        yield charger
    finally:
        await charger.drop()


@contextlib.asynccontextmanager
async def connected(config: SimulatorConfig) -> Any:
    """Connect, boot and yield the running simulated charger; disconnect on exit."""
    charger = await link(config)
    try:
        yield charger
    finally:
        charger.halt()
        await charger.drop()


async def simulate(
    config: SimulatorConfig,
    stop: asyncio.Event | None = None,
    on_link: Callable[[Simulated], None] | None = None,
    retry_seconds: float = 5.0,
) -> None:
    """Run a simulated charger until `stop` is set (or forever), reconnecting after drops.

    `on_link` is called with the charger after each (re)connection.
    """
    stop = stop or asyncio.Event()
    charger: Simulated | None = None
    failures = 0
    try:
        while not stop.is_set():
            try:
                charger = await link(config, charger)
                failures = 0
                if on_link is not None:
                    on_link(charger)
                log.info("%s: connected to %s as %s", config.station_id, config.url,
                         config.protocol.value)  # fmt: skip
                await _keep_alive(charger, stop)
            except (OSError, TimeoutError, websockets.WebSocketException) as error:
                failures += 1
                wait = _retry_after(error, _backoff(retry_seconds, failures))
                log.warning("%s: %s; reconnecting in %s s", config.station_id, error, wait)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)
            if charger is not None:
                await charger.drop()
    finally:
        if charger is not None:
            charger.halt()


def _backoff(base: float, failures: int) -> float:
    """Wait before reconnect attempt `failures`: doubling up to 16x, randomised by +-50%, as
    OCPP 2.0.1's RetryBackOff* settings have chargers do (no reconnect wave in lockstep)."""
    return base * 2 ** min(failures - 1, 4) * _random.uniform(0.5, 1.5)


def _retry_after(error: Exception, default: float) -> float:
    """Seconds to wait before reconnecting: the server's Retry-After (429, 503), else default."""
    response = getattr(error, "response", None)
    value = response.headers.get("Retry-After") if response is not None else None
    try:
        return max(float(value), default) if value is not None else default
    except ValueError:
        return default


async def _keep_alive(charger: Simulated, stop: asyncio.Event) -> None:
    """Send heartbeats until stopped or the connection drops."""
    while not stop.is_set() and charger.online:
        stopping = asyncio.ensure_future(stop.wait())
        waiters: set[asyncio.Future[Any]] = {stopping}
        if charger.receiver is not None:
            waiters.add(charger.receiver)
        await asyncio.wait(
            waiters, timeout=charger.config.heartbeat_interval, return_when=asyncio.FIRST_COMPLETED
        )
        stopping.cancel()
        if not stop.is_set() and charger.online:
            await charger.heartbeat()
