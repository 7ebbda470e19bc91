"""What both OCPP versions share: framing, duplicate ids, the boot gate, validation, dispatch.

`StationLink` is mixed in front of the `ocpp` library's ChargePoint. It
replaces the library's route step (`route_message`) because the library
answers nothing to an unparsable frame, answers a reused message id twice,
and maps schema errors to one code for both versions; and its dispatch step
(`_handle_call`), which cost a third of the CPU per message (measured: 150 ->
105 us). The library still provides `@on` routing, `call()` and the schemas.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
import json
import logging
import time
from array import array
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import jsonschema_rs
from jsonschema.exceptions import ValidationError as SchemaError
from ocpp.charge_point import (
    camel_to_snake_case,
    snake_to_camel_case,
)
from ocpp.exceptions import (
    NotImplementedError,
    NotSupportedError,
    OCPPError,
    UnknownCallErrorCodeError,
)
from ocpp.messages import Call, CallError, CallResult, MessageType, _DecimalEncoder, get_validator
from ocpp.routing import create_route_map, on
from ocpp.v16.enums import Action as Action16
from ocpp.v201.enums import Action as Action201
from websockets.exceptions import ConnectionClosed

from app.gateway import commands as cmd
from app.gateway import eager
from app.gateway.commands import Command, CommandResult
from app.gateway.errors import CommandFailed, CommandTimeout, Violation, error_code
from app.gateway.metrics import MESSAGES
from app.gateway.ports import (
    BootDecision,
    BootInfo,
    MeterSample,
    OcppVersion,
    ProgressKind,
    ProgressReport,
    RegistrationStatus,
    SecurityEvent,
    StationPort,
    ViolationKind,
)

log = logging.getLogger(__name__)

UNKNOWN_MESSAGE_ID = "-1"
# Type of the security event the gateway itself records when a connection passes the
# violation limit (stations' own events arrive through SecurityEventNotification).
VIOLATION_LIMIT_EVENT = "GatewayViolationLimit"
POLICY_VIOLATION = 1008  # WebSocket close codes
INTERNAL_ERROR = 1011

# Which CallError kind a failed JSON-schema keyword maps to (see errors.error_code).
_SCHEMA_KINDS: dict[str, str] = {
    "required": "occurrence",
    "minItems": "occurrence",
    "maxItems": "occurrence",
    "type": "type",
    "additionalProperties": "format",
    "enum": "property",
    "maxLength": "property",
    "minLength": "property",
    "minimum": "property",
    "maximum": "property",
    "pattern": "property",
    "format": "property",
}


class FrameError(Exception):
    """An incoming frame that is not a well-formed OCPP-J message."""

    def __init__(self, unique_id: str | None, kind: str, description: str) -> None:
        super().__init__(description)
        self.unique_id = unique_id
        self.kind = kind
        self.description = description


def _not_json(constant: str) -> Any:
    """Refuse NaN and Infinity: Python's parser takes them, JSON (RFC 8259) has no such numbers."""
    raise ValueError(f"{constant} is not a JSON value")


# One decoder and one encoder: json.loads/dumps with an argument build one on every call.
_DECODER = json.JSONDecoder(parse_constant=_not_json)
_FRAME_ENCODER = _DecimalEncoder(separators=(",", ":"))  # the library's, for the same output


def parse_frame(raw: str | bytes) -> Call | CallResult | CallError:
    """Parse one WebSocket message into an OCPP-J Call, CallResult or CallError."""
    try:
        data = _DECODER.decode(raw if isinstance(raw, str) else raw.decode())
    except (ValueError, UnicodeDecodeError):
        raise FrameError(None, "rpc", "message is not valid JSON") from None
    if not isinstance(data, list) or len(data) < 2 or not isinstance(data[1], str):
        raise FrameError(None, "rpc", "message is not an OCPP-J array with a message id")
    type_id, unique_id = data[0], data[1]
    if type_id == MessageType.Call and len(data) == 4:
        if isinstance(data[2], str) and isinstance(data[3], dict):
            return Call(unique_id, data[2], data[3])
    elif type_id == MessageType.CallResult and len(data) == 3 and isinstance(data[2], dict):
        return CallResult(unique_id, data[2])
    elif type_id == MessageType.CallError and len(data) == 5:
        return CallError(unique_id, data[2], data[3], data[4])
    elif type_id not in (MessageType.Call, MessageType.CallResult, MessageType.CallError):
        raise FrameError(unique_id, "message_type", f"message type {type_id!r} is not supported")
    raise FrameError(unique_id, "rpc", "message elements are missing or of the wrong type")


