"""Pure helpers of the gateway: path, credentials, negotiation, seeds, frames, replies."""

from __future__ import annotations

import base64
import dataclasses
from array import array
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from ocpp.charge_point import remove_nones, serialize_as_dict
from ocpp.messages import Call
from ocpp.v16 import call_result as call_result16
from ocpp.v201 import call_result as call_result201
from websockets.datastructures import Headers

from app.gateway.__main__ import config_from_env
from app.gateway.bus import decode_reply, encode_reply
from app.gateway.commands import CommandResult
from app.gateway.errors import CommandFailed, StationOffline
from app.gateway.memory import parse_seed
from app.gateway.ports import AuthOutcome, OcppVersion, StationAuth
from app.gateway.protocol import (
    FrameError,
    camel_key,
    class_routes,
    convert_keys,
    now_iso,
    parse_frame,
    result_frame,
    wire_payload,
)
from app.gateway.server import GatewayConfig, basic_credentials, negotiate, station_from_path
from app.gateway.v16 import StationV16
from app.gateway.v201 import StationV201


def test_station_id_is_taken_from_the_path_and_unquoted() -> None:
    assert station_from_path("/ocpp/CP%2F1") is None  # an encoded slash is not an id
    assert station_from_path("/ocpp/CP-1?x=1") == "CP-1"
    assert station_from_path("/other/CP-1") is None


def test_basic_credentials_keep_colons_in_the_password() -> None:
    token = base64.b64encode(b"CP1:pass:word").decode()
    assert basic_credentials(Headers({"Authorization": f"Basic {token}"})) == ("CP1", "pass:word")
    assert basic_credentials(Headers({"Authorization": "Bearer abc"})) == (None, None)
    assert basic_credentials(Headers({"Authorization": "Basic !!!"})) == (None, None)


def test_negotiation_follows_the_station_preference() -> None:
    auth = StationAuth(AuthOutcome.OK, protocols=(OcppVersion.V16, OcppVersion.V201))
    admission = negotiate(["ocpp2.0.1", "ocpp1.6"], auth)
    assert admission is not None
    assert admission.version is OcppVersion.V16


def test_missing_subprotocol_needs_the_station_setting_and_16() -> None:
    only_201 = StationAuth(
        AuthOutcome.OK, allow_missing_subprotocol=True, protocols=(OcppVersion.V201,)
    )
    assert negotiate([], only_201) is None
    assert negotiate([], StationAuth(AuthOutcome.OK)) is None


def test_seed_flags_mark_pending_and_legacy_stations() -> None:
    plain, pending = parse_seed("A:pw-a, B:pw-b:pending:nosubproto")
    assert (plain.approved, plain.allow_missing_subprotocol) == (True, False)
    assert (pending.approved, pending.allow_missing_subprotocol) == (False, True)


@pytest.mark.parametrize(
    ("raw", "unique_id", "kind"),
    [
        ("not json", None, "rpc"),
        ('{"a": 1}', None, "rpc"),
        ('[2, "m1", "Heartbeat"]', "m1", "rpc"),
        ('[9, "m1", "Heartbeat", {}]', "m1", "message_type"),
    ],
)
def test_broken_frames_name_their_id_when_readable(
    raw: str, unique_id: str | None, kind: str
) -> None:
    with pytest.raises(FrameError) as broken:
        parse_frame(raw)
    assert (broken.value.unique_id, broken.value.kind) == (unique_id, kind)


def test_replies_carry_results_and_errors_across_processes() -> None:
    result = CommandResult("Accepted", {"status": "Accepted"})
    assert decode_reply(encode_reply(result, None)) == result
    with pytest.raises(CommandFailed) as failed:
        decode_reply(encode_reply(None, CommandFailed("NotSupported", "no")))
    assert failed.value.code == "NotSupported"
    with pytest.raises(StationOffline):
        decode_reply(encode_reply(None, StationOffline("gone")))


