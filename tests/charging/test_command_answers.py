"""Starting a booked charger over the API: a refusal or no answer is an HTTP error, never a 200.

A real gateway (DB port, LocalBus) and a real `ocpp` charger that refuses or never answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import Flask
from ocpp.routing import on
from ocpp.v201 import call_result as result201

from app.accounts.models import ApiToken
from app.charging.commands import use_local_bus
from app.charging.models import BookingDispatch
from app.core.clock import utcnow
from app.core.security import digest_token, new_token
from app.extensions import db
from app.gateway.ports import OcppVersion
from tests.charging.support import Site, add_booking, db_gateway, eventually, read
from tests.charging.test_answer_then_close import boot201, online
from tests.gateway.support import Charger201, charger, run

T = TypeVar("T")


class RefusesStart(Charger201):
    """Answers RequestStartTransaction Rejected."""

    @on("RequestStartTransaction")
    def on_request_start(self, **payload: Any) -> result201.RequestStartTransaction:
        """Refuse."""
        return result201.RequestStartTransaction(status="Rejected")


class NeverAnswersStart(Charger201):
    """Takes RequestStartTransaction and never answers it (a charger that hangs)."""

    @on("RequestStartTransaction")
    async def on_request_start(self, **payload: Any) -> None:
        """Hang."""
        await asyncio.Event().wait()


async def while_online(app: Flask, site: Site, cls: type, act: Callable[[], Awaitable[T]]) -> T:
    """Run `act` while a charger of `cls` is booted and online on a real gateway (DB port)."""
    async with db_gateway(app) as gateway:
        use_local_bus(gateway.bus)
        try:
            async with charger(gateway, site.station_id, OcppVersion.V201, cls) as cp:
                assert (await cp.call(boot201())).status == "Accepted"
                await eventually(lambda: online(app, site.station_id))
                return await act()
        finally:
            use_local_bus(None)


def api_token(app: Flask, user_id: int) -> dict[str, str]:
    """Commit a bearer token for the user; return its Authorization header."""
    plain = new_token()
    with app.app_context():
        expires = utcnow() + timedelta(days=1)
        db.session.add(ApiToken(user_id=user_id, digest=digest_token(plain), expires_at=expires))
        db.session.commit()
    return {"Authorization": f"Bearer {plain}"}


def start_over_api(app: Flask, site: Site, cls: type, path: str) -> tuple[int, dict[str, Any]]:
    """Connect a charger of `cls`, POST the booking's start `path`; return status and body."""
    now = utcnow()
    booking_id = add_booking(app, site, now - timedelta(minutes=1), now + timedelta(hours=1))
    headers = api_token(app, site.driver_id)
    client = app.test_client()

    async def post() -> tuple[int, dict[str, Any]]:
        url = path.format(booking_id=booking_id)
        reply = await asyncio.to_thread(client.post, url, headers=headers)
        return reply.status_code, {"mimetype": reply.mimetype, **reply.get_json()}

    async def scenario() -> tuple[int, dict[str, Any]]:
        return await while_online(app, site, cls, post)

    return run(scenario)


def dispatch_status(app: Flask) -> str | None:
    """Return the remote start outcome kept on the only booking's dispatch."""
    return read(
        app, lambda: db.session.scalars(db.select(BookingDispatch)).one().remote_start_status
    )


API_START = "/api/v1/charging/bookings/{booking_id}/start"


def test_a_refused_start_is_a_409_problem(app: Flask, site: Site) -> None:
    status, body = start_over_api(app, site, RefusesStart, API_START)
    assert status == 409
    assert body["mimetype"] == "application/problem+json"
    assert (body["title"], body["charger_status"]) == ("Charger refused", "Rejected")
    assert dispatch_status(app) == "Rejected"


def test_a_start_the_charger_never_answers_is_a_504_problem(app: Flask, site: Site) -> None:
    app.config["GATEWAY_COMMAND_TIMEOUT"] = 1.0
    try:
        status, body = start_over_api(app, site, NeverAnswersStart, API_START)
    finally:
        app.config["GATEWAY_COMMAND_TIMEOUT"] = 30.0
    assert status == 504
    assert body["mimetype"] == "application/problem+json"
    assert body["status"] == 504 and body["charger_status"] == "CommandTimeout"
    assert "may still start" in body["detail"]
    assert dispatch_status(app) == "CommandTimeout"


def test_the_bookings_page_says_the_charger_refused_instead_of_started(
    app: Flask, site: Site
) -> None:
    with app.app_context():
        from app.accounts.models import User

        session_id = db.session.get(User, site.driver_id).get_id()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"], session["csrf"] = session_id, True, "csrf-1"
    now = utcnow()
    booking_id = add_booking(app, site, now - timedelta(minutes=1), now + timedelta(hours=1))

    async def start_then_read() -> str:
        url = f"/bookings/{booking_id}/start"
        await asyncio.to_thread(client.post, url, data={"csrf_token": "csrf-1"})
        page = await asyncio.to_thread(client.get, "/bookings")
        return page.get_data(as_text=True)

    async def scenario() -> str:
        return await while_online(app, site, RefusesStart, start_then_read)

    page = run(scenario)
    assert "The charger refused to start charging (Rejected)" in page
    assert "Charger started." not in page
