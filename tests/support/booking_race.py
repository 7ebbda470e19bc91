"""Shared by the race test and bench/booking_race.py: committed setup and concurrent attempts."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal

from flask import Flask

from app.accounts.models import Role, User
from app.bookings import services
from app.bookings.errors import SlotTaken
from app.extensions import db
from app.inventory.models import Connector, Evse, Location, Party
from app.tariffs.models import Tariff


@dataclass
class Outcome:
    """What the attempts produced."""

    booked: list[int] = field(default_factory=list)
    conflicts: int = 0
    # Conflicts found by the database at insert time, after the friendly check had passed.
    conflicts_at_insert: int = 0
    errors: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The process's CPU time when the attempts were let go (race() only).
    cpu_at_release: float | None = None


def make_slot_listing(app: Flask, tag: str) -> int:
    """Commit an owner, a priced published listing with one EVSE; return the EVSE id."""
    with app.app_context():
        party = db.session.query(Party).filter_by(country_code="NL", party_id="PLG").first()
        if party is None:
            party = Party(country_code="NL", party_id="PLG", name="PlugPool", is_own=True)
            db.session.add(party)
        owner = User(
            email=f"owner-{tag}@example.test", password_hash="x", name="Owner", role=Role.OWNER
        )
        tariff = Tariff(
            country_code="NL",
            party_id="PLG",
            ocpi_id=f"T-{tag}",
            currency="EUR",
            elements=[
                {"price_components": [{"type": "ENERGY", "price": Decimal("0.30"), "step_size": 1}]}
            ],
        )
        db.session.add_all([owner, tariff])
        db.session.flush()
        location = Location(
            country_code="NL",
            party_id="PLG",
            ocpi_id=f"L-{tag}",
            owner_id=owner.id,
            publish=True,
            address="Race street 1",
            city="Amsterdam",
            country="NLD",
            latitude=Decimal("52.37"),
            longitude=Decimal("4.89"),
            geog="SRID=4326;POINT(4.89 52.37)",
            time_zone="Europe/Amsterdam",
        )
        evse = Evse(uid=f"E-{tag}", status="AVAILABLE")
        evse.connectors.append(
            Connector(
                ocpi_id="1",
                standard="IEC_62196_T2",
                format="SOCKET",
                power_type="AC_3_PHASE",
                max_voltage=230,
                max_amperage=16,
                max_electric_power=11000,
                tariff_ids=[tariff.ocpi_id],
            )
        )
        location.evses.append(evse)
        db.session.add(location)
        db.session.commit()
        return evse.id


def make_drivers(app: Flask, tag: str, count: int) -> list[int]:
    """Commit count drivers; return their ids."""
    with app.app_context():
        drivers = [
            User(email=f"d{i}-{tag}@example.test", password_hash="x", name=f"D{i}")
            for i in range(count)
        ]
        db.session.add_all(drivers)
        db.session.commit()
        return [driver.id for driver in drivers]


def slot_tomorrow() -> tuple[datetime, datetime]:
    """Return a two-hour window tomorrow at 10:00 UTC."""
    day = (datetime.now(UTC) + timedelta(days=1)).date()
    start = datetime.combine(day, clock_time(10), tzinfo=UTC)
    return start, start + timedelta(hours=2)


def attempt(
    app: Flask, driver_id: int, evse_id: int, window, pay: bool, outcome: Outcome, gate
) -> None:
    """One driver's booking attempt in its own app context (own session, own connection)."""
    with app.app_context():
        driver = db.session.get(User, driver_id)
        # Give the connection back before waiting: 200 threads share a pool of 30.
        db.session.close()
        gate.wait()
        started = time.perf_counter()
        try:
            book = services.book_slot if pay else services.hold_slot
            booking = book(driver, evse_id, *window)
            result = ("booked", booking.id)
        except SlotTaken as taken:
            result = ("conflict", "taken_from" not in taken.extra)
        except Exception as error:
            result = ("error", f"{type(error).__name__}: {error}")
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            db.session.remove()
        with outcome.lock:
            outcome.latencies_ms.append(elapsed)
            if result[0] == "booked":
                outcome.booked.append(result[1])
            elif result[0] == "conflict":
                outcome.conflicts += 1
                outcome.conflicts_at_insert += int(result[1])
            else:
                outcome.errors.append(result[1])