def test_every_config_field_is_read_from_its_environment_variable() -> None:
    env = {
        "GATEWAY_PORT": "0",
        "GATEWAY_PORT_THREADS": "8",
        "GATEWAY_MAX_FRAME_BYTES": "65536",
        "GATEWAY_PING_INTERVAL": "none",
        "GATEWAY_OPEN_TIMEOUT": "20",
        "GATEWAY_IP_CONNECT_RATE": "0",
        "GATEWAY_TRUSTED_PROXIES": "10.0.0.1, 10.0.0.2",
        "GATEWAY_DISCONNECT_ON_VIOLATIONS": "true",
    }
    config = config_from_env(env)
    assert (config.port, config.port_threads, config.max_frame_bytes) == (0, 8, 65536)
    assert (config.ping_interval, config.ping_timeout, config.open_timeout) == (None, 30, 20)
    assert config.ip_connect_rate == 0
    assert config.trusted_proxies == {"10.0.0.1", "10.0.0.2"}
    assert config.disconnect_on_violations is True
    assert config_from_env({}) == GatewayConfig()


def _filled(cls: type, n: int) -> object:
    """An instance of a call-result dataclass with nested, None-holding values in its fields."""
    kinds = [
        "Accepted",
        None,
        {"id_tag_info": {"status": "Accepted", "expiry_date": None}, "parent_id_tag": None},
        [{"status_info": {"reason_code": "x", "additional_info": None}}, None, 3],
        Decimal("12.345"),
        7,
    ]
    fields = cls.__dataclass_fields__  # type: ignore[attr-defined]
    return cls(**{name: kinds[(n + i) % len(kinds)] for i, name in enumerate(fields)})


@pytest.mark.parametrize("module", [call_result16, call_result201])
def test_result_frames_match_the_library_for_every_call_result(module: object) -> None:
    classes = [
        cls
        for cls in vars(module).values()
        if dataclasses.is_dataclass(cls) and isinstance(cls, type)
    ]
    assert len(classes) > 20
    for n, cls in enumerate(classes):
        for shift in range(3):
            response = _filled(cls, n + shift)
            library = convert_keys(remove_nones(serialize_as_dict(response)), camel_key)
            assert wire_payload(response) == library, cls.__name__
            expected = Call("m-1", cls.__name__, {}).create_call_result(library).to_json()
            assert result_frame("m-1", wire_payload(response)) == expected


def test_now_is_written_to_the_second_in_utc() -> None:
    stamp = now_iso()
    parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert stamp.endswith("Z") and parsed.microsecond == 0
    assert abs((datetime.now(UTC) - parsed).total_seconds()) < 2


def link_remembering(size: int) -> StationV16:
    """A 1.6 link with only the duplicate-id memory set up (no connection)."""
    link = StationV16.__new__(StationV16)
    link._recent, link._recent_size, link._recent_next = array("q"), size, 0
    return link


def test_message_ids_are_remembered_for_the_last_n_messages_only() -> None:
    link = link_remembering(3)
    assert [link._seen(i) for i in ("a", "b", "c", "a", "b")] == [False] * 3 + [True] * 2
    assert not link._seen("d")  # drops "a", the oldest
    assert not link._seen("a")  # drops "b"
    assert [link._seen(i) for i in ("c", "d", "a", "b")] == [True, True, True, False]
    assert len(link._recent) == 3
    nothing = link_remembering(0)
    assert not nothing._seen("a") and not nothing._seen("a")
    assert not link_remembering(2)._seen("")  # an empty id is an id like the others


def test_route_table_is_the_class_one_and_holds_plain_functions() -> None:
    link = link_remembering(3)
    link.route_map = {"ignored": {}}  # what the library's __init__ does
    assert "route_map" not in vars(link)
    assert link.route_map is class_routes(StationV16)
    assert class_routes(StationV201)["Heartbeat"]["_on_action"] is StationV201.on_heartbeat
    assert (
        class_routes(StationV16)["BootNotification"]["_on_action"]
        is StationV16.on_boot_notification
    )
