"""Pure helpers of the gateway: path, credentials, negotiation, seeds, frames, replies."""

from __future__ import annotations

import base64

import pytest
from websockets.datastructures import Headers

from app.gateway.bus import decode_reply, encode_reply
from app.gateway.commands import CommandResult
from app.gateway.errors import CommandFailed, StationOffline
from app.gateway.memory import parse_seed
from app.gateway.ports import AuthOutcome, OcppVersion, StationAuth
from app.gateway.protocol import FrameError, parse_frame
from app.gateway.server import basic_credentials, negotiate, station_from_path


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
