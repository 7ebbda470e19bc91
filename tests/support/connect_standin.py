"""An HTTP stand-in for Stripe's Connect endpoints, which localstripe does not have.

It sits at the network edge: the real stripe SDK talks to it over HTTP (routed there with
StripeClient base_addresses). It checks the request shape the real API requires (path,
form-encoded parameters, bearer key) plus our own rule that every POST carries a PlugPool
idempotency key, keeps Stripe's idempotency semantics (replay, or an idempotency_error when
a key is reused with other parameters), and answers with JSON shaped like Stripe's.
It does not model balances, payouts or KYC: tests set an account's state directly.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.support.http_server import base_url, serving

Answer = tuple[int, dict[str, Any]]

PLUGPOOL_KEY = re.compile(r"^plugpool:[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+){2,}$")


class StripeErrorAnswer(Exception):
    """An error answer, in Stripe's JSON error shape."""

    def __init__(self, status: int, message: str, *, kind: str = "invalid_request_error", **extra):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": kind, "message": message, **extra}}


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the stand-in received it."""

    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, str]


def _new_id(prefix: str) -> str:
    """Return an id shaped like Stripe's (prefix plus 24 characters)."""
    return prefix + secrets.token_hex(12)


def _require(params: dict[str, str], *names: str) -> None:
    """Refuse the request if a required parameter is missing or empty."""
    for name in names:
        if not params.get(name):
            raise StripeErrorAnswer(
                400, f"Missing required param: {name}.", code="parameter_missing", param=name
            )


def _only(params: dict[str, str], *allowed: str) -> None:
    """Refuse parameters the endpoint does not know, as the real API does."""
    for name in params:
        if name.split("[", 1)[0] not in allowed:
            raise StripeErrorAnswer(
                400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name
            )


def _positive_int(params: dict[str, str], name: str) -> int:
    """Return params[name] as a positive integer of minor units, or refuse."""
    value = params.get(name, "")
    if not value.isdigit() or int(value) <= 0:
        raise StripeErrorAnswer(400, f"Invalid positive integer: {name}", param=name)
    return int(value)


def _nested(params: dict[str, str], prefix: str) -> dict[str, str]:
    """Return the sub-keys of a form-encoded hash, e.g. metadata[booking_id]."""
    pattern = re.compile(rf"^{re.escape(prefix)}\[([^\]]+)\]$")
    return {m.group(1): v for k, v in params.items() if (m := pattern.match(k))}