@functools.lru_cache(maxsize=512)
def fast_validator(action: str, ocpp_version: str) -> Any:
    """Return a compiled (Rust) validator of the library's schema for a CALL, or None.

    The library's jsonschema validator is the reference and words every error; this one
    only answers valid or not, ~50-100x faster (26 -> 0.3 us for a StatusNotification),
    with the same draft (4) and, like the reference, formats unchecked.
    tests/gateway/test_schema_fastpath.py holds the two to the same answers.
    """
    try:
        reference = get_validator(MessageType.Call, action, ocpp_version)
    except OSError:
        return None
    # The library caches one validator per schema, parsed with Decimal floats when its own
    # call() was first to load it (RemoteStartTransaction, SetChargingProfile): plain floats.
    schema = json.loads(json.dumps(reference.schema, default=float))
    return jsonschema_rs.Draft4Validator(schema, validate_formats=False)


def schema_violation(call: Call, ocpp_version: str) -> tuple[str, str] | None:
    """Return (kind, description) when the payload breaks the action's schema, else None."""
    fast = fast_validator(call.action, ocpp_version)
    if fast is None:
        return None  # no schema: the router answers NotSupported / NotImplemented
    try:
        if fast.is_valid(call.payload):
            return None
    except (ValueError, TypeError, OverflowError):
        pass  # a value it cannot take (an integer past 64 bits, NaN, a lone surrogate)
    validator = get_validator(MessageType.Call, call.action, ocpp_version)
    try:
        validator.validate(call.payload)
    except SchemaError as error:
        kind = _SCHEMA_KINDS.get(str(error.validator), "format")
        return kind, error.message[:255]
    return None


@functools.lru_cache(maxsize=1024)
def snake_key(key: str) -> str:
    """Convert one camelCase key the library's way, once per distinct key."""
    return next(iter(camel_to_snake_case({key: None})))


@functools.lru_cache(maxsize=1024)
def camel_key(key: str) -> str:
    """Convert one snake_case key the library's way, once per distinct key."""
    return next(iter(snake_to_camel_case({key: None})))


@functools.lru_cache(maxsize=256)
def _wire_fields(cls: type) -> tuple[tuple[str, str], ...]:
    return tuple((name, camel_key(name)) for name in cls.__dataclass_fields__)  # type: ignore[attr-defined]


