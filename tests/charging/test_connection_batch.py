"""Online/offline writes of many stations at once (a reconnect storm) go in shared batches."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask

from app.charging.port import DbStationPort, GroupWriter
from app.extensions import db
from app.gateway.ports import OcppVersion
from app.inventory.models import ChargeStation
from tests.charging.support import read, seed_fleet


def states(app: Flask, ids: list[str]) -> dict[str, tuple[bool, str | None]]:
    """Return (connected, protocol) per station."""

    def query() -> dict[str, tuple[bool, str | None]]:
        rows = db.session.execute(
            db.select(ChargeStation.station_id, ChargeStation.connected, ChargeStation.protocol)
            .where(ChargeStation.station_id.in_(ids))
        ).all()  # fmt: skip
        return {row[0]: (row[1], row[2]) for row in rows}

    return read(app, query)


def test_concurrent_connection_changes_all_reach_the_database(
    app: Flask, committed_db: Any
) -> None:
    ids = seed_fleet(app, 40, prefix="GB").station_ids
    port = DbStationPort(app)
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda s: port.connection_changed(s, True, OcppVersion.V201), ids))
    assert states(app, ids) == {s: (True, "ocpp2.0.1") for s in ids}
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda s: port.connection_changed(s, False, None), ids[:20]))
    after = states(app, ids)
    assert all(after[s] == (False, "ocpp2.0.1") for s in ids[:20])  # protocol kept
    assert all(after[s] == (True, "ocpp2.0.1") for s in ids[20:])


def test_changes_arriving_during_a_write_share_the_next_batch_and_its_failure() -> None:
    batches: list[list[Any]] = []
    first_started, release = threading.Event(), threading.Event()

    def write_batch(changes: list[Any]) -> None:
        batches.append(changes)
        if len(batches) == 1:
            first_started.set()
            release.wait(30)
        elif "boom" in changes:
            raise RuntimeError("database down")

    writer = GroupWriter(write_batch)
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(writer.write, "a")
        assert first_started.wait(30)
        waiting = [pool.submit(writer.write, change) for change in ("b", "c", "boom")]
        while len(writer._pending) < 3:
            threading.Event().wait(0.01)  # all three queued behind the running write
        release.set()
        first.result(30)
        for future in waiting:
            with pytest.raises(RuntimeError, match="database down"):
                future.result(30)
    assert batches == [["a"], ["b", "c", "boom"]]
    writer.write("d")  # a failed batch leaves the writer usable
    assert batches[-1] == ["d"]