def race(app: Flask, driver_ids: list[int], evse_id: int, window, *, pay: bool) -> Outcome:
    """Start one thread per driver; all try to book the same window at once."""
    outcome = Outcome()

    def released() -> None:
        outcome.cpu_at_release = time.process_time()

    gate = threading.Barrier(len(driver_ids), action=released)
    threads = [
        threading.Thread(target=attempt, args=(app, driver_id, evse_id, window, pay, outcome, gate))
        for driver_id in driver_ids
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcome


class _NoGate:
    def wait(self) -> None:
        """Start at once."""


def one_after_another(app: Flask, driver_ids: list[int], evse_id: int, window) -> Outcome:
    """Make the attempts one at a time: the service's own latency, without a rush."""
    outcome = Outcome()
    for driver_id in driver_ids:
        attempt(app, driver_id, evse_id, window, False, outcome, _NoGate())
    return outcome


def p99(values: list[float]) -> float:
    """Return the 99th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, round(0.99 * len(ordered)) - 1)]


def _server_process(url: str, tasks, ready, go, results) -> None:
    """A long-lived server process (as a gunicorn worker): its own app, pool and threads.

    Each task is (driver_ids, evse_id, window); the attempts start when `go` is set.
    """
    import gc

    from app import create_app

    app = create_app("testing", {"DATABASE_URL": url})
    gc.freeze()  # as wsgi.py does in a web worker
    for driver_ids, evse_id, window in iter(tasks.get, None):
        outcome = Outcome()
        gate = _Gate(len(driver_ids))
        threads = [
            threading.Thread(
                target=attempt, args=(app, driver_id, evse_id, window, False, outcome, gate)
            )
            for driver_id in driver_ids
        ]
        for thread in threads:
            thread.start()
        gate.all_waiting.wait()
        ready.wait()
        go.wait()
        gate.opened.set()
        for thread in threads:
            thread.join()
        results.put(
            (
                outcome.booked,
                outcome.conflicts,
                outcome.conflicts_at_insert,
                outcome.errors,
                outcome.latencies_ms,
            )
        )


class _Gate:
    """What attempt() waits on in a server process: opened once every process is ready."""

    def __init__(self, threads: int) -> None:
        self.all_waiting = threading.Barrier(threads + 1)
        self.opened = threading.Event()

    def wait(self) -> None:
        self.all_waiting.wait()
        self.opened.wait()


class ServerProcesses:
    """N long-lived processes that run booking attempts together, as a server's workers do."""

    def __init__(self, url: str, processes: int) -> None:
        import multiprocessing

        self._context = multiprocessing.get_context("spawn")
        self.count = processes
        self._tasks = [self._context.Queue() for _ in range(processes)]
        self._results = self._context.Queue()
        self._ready = self._context.Barrier(processes + 1)
        self._workers = [
            self._context.Process(
                target=_server_process,
                args=(url, tasks, self._ready, self._go_event(), self._results),
            )
            for tasks in self._tasks
        ]
        for worker in self._workers:
            worker.start()

    def _go_event(self):
        if not hasattr(self, "_go"):
            self._go = self._context.Event()
        return self._go

    def race(self, driver_ids: list[int], evse_id: int, window) -> Outcome:
        """Spread the attempts over the processes and start them all at once."""
        self._go.clear()
        for index, tasks in enumerate(self._tasks):
            tasks.put((driver_ids[index :: self.count], evse_id, window))
        self._ready.wait()
        self._go.set()
        outcome = Outcome()
        for _ in self._tasks:
            booked, conflicts, at_insert, errors, latencies = self._results.get()
            outcome.booked += booked
            outcome.conflicts += conflicts
            outcome.conflicts_at_insert += at_insert
            outcome.errors += errors
            outcome.latencies_ms += latencies
        return outcome

    def close(self) -> None:
        """Stop the processes."""
        for tasks in self._tasks:
            tasks.put(None)
        for worker in self._workers:
            worker.join(timeout=30)