class ConnectStandIn:
    """In-memory Connect accounts, account links, transfers and reversals."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.accounts: dict[str, dict[str, Any]] = {}
        self.transfers: dict[str, dict[str, Any]] = {}
        self._replays: dict[str, tuple[str, Answer]] = {}
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self.url = ""
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., dict[str, Any]]]] = [
            ("POST", re.compile(r"^/v1/accounts$"), self._create_account),
            ("GET", re.compile(r"^/v1/accounts/(acct_\w+)$"), self._get_account),
            ("POST", re.compile(r"^/v1/account_links$"), self._create_account_link),
            ("POST", re.compile(r"^/v1/transfers$"), self._create_transfer),
            ("GET", re.compile(r"^/v1/transfers/(tr_\w+)$"), self._get_transfer),
            ("POST", re.compile(r"^/v1/transfers/(tr_\w+)/reversals$"), self._create_reversal),
        ]

    @property
    def posts(self) -> list[RecordedRequest]:
        """Return the POST requests received so far."""
        return [r for r in self.requests if r.method == "POST"]

    def fail_next(self, status: int, times: int = 1) -> None:
        """Make the next requests fail with an HTTP status, as an outage would."""
        self._failures.extend([status] * times)

    def set_account_state(self, account_id: str, **state: Any) -> None:
        """Change an account as Stripe would after onboarding (charges_enabled=True, ...)."""
        transfers = state.pop("transfers", None)
        self.accounts[account_id].update(state)
        if transfers is not None:
            self.accounts[account_id]["capabilities"]["transfers"] = transfers

    def complete_onboarding(self, account_id: str) -> None:
        """Mark an account as fully onboarded and able to receive transfers."""
        self.set_account_state(
            account_id,
            charges_enabled=True,
            payouts_enabled=True,
            details_submitted=True,
            transfers="active",
        )

    def handle(self, request: RecordedRequest) -> Answer:
        """Check and answer one request."""
        with self._lock:
            self.requests.append(request)
            try:
                self._check_common(request)
                if self._failures:
                    status = self._failures.pop(0)
                    raise StripeErrorAnswer(status, "Stand-in outage", kind="api_error")
                if request.method == "POST":
                    return self._idempotent(request)
                return 200, self._route(request)
            except StripeErrorAnswer as exc:
                return exc.status, exc.body

    def _check_common(self, request: RecordedRequest) -> None:
        """Check what every request to Stripe carries: a bearer secret key, a form body."""
        auth = request.headers.get("authorization", "")
        if not re.match(r"^Bearer sk_(test|live)_\w+$", auth):
            raise StripeErrorAnswer(401, "Invalid API Key provided")
        if request.method == "POST":
            content_type = request.headers.get("content-type", "")
            if not content_type.startswith("application/x-www-form-urlencoded"):
                raise StripeErrorAnswer(400, f"Unexpected content type {content_type!r}")

    def _idempotent(self, request: RecordedRequest) -> Answer:
        """Answer a POST once per idempotency key; replay it or refuse a changed reuse."""
        key = request.headers.get("idempotency-key", "")
        if not PLUGPOOL_KEY.match(key):
            # Stripe itself accepts POSTs without a key; this check is PlugPool's rule.
            raise StripeErrorAnswer(
                400, f"POST without a PlugPool idempotency key: {key!r}", code="plugpool_no_key"
            )
        fingerprint = json.dumps([request.path, sorted(request.params.items())])
        if key in self._replays:
            seen, answer = self._replays[key]
            if seen != fingerprint:
                raise StripeErrorAnswer(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters "
                    "they were first used with.",
                    kind="idempotency_error",
                )
            return answer
        answer: Answer = (200, self._route(request))
        self._replays[key] = (fingerprint, answer)
        return answer

    def _route(self, request: RecordedRequest) -> dict[str, Any]:
        """Dispatch to the endpoint's handler, or 404 like Stripe."""
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                return handler(request.params, *match.groups())
        raise StripeErrorAnswer(404, f"Unrecognized request URL ({request.method}: {request.path})")

    def _create_account(self, params: dict[str, str]) -> dict[str, Any]:
        """POST /v1/accounts: an Express account that still has to onboard."""
        _only(params, "type", "country", "email", "capabilities", "metadata", "business_type")
        _require(params, "type", "country")
        if params["type"] != "express":
            raise StripeErrorAnswer(400, "PlugPool only creates express accounts", param="type")
        if params.get("capabilities[transfers][requested]") != "true":
            raise StripeErrorAnswer(400, "Express accounts need requested capabilities")
        account = {
            "id": _new_id("acct_"),
            "object": "account",
            "type": "express",
            "country": params["country"],
            "email": params.get("email"),
            "default_currency": "eur",
            "created": int(time.time()),
            "charges_enabled": False,
            "payouts_enabled": False,
            "details_submitted": False,
            "capabilities": {"transfers": "inactive"},
            "requirements": {
                "currently_due": ["external_account", "tos_acceptance.date"],
                "disabled_reason": "requirements.past_due",
            },
            "metadata": _nested(params, "metadata"),
        }
        self.accounts[account["id"]] = account
        return account

    def _account(self, account_id: str) -> dict[str, Any]:
        """Return a known account or 404."""
        if account_id not in self.accounts:
            raise StripeErrorAnswer(404, f"No such account: '{account_id}'", param="account")
        return self.accounts[account_id]

    def _get_account(self, params: dict[str, str], account_id: str) -> dict[str, Any]:
        """GET /v1/accounts/{id}."""
        return self._account(account_id)

    def _create_account_link(self, params: dict[str, str]) -> dict[str, Any]:
        """POST /v1/account_links: a single-use onboarding URL that expires in 300 s."""
        _only(params, "account", "type", "refresh_url", "return_url", "collect")
        _require(params, "account", "type", "refresh_url", "return_url")
        self._account(params["account"])
        if params["type"] not in ("account_onboarding", "account_update"):
            raise StripeErrorAnswer(400, "Invalid type", param="type")
        for name in ("refresh_url", "return_url"):
            if not params[name].startswith(("http://", "https://")):
                raise StripeErrorAnswer(400, f"Not a valid URL: {name}", param=name)
        created = int(time.time())
        return {
            "object": "account_link",
            "created": created,
            "expires_at": created + 300,
            "url": f"https://connect.stripe.com/setup/e/{params['account']}/{secrets.token_urlsafe(16)}",
        }

    def _create_transfer(self, params: dict[str, str]) -> dict[str, Any]:
        """POST /v1/transfers: move the owner's share to their account."""
        _only(
            params,
            "amount",
            "currency",
            "destination",
            "source_transaction",
            "transfer_group",
            "metadata",
            "description",
        )
        _require(params, "amount", "currency", "destination")
        amount = _positive_int(params, "amount")
        if not re.match(r"^[a-z]{3}$", params["currency"]):
            raise StripeErrorAnswer(400, "Invalid currency", param="currency")
        destination = self._account(params["destination"])
        if destination["capabilities"]["transfers"] != "active":
            raise StripeErrorAnswer(
                400,
                "Your destination account needs to have at least one of the following "
                "capabilities enabled: transfers, crypto_transfers, legacy_payments",
                param="destination",
            )
        source = params.get("source_transaction")
        if source is not None and not source.startswith(("ch_", "py_")):
            raise StripeErrorAnswer(400, "No such charge", param="source_transaction")
        transfer = self._transfer_body(params, amount, source)
        self.transfers[transfer["id"]] = transfer
        return transfer

    @staticmethod
    def _transfer_body(params: dict[str, str], amount: int, source: str | None) -> dict[str, Any]:
        """Return a transfer object as Stripe shapes it."""
        transfer_id = _new_id("tr_")
        return {
            "id": transfer_id,
            "object": "transfer",
            "amount": amount,
            "amount_reversed": 0,
            "balance_transaction": _new_id("txn_"),
            "created": int(time.time()),
            "currency": params["currency"],
            "description": None,
            "destination": params["destination"],
            "destination_payment": _new_id("py_"),
            "livemode": False,
            "metadata": _nested(params, "metadata"),
            "reversals": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": 0,
                "url": f"/v1/transfers/{transfer_id}/reversals",
            },
            "reversed": False,
            "source_transaction": source,
            "source_type": "card",
            "transfer_group": params.get("transfer_group"),
        }

    def _get_transfer(self, params: dict[str, str], transfer_id: str) -> dict[str, Any]:
        """GET /v1/transfers/{id}."""
        if transfer_id not in self.transfers:
            raise StripeErrorAnswer(404, f"No such transfer: '{transfer_id}'", param="id")
        return self.transfers[transfer_id]

    def _create_reversal(self, params: dict[str, str], transfer_id: str) -> dict[str, Any]:
        """POST /v1/transfers/{id}/reversals: pull back all or part of a transfer."""
        _only(params, "amount", "description", "metadata", "refund_application_fee")
        transfer = self._get_transfer(params, transfer_id)
        left = transfer["amount"] - transfer["amount_reversed"]
        amount = _positive_int(params, "amount") if "amount" in params else left
        if amount > left:
            raise StripeErrorAnswer(
                400, "Amount is greater than the unreversed amount on the transfer", param="amount"
            )
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
        return {
            "id": _new_id("trr_"),
            "object": "transfer_reversal",
            "amount": amount,
            "balance_transaction": _new_id("txn_"),
            "created": int(time.time()),
            "currency": transfer["currency"],
            "destination_payment_refund": _new_id("pyr_"),
            "metadata": _nested(params, "metadata"),
            "source_refund": None,
            "transfer": transfer_id,
        }


def _handler_for(standin: ConnectStandIn) -> type[BaseHTTPRequestHandler]:
    """Return a request handler class bound to one stand-in."""

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            params = dict(parse_qsl(body or split.query, keep_blank_values=True))
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, answer = standin.handle(
                RecordedRequest(self.command, split.path, headers, params)
            )
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Request-Id", "req_" + secrets.token_hex(7))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    return Handler


@contextmanager
def running_connect_standin() -> Iterator[ConnectStandIn]:
    """Run a Connect stand-in on a free loopback port; its base URL is in .url."""
    standin = ConnectStandIn()
    with serving(_handler_for(standin)) as server:
        standin.url = base_url(server)
        yield standin
