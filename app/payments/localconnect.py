"""Stripe Connect for the local Stripe stand-in (`make run`): localstripe has none.

Express accounts, account links with a local onboarding page, transfers and reversals,
added to localstripe's aiohttp app at the network edge, so the real `stripe` SDK and the
owner's browser talk to them over HTTP as they would to Stripe. State lives in
localstripe's store (kept in the state file). No KYC: the onboarding page has one button.
"""

from __future__ import annotations

import html
import secrets
import time
from typing import Any

ACCOUNT, LINK, TRANSFER = "plugpool_account:", "plugpool_link:", "plugpool_transfer:"
# Accounts of `flask demo seed`'s owners: known here as onboarded, so demo payouts work.
DEMO_ACCOUNT_PREFIX = "acct_demo"
LINK_SECONDS = 300


def _new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(12)


def install(app: Any) -> None:
    """Add the Connect routes to localstripe's aiohttp app (before it starts)."""
    from aiohttp import web
    from localstripe.errors import UserError
    from localstripe.resources import store
    from localstripe.server import get_post_data, json_response

    def account(account_id: str) -> dict[str, Any]:
        found = store.get(ACCOUNT + account_id)
        if found is None and account_id.startswith(DEMO_ACCOUNT_PREFIX):
            found = _demo_account(account_id)
            save(ACCOUNT + account_id, found)
        if found is None:
            raise UserError(404, f"No such account: '{account_id}'")
        return found

    def save(key: str, value: dict[str, Any]) -> None:
        store[key] = dict(value)  # the store persists on assignment

    async def create_account(request: web.Request) -> web.Response:
        data = await get_post_data(request) or {}
        if data.get("type") != "express" or not data.get("country"):
            raise UserError(400, "type=express and country are required")
        created = {
            "id": _new_id("acct_"),
            "object": "account",
            "type": "express",
            "country": data["country"],
            "email": data.get("email"),
            "default_currency": "eur",
            "created": int(time.time()),
            "charges_enabled": False,
            "payouts_enabled": False,
            "details_submitted": False,
            "capabilities": {"transfers": "inactive"},
            "requirements": {"currently_due": ["external_account", "tos_acceptance.date"]},
            "metadata": data.get("metadata") or {},
        }
        save(ACCOUNT + created["id"], created)
        return json_response(created)

    async def get_account(request: web.Request) -> web.Response:
        return json_response(account(request.match_info["id"]))

    async def create_link(request: web.Request) -> web.Response:
        data = await get_post_data(request) or {}
        for name in ("account", "type", "refresh_url", "return_url"):
            if not data.get(name):
                raise UserError(400, f"Missing required param: {name}.")
        account(data["account"])
        token = secrets.token_urlsafe(16)
        created = int(time.time())
        save(
            LINK + token,
            {
                "account": data["account"],
                "return_url": data["return_url"],
                "refresh_url": data["refresh_url"],
                "expires_at": created + LINK_SECONDS,
            },
        )
        base = f"{request.scheme}://{request.host}"
        return json_response(
            {
                "object": "account_link",
                "created": created,
                "expires_at": created + LINK_SECONDS,
                "url": f"{base}/_config/connect/onboard/{token}",
            }
        )

    def link(token: str) -> dict[str, Any]:
        found = store.get(LINK + token)
        if found is None or found["expires_at"] < time.time():
            raise web.HTTPGone(text="This onboarding link has expired; start again from PlugPool.")
        return found

    async def onboarding_page(request: web.Request) -> web.Response:
        found = link(request.match_info["token"])
        acct = account(found["account"])
        page = _ONBOARDING_PAGE.format(
            email=html.escape(acct.get("email") or ""),
            action=html.escape(f"/_config/connect/onboard/{request.match_info['token']}"),
            cancel=html.escape(found["refresh_url"]),
        )
        return web.Response(text=page, content_type="text/html")

    async def complete_onboarding(request: web.Request) -> web.Response:
        token = request.match_info["token"]
        found = link(token)
        acct = account(found["account"])
        acct.update(
            charges_enabled=True,
            payouts_enabled=True,
            details_submitted=True,
            capabilities={"transfers": "active"},
            requirements={"currently_due": []},
        )
        save(ACCOUNT + acct["id"], acct)
        del store[LINK + token]  # single use, as Stripe's
        raise web.HTTPSeeOther(found["return_url"])

    async def create_transfer(request: web.Request) -> web.Response:
        data = await get_post_data(request) or {}
        amount = int(data.get("amount") or 0)
        destination = account(data.get("destination") or "")
        if amount <= 0 or not data.get("currency"):
            raise UserError(400, "amount and currency are required")
        if destination["capabilities"].get("transfers") != "active":
            raise UserError(400, "The destination account cannot receive transfers yet")
        created = {
            "id": _new_id("tr_"),
            "object": "transfer",
            "amount": amount,
            "amount_reversed": 0,
            "currency": data["currency"],
            "destination": destination["id"],
            "source_transaction": data.get("source_transaction"),
            "transfer_group": data.get("transfer_group"),
            "metadata": data.get("metadata") or {},
            "reversed": False,
            "reversals": {"object": "list", "data": []},
            "created": int(time.time()),
        }
        save(TRANSFER + created["id"], created)
        return json_response(created)

    def transfer(transfer_id: str) -> dict[str, Any]:
        found = store.get(TRANSFER + transfer_id)
        if found is None:
            raise UserError(404, f"No such transfer: '{transfer_id}'")
        return found

    async def get_transfer(request: web.Request) -> web.Response:
        return json_response(transfer(request.match_info["id"]))

    async def list_transfers(request: web.Request) -> web.Response:
        destination = request.query.get("destination")
        found = [
            value
            for key, value in store.items()
            if key.startswith(TRANSFER) and destination in (None, value["destination"])
        ]
        return json_response({"object": "list", "data": found, "has_more": False})

    async def create_reversal(request: web.Request) -> web.Response:
        data = await get_post_data(request) or {}
        tr = transfer(request.match_info["id"])
        left = tr["amount"] - tr["amount_reversed"]
        amount = int(data.get("amount") or left)
        if amount <= 0 or amount > left:
            raise UserError(400, f"Reversal amount {amount} exceeds what is left ({left})")
        reversal = {
            "id": _new_id("trr_"),
            "object": "transfer_reversal",
            "amount": amount,
            "currency": tr["currency"],
            "transfer": tr["id"],
            "metadata": data.get("metadata") or {},
            "created": int(time.time()),
        }
        tr["amount_reversed"] += amount
        tr["reversed"] = tr["amount_reversed"] == tr["amount"]
        tr["reversals"]["data"].append(reversal)
        save(TRANSFER + tr["id"], tr)
        return json_response(reversal)

    # Ahead of localstripe's own routes, which would answer these paths with 404.
    app.router.add_post("/v1/accounts", create_account)
    app.router.add_get("/v1/accounts/{id}", get_account)
    app.router.add_post("/v1/account_links", create_link)
    app.router.add_get("/_config/connect/onboard/{token}", onboarding_page)
    app.router.add_post("/_config/connect/onboard/{token}", complete_onboarding)
    app.router.add_post("/v1/transfers", create_transfer)
    app.router.add_get("/v1/transfers", list_transfers)
    app.router.add_get("/v1/transfers/{id}", get_transfer)
    app.router.add_post("/v1/transfers/{id}/reversals", create_reversal)


def _demo_account(account_id: str) -> dict[str, Any]:
    return {
        "id": account_id,
        "object": "account",
        "type": "express",
        "country": "NL",
        "email": None,
        "default_currency": "eur",
        "created": int(time.time()),
        "charges_enabled": True,
        "payouts_enabled": True,
        "details_submitted": True,
        "capabilities": {"transfers": "active"},
        "requirements": {"currently_due": []},
        "metadata": {"demo": "true"},
    }


_ONBOARDING_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Payout set-up (local test mode)</title>
<style>body{{font:16px system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}}
button{{font:inherit;padding:.6rem 1rem;background:#635bff;color:#fff;border:0;
  border-radius:.4rem}}</style>
</head><body>
<h1>Set up payouts</h1>
<p>This is the local stand-in for Stripe Connect Express onboarding, used when PlugPool runs
without Stripe keys. Stripe would ask for your identity, address and bank account here.</p>
<p>Account e-mail: <strong>{email}</strong></p>
<form method="post" action="{action}"><button type="submit">Agree and finish set-up</button></form>
<p><a href="{cancel}">Back to PlugPool without finishing</a></p>
</body></html>
"""
