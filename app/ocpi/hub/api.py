"""The hub's OCPI interface under /ocpi/hub: versions, credentials, hubclientinfo, routing.

`/ocpi/hub/{version}/{sender|receiver}/{module}/...` takes any method and is routed by the
OCPI-to headers; `/callback/{id}` and `/page/{id}` are the hub URLs that stand in for a
party's response_url and Link. Only parties on the hub get in (their tokens open nothing else).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, request
from flask.typing import ResponseReturnValue

from app.core.replica import stale_reads_ok
from app.ocpi.credentials import services as credentials
from app.ocpi.hub import clientinfo, identity
from app.ocpi.hub.getall import page_headers
from app.ocpi.hub.services import HubReply, HubRequest, relay_proxy, route
from app.ocpi.pagination import page_request
from app.ocpi.transport import (
    VERSION_RULE,
    current_partner,
    envelope,
    json_body,
    ocpi_endpoint,
)

blp = Blueprint("ocpi_hub", __name__, url_prefix="/ocpi/hub")
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@blp.get("/versions")
@ocpi_endpoint("versions", token_a=True, registered=False, hub=True)
def list_versions() -> ResponseReturnValue:
    """List the OCPI versions the hub serves."""
    return envelope(identity.versions())


@blp.get(f"/{VERSION_RULE}")
@ocpi_endpoint("versions", token_a=True, registered=False, hub=True)
def version_details(version: str) -> ResponseReturnValue:
    """List the hub's modules in one version."""
    return envelope(identity.version_details(version))


@blp.route(
    f"/{VERSION_RULE}/credentials", methods=["GET", "POST", "PUT", "DELETE"], strict_slashes=False
)
@ocpi_endpoint("credentials", token_a=True, registered=False, hub=True)
def hub_credentials(version: str) -> ResponseReturnValue:
    """Register, update or unregister a party on the hub; GET returns the hub's credentials."""
    partner = current_partner()
    if request.method == "GET":
        return envelope(identity.hub_credentials(g.ocpi_presented_token, version, partner))
    if request.method == "POST":
        return envelope(credentials.register_partner(partner, json_body(), version))
    if request.method == "PUT":
        return envelope(credentials.update_partner(partner, json_body(), version))
    credentials.unregister_partner(partner)
    return envelope()


@blp.get(f"/{VERSION_RULE}/hubclientinfo", strict_slashes=False)
@ocpi_endpoint("hubclientinfo", hub=True)
def list_client_infos(version: str) -> ResponseReturnValue:
    """The ClientInfo of every party the caller may talk to (paged)."""
    page = page_request()
    infos = clientinfo.list_for(current_partner())
    infos = [i for i in infos if _in_window(i["last_updated"], page.date_from, page.date_to)]
    served = infos[page.offset : page.offset + page.limit]
    return envelope(served, headers=page_headers(page.offset, page.limit, len(served), len(infos)))


@blp.route(f"/{VERSION_RULE}/callback/<proxy_id>", methods=["POST", "PUT"])
@ocpi_endpoint("hub", hub=True)
def callback(version: str, proxy_id: str) -> ResponseReturnValue:
    """Forward a party's asynchronous result to the party that asked (CommandResult etc.)."""
    return _reply(relay_proxy(_hub_request(version, "SENDER", "callback"), "callback", proxy_id))


@blp.get(f"/{VERSION_RULE}/page/<proxy_id>")
@ocpi_endpoint("hub", hub=True)
def page(version: str, proxy_id: str) -> ResponseReturnValue:
    """Follow a forwarded answer's Link (or Location) through the hub."""
    return _reply(relay_proxy(_hub_request(version, "SENDER", "page"), "page", proxy_id))


@blp.route(
    f"/{VERSION_RULE}/<any(sender, receiver):side>/<module>", methods=METHODS, strict_slashes=False
)
@blp.route(f"/{VERSION_RULE}/<any(sender, receiver):side>/<module>/<path:rest>", methods=METHODS)
@stale_reads_ok  # its GETs (GET all, forwarded GETs) read only parties and routes here
@ocpi_endpoint("hub", hub=True)
def routed(version: str, side: str, module: str, rest: str = "") -> ResponseReturnValue:
    """Route a functional module's request by its OCPI-to headers."""
    hub_request = _hub_request(version, side.upper(), module)
    hub_request.path = f"/{rest.strip('/')}" if rest.strip("/") else ""
    result = route(hub_request)
    return result if isinstance(result, Response) else _reply(result)


def _hub_request(version: str, interface: str, module: str) -> HubRequest:
    return HubRequest(
        sender_id=g.ocpi_partner_id,
        version=version,
        interface=interface,
        module=module,
        path="",
        method=request.method,
        args=list(request.args.items(multi=True)),
        body=request.get_data() if _has_body() else b"",
        headers=request.headers,
    )


def _has_body() -> bool:
    """Whether the request came with a body (most routed requests are GETs without one)."""
    environ = request.environ
    return bool(environ.get("CONTENT_LENGTH", "0") != "0" or "HTTP_TRANSFER_ENCODING" in environ)


def _reply(reply: HubReply) -> Response:
    return current_app.response_class(reply.body, status=reply.http_status, headers=reply.headers)


def _in_window(stamp: str, date_from: Any, date_to: Any) -> bool:
    from app.ocpi.schemas.common import OcpiDateTime

    moment = OcpiDateTime().deserialize(stamp)
    return (date_from is None or moment >= date_from) and (date_to is None or moment < date_to)