def wire_payload(value: Any) -> Any:
    """A handler's result as its frame's payload: camelCase keys and no None values, in one
    walk (the library's serialize_as_dict, remove_nones and key conversion took three)."""
    if hasattr(type(value), "__dataclass_fields__"):
        return {
            camel: wire_payload(item)
            for name, camel in _wire_fields(type(value))
            if (item := getattr(value, name)) is not None
        }
    if isinstance(value, dict):
        return {camel_key(k): wire_payload(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [wire_payload(item) for item in value if item is not None]
    return value


def result_frame(unique_id: str, payload: dict[str, Any]) -> str:
    """A CALLRESULT frame, written as the library writes it (compact, Decimals as numbers)."""
    return _FRAME_ENCODER.encode([MessageType.CallResult, unique_id, payload])


def convert_keys(data: Any, convert: Callable[[str], str]) -> Any:
    """Rename the keys of nested dicts and lists with `convert`."""
    if isinstance(data, dict):
        return {convert(k): convert_keys(v, convert) for k, v in data.items()}
    if isinstance(data, list):
        return [convert_keys(v, convert) for v in data]
    return data


def unknown_action(action: str, version: OcppVersion) -> OCPPError:
    """Return NotImplemented for a known action without handler, NotSupported otherwise."""
    actions = Action16 if version is OcppVersion.V16 else Action201
    if action in actions._value2member_map_:
        return NotImplementedError(details={"cause": f"No handler for {action}"})
    return NotSupportedError(details={"cause": f"{action} is not part of {version.value}"})


def parse_time(value: str | None) -> datetime:
    """Parse an OCPP timestamp; a missing one means now and a naive one means UTC."""
    if value is None:
        return datetime.now(UTC)
    stamp = datetime.fromisoformat(value)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


_now: tuple[int, str] = (0, "")


def now_iso() -> str:
    """Return the current UTC time the way OCPP writes it (to the second: made once a second)."""
    global _now
    second = int(time.time())
    if second != _now[0]:
        stamp = datetime.fromtimestamp(second, UTC).isoformat().replace("+00:00", "Z")
        _now = (second, stamp)
    return _now[1]


def parse_samples(meter_values: list[dict[str, Any]] | None) -> tuple[MeterSample, ...]:
    """Flatten OCPP meterValue/sampledValue lists (snake_case keys) into samples."""
    samples = []
    for meter_value in meter_values or []:
        stamp = parse_time(meter_value["timestamp"])
        for sampled in meter_value["sampled_value"]:
            samples.append(_sample(stamp, sampled))
    return tuple(samples)


def _sample(stamp: datetime, sampled: dict[str, Any]) -> MeterSample:
    """Build one sample; 2.0.1 puts the unit in unitOfMeasure."""
    unit = sampled.get("unit") or (sampled.get("unit_of_measure") or {}).get("unit")
    try:
        value = Decimal(str(sampled["value"]))
    except InvalidOperation:
        raise Violation("PropertyConstraintViolation", "sampled value is not a number") from None
    return MeterSample(
        timestamp=stamp,
        value=value,
        measurand=sampled.get("measurand") or "Energy.Active.Import.Register",
        unit=unit,
        phase=sampled.get("phase"),
        context=sampled.get("context"),
        signed_data=_signed(sampled.get("signed_meter_value")),
    )


def _signed(value: dict[str, Any] | None) -> str | None:
    """Keep a 2.0.1 signedMeterValue as compact JSON (it is evidence: stored as received)."""
    return None if value is None else json.dumps(value, separators=(",", ":"), sort_keys=True)


def charging_schedule(spec: cmd.ChargingProfile) -> dict[str, Any]:
    """Build the schedule fields both versions share (snake_case; the library camel-cases)."""
    schedule: dict[str, Any] = {
        "charging_rate_unit": spec.unit,
        "charging_schedule_period": [
            {"start_period": start, "limit": float(limit)} for start, limit in spec.periods
        ],
    }
    if spec.duration is not None:
        schedule["duration"] = spec.duration
    if spec.start_schedule is not None:
        schedule["start_schedule"] = spec.start_schedule.isoformat()
    return schedule


def response_payload(response: Any) -> dict[str, Any]:
    """Return a typed call result's fields that the station filled in."""
    return {k: v for k, v in dataclasses.asdict(response).items() if v is not None}


def _log_failure(station_id: str) -> Callable[[asyncio.Future[Any]], None]:
    """Return a done-callback that logs a background port call's failure."""

    def done(future: asyncio.Future[Any]) -> None:
        if not future.cancelled() and future.exception() is not None:
            log.error("%s: station_ready failed", station_id, exc_info=future.exception())

    return done


@functools.cache
def class_routes(cls: type) -> dict[str, dict[str, Any]]:
    """Return the library's route table for a ChargePoint class, built once."""
    return create_route_map(cls)


class StationLink:
    """Mixin for one station's connection, placed before the library's ChargePoint.

    It also handles the messages that read the same in 1.6 and 2.0.1 (Heartbeat,
    SecurityEventNotification, DataTransfer, FirmwareStatusNotification); the version
    classes hold every other handler.
    """

    version: ClassVar[OcppVersion]
    _ocpp_version: str  # set by the library's ChargePoint subclass

    @property
    def route_map(self) -> dict[str, dict[str, Any]]:
        """The `@on` handlers by action, one table per class (plain functions, not bound)."""
        return class_routes(type(self))

    @route_map.setter
    def route_map(self, _: object) -> None:
        # The library's __init__ builds a table per connection: a dict and a bound method
        # per action (11 in 1.6, 16 in 2.0.1), 23-33 tracked objects of the ~156 a connection
        # held, which every full collection walks (475 ms at 10,000 stations). The handlers
        # are the class's.
        pass

    def __init__(
        self,
        station_id: str,
        connection: Any,
        *,
        port: StationPort,
        executor: Executor,
        response_timeout: float = 30,
        recent_ids: int = 32,
        violation_limit: int = 0,
        disconnect_on_violations: bool = False,
    ) -> None:
        super().__init__(station_id, connection, response_timeout)  # type: ignore[call-arg]
        self.port = port
        self._inline: frozenset[str] = getattr(port, "nonblocking", frozenset())
        self.accepted = False
        self._executor = executor
        # A ring of fingerprints in one untracked array: an OrderedDict held a node and an
        # int object per id (640,000 blocks at 10,000 stations, filling over their first
        # 32 messages: heap growth that set off full collections of half a second).
        self._recent = array("q")
        self._recent_size = recent_ids
        self._recent_next = 0
        self.commands: set[asyncio.Task[CommandResult]] = set()
        # Message id of each command's CALL, and the ids whose reply has arrived: a reply
        # that came in before the socket closed still wins over the disconnect.
        self._call_ids: dict[asyncio.Task[Any], str] = {}
        self._answered: set[str] = set()
        self.claim: int | None = None  # this connection's number on a Redis bus, once attached
        self.violations = 0  # refusals on this connection
        self._violation_limit = violation_limit
        self._disconnect_on_violations = disconnect_on_violations
        self._closing: set[asyncio.Future[Any]] = set()

    async def start(self) -> None:
        """Handle the station's messages in order until the connection closes (replaces the
        library's loop of `recv()` and a task switch per message, and its log line per
        message, which would write a rotated password)."""
        await self._connection.serve_messages(self._take_message)  # type: ignore[attr-defined]

    def _take_message(self, raw: str | bytes) -> asyncio.Future[Any] | None:
        """Handle one message now; return the task finishing it if it has to wait."""
        try:
            pending = eager.step(self.route_message(raw))
        except ConnectionClosed:
            return None
        except Exception:
            self._handling_failed()
            return None
        if pending is not None:
            pending.add_done_callback(self._check_handled)
        return pending

    def _check_handled(self, task: asyncio.Future[Any]) -> None:
        if task.cancelled() or isinstance(task.exception(), ConnectionClosed):
            return
        if task.exception() is not None:
            self._handling_failed(task.exception())

    def _handling_failed(self, error: BaseException | None = None) -> None:
        """A bug in message handling: log it and close the connection (1011), as the
        library's loop did by ending the connection's handler."""
        log.error("%s: message handling failed", self.id, exc_info=error or True)
        task = asyncio.ensure_future(self.close(INTERNAL_ERROR, "internal error"))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _send(self, message: str) -> None:
        """Send a frame without the library's per-frame log line: a rotation carries a secret."""
        if not self._connection.send_now(message):  # type: ignore[attr-defined]
            # Waiting for room or for the close runs under asyncio.timeout, which needs a task:
            # the message may be handled eagerly, outside any (app.gateway.eager).
            await asyncio.ensure_future(self._connection.send(message))  # type: ignore[attr-defined]

    async def close(self, code: int, reason: str) -> None:
        """Close the WebSocket (another connection replaces this one, or too many violations)."""
        await asyncio.ensure_future(self._connection.close(code, reason))  # type: ignore[attr-defined]

    async def call_port(self, method: Callable[..., Any], *args: Any) -> Any:
        """Run a port method for this station: in the port thread pool unless it never blocks."""
        if method.__name__ in self._inline:
            return method(self.id, *args)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, method, self.id, *args)

    async def accept_boot(self, info: BootInfo) -> BootDecision:
        """Ask the port whether this station is accepted; open the boot gate if it is."""
        decision: BootDecision = await self.call_port(self.port.boot, info)
        self.accepted = decision.status is RegistrationStatus.ACCEPTED
        if self.accepted:
            self.announce_ready()
        return decision

    def announce_ready(self) -> None:
        """Tell the port (in the background) that this station can take commands now."""
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, self.port.station_ready, self.id)
        future.add_done_callback(_log_failure(self.id))

    @on("Heartbeat")
    async def on_heartbeat(self, **extra: Any) -> Any:
        """Note the heartbeat and tell the time."""
        await self.call_port(self.port.heartbeat)
        return self._call_result.Heartbeat(current_time=now_iso())  # type: ignore[attr-defined]

    @on("DataTransfer")
    async def on_data_transfer(self, vendor_id: str, **extra: Any) -> Any:
        """Answer UnknownVendorId: PlugPool implements no vendor extension (both versions)."""
        log.info("%s: DataTransfer from unknown vendor %r", self.id, vendor_id[:255])
        return self._call_result.DataTransfer(status="UnknownVendorId")  # type: ignore[attr-defined]

    @on("FirmwareStatusNotification")
    async def on_firmware_status_notification(self, status: str, **extra: Any) -> Any:
        """Keep the firmware update's progress in the station's record."""
        report = ProgressReport(ProgressKind.FIRMWARE, status, extra.get("request_id"))
        await self.call_port(self.port.progress, report)
        return self._call_result.FirmwareStatusNotification()  # type: ignore[attr-defined]

    @on("SecurityEventNotification")
    async def on_security_event_notification(self, type: str, timestamp: str, **extra: Any) -> Any:
        """Keep a security event (2.0.1, and 1.6 with the security whitepaper)."""
        event = SecurityEvent(type, parse_time(timestamp), extra.get("tech_info"))
        await self.call_port(self.port.security_event, event)
        return self._call_result.SecurityEventNotification()  # type: ignore[attr-defined]

    async def route_message(self, raw_msg: str | bytes) -> None:
        """Route one frame: refuse broken or unwelcome calls, queue replies, handle calls."""
        try:
            msg = parse_frame(raw_msg)
        except FrameError as error:
            await self._refuse_frame(error)
            return
        if not isinstance(msg, Call):
            self._queue_response(msg)
            return
        refusal = self._check_call(msg)
        if refusal is not None:
            kind, violation = refusal
            await self._refuse(msg.unique_id, violation, kind)
            return
        await self._handle_call(msg)

    async def _handle_call(self, msg: Call) -> None:
        """Run the action's handler and send its result or a CallError.

        It replaces the library's step, which inspects the handler's signature and
        converts every key with regular expressions on each message; `@after` hooks are
        not run (the gateway has none: commands go through the bus, never a handler).
        """
        MESSAGES[msg.action] += 1
        handler = self.route_map.get(msg.action, {}).get("_on_action")
        if handler is None:
            error = unknown_action(msg.action, self.version)
            await self._send(msg.create_call_error(error).to_json())
            return
        try:
            response = handler(self, **convert_keys(msg.payload, snake_key))
            if inspect.isawaitable(response):
                response = await response
        except Exception as error:
            # A protocol refusal is expected; anything else is a bug or a port failure.
            # The payload stays out of the log line: it may carry tokens.
            expected = isinstance(error, OCPPError)
            level = logging.INFO if expected else logging.ERROR
            log.log(
                level, "%s: %s %s failed", self.id, msg.action, msg.unique_id, exc_info=not expected
            )
            await self._send(msg.create_call_error(error).to_json())
            return
        await self._send(result_frame(msg.unique_id, wire_payload(response)))

    def _queue_response(self, msg: CallResult | CallError) -> None:
        """Hand a reply to the waiting `call()`; drop it when none waits.

        A reply that arrives after its call timed out, or one the station made up, would
        otherwise sit in the library's queue (and a flood of them would grow it without end).
        """
        if self._call_lock.locked():  # type: ignore[attr-defined]
            if msg.unique_id in self._call_ids.values():  # a command's reply, not a stray one
                self._answered.add(msg.unique_id)
            self._response_queue.put_nowait(msg)  # type: ignore[attr-defined]
        else:
            log.info("%s: dropped a reply nobody waits for (%s)", self.id, msg.unique_id)

    def _check_call(self, msg: Call) -> tuple[ViolationKind, Violation] | None:
        """Return why a CALL must be refused before it reaches a handler, if it must."""
        if self._seen(msg.unique_id):
            description = "a CALL with this message id was already received on this connection"
            return ViolationKind.DUPLICATE_ID, Violation(self._code("protocol"), description)
        if not self.accepted and msg.action != "BootNotification":
            description = "the station is not accepted yet; send BootNotification"
            return ViolationKind.NOT_ACCEPTED, Violation(self._code("security"), description)
        if msg.action not in self.route_map:
            return None
        problem = schema_violation(msg, self._ocpp_version)
        if problem is None:
            return None
        return ViolationKind.SCHEMA, Violation(self._code(problem[0]), problem[1])

    def _seen(self, unique_id: str) -> bool:
        """Remember a message id; tell whether it is among the recent ones."""
        key = hash(unique_id)  # a per-process salted 64-bit fingerprint keeps the memory small
        recent = self._recent
        if key in recent:
            return True
        if len(recent) < self._recent_size:
            recent.append(key)
        elif recent:  # full: overwrite the oldest (a size of 0 remembers nothing)
            recent[self._recent_next] = key
            self._recent_next = (self._recent_next + 1) % len(recent)
        return False

    async def _refuse_frame(self, error: FrameError) -> None:
        """Answer an unreadable frame; OCPP-J uses message id "-1" when the id is unknown."""
        violation = Violation(self._code(error.kind), error.description)
        await self._refuse(
            error.unique_id or UNKNOWN_MESSAGE_ID, violation, ViolationKind.INVALID_FRAME
        )

    async def _refuse(self, unique_id: str, violation: Violation, kind: ViolationKind) -> None:
        """Send a CallError, log it, and count the violation against the station."""
        log.info(
            "%s: refused %s (%s): %s", self.id, unique_id, violation.code, violation.description
        )
        frame = CallError(unique_id, violation.code, violation.description, {})
        await self._send(frame.to_json())
        try:
            await self.call_port(self.port.record_violation, kind)
        except Exception:  # a failing counter must not close the charger's connection
            log.exception("%s: could not record a %s violation", self.id, kind.value)
        self.violations += 1
        if self.violations == self._violation_limit:
            await self._violation_limit_reached(kind)

    async def _violation_limit_reached(self, last: ViolationKind) -> None:
        """Raise a security event (no payload: it may hold tokens); maybe hang up."""
        log.warning(
            "%s: security: %d messages refused on this connection (last: %s)%s",
            self.id,
            self.violations,
            last.value,
            "; closing it" if self._disconnect_on_violations else "",
        )
        info = f"{self.violations} messages refused on one connection; last: {last.value}"
        event = SecurityEvent(VIOLATION_LIMIT_EVENT, datetime.now(UTC), info)
        try:
            await self.call_port(self.port.security_event, event)
        except Exception:
            log.exception("%s: could not record the violation-limit event", self.id)
        if self._disconnect_on_violations:
            await self.close(POLICY_VIOLATION, "too many protocol violations")

    def _code(self, kind: str) -> str:
        """Return this version's CallError code for a kind of violation."""
        return error_code(kind, self.version)

    def answered(self, task: asyncio.Task[Any]) -> bool:
        """Tell whether the reply to a command task's CALL has arrived (being read now)."""
        return self._call_ids.get(task) in self._answered

    async def execute(self, command: Command) -> CommandResult:
        """Send a command as this version's CALL and translate the answer."""
        request = self.to_call(command)
        unique_id = str(self._unique_id_generator())  # type: ignore[attr-defined]
        task = asyncio.current_task()
        if task is not None:
            self._call_ids[task] = unique_id
        try:
            response = await self.call(  # type: ignore[attr-defined]
                request, suppress=False, unique_id=unique_id
            )
        except OCPPError as error:
            raise CommandFailed(error.code, str(error.description)) from error
        except UnknownCallErrorCodeError as error:
            raise CommandFailed("Unknown", str(error)) from error
        except TimeoutError:
            # `from None`: the library's message holds the whole CALL, maybe a new password.
            raise CommandTimeout(f"{self.id} did not answer {type(command).__name__}") from None
        finally:
            if task is not None:
                self._call_ids.pop(task, None)
            self._answered.discard(unique_id)
        return self.to_result(command, response)

    def to_call(self, command: Command) -> Any:
        """Translate a command into this version's call payload."""
        raise NotImplementedError

    def to_result(self, command: Command, response: Any) -> CommandResult:
        """Translate this version's call result: most answer with a `status` field."""
        return CommandResult(str(response.status), response_payload(response))
