"""The outbound client: SSRF guard, GET-only retries, timeouts, token encoding, tracing headers."""

from __future__ import annotations

import base64
import socket
import time
from http.server import BaseHTTPRequestHandler

import pytest

from app.ocpi.client import OcpiClient, check_url
from app.ocpi.errors import PartnerCallFailed, UnsafeUrl
from tests.support.http_server import base_url, serving


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/ocpi/versions",
        "https://127.0.0.1/ocpi/versions",
        "https://10.1.2.3/ocpi/versions",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/ocpi",
        "ftp://example.com/x",
    ],
)
def test_plain_http_and_private_addresses_are_refused(url):
    with pytest.raises(UnsafeUrl):
        check_url(url, allow_insecure=False)


def test_public_https_is_allowed_and_insecure_setting_opens_loopback():
    # check_url raises UnsafeUrl on refusal and returns None when the URL may be called.
    assert check_url("https://93.184.216.34/ocpi/versions", allow_insecure=False) is None
    assert check_url("http://127.0.0.1:8000/ocpi/versions", allow_insecure=True) is None
    with pytest.raises(UnsafeUrl):
        check_url("http://127.0.0.1:8000/ocpi/versions", allow_insecure=False)


def test_client_refuses_a_loopback_url_before_sending_anything(app, peer, monkeypatch):
    monkeypatch.setitem(app.config, "OCPI_ALLOW_INSECURE_URLS", False)
    with app.app_context(), pytest.raises(UnsafeUrl):
        OcpiClient("t").get(peer.versions_url)
    assert peer.state.requests == []


def test_get_is_retried_but_post_is_not(app, peer, monkeypatch):
    monkeypatch.setitem(app.config, "OCPI_GET_RETRIES", 2)
    peer.state.down = True
    with app.app_context():
        with pytest.raises(PartnerCallFailed):
            OcpiClient("t").get(peer.versions_url)
        assert len(peer.state.requests) == 3
        with pytest.raises(PartnerCallFailed):
            OcpiClient("t").post(f"{peer.state.base}/2.2.1/credentials", {})
    assert len(peer.state.requests) == 4


def test_a_silent_partner_times_out(app):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        with app.app_context():
            started = time.monotonic()
            with pytest.raises(PartnerCallFailed):
                OcpiClient("t", timeout=0.3).post(f"http://127.0.0.1:{port}/x", {})
            # Without the timeout the call would hang for good; the bound is loose on purpose.
            assert time.monotonic() - started < 30
    finally:
        listener.close()


def test_token_is_base64_unless_raw_and_tracing_headers_are_sent(app, peer):
    peer.state.tokens_accepted.add("secret-1")
    with app.app_context():
        OcpiClient("secret-1", correlation_id="corr-9").get(peer.versions_url)
        with pytest.raises(PartnerCallFailed):
            OcpiClient("secret-1", raw_token=True).get(peer.versions_url)
    encoded, raw = (r.headers for r in peer.state.requests)
    assert encoded["Authorization"] == "Token " + base64.b64encode(b"secret-1").decode()
    assert raw["Authorization"] == "Token secret-1"
    assert encoded["X-Correlation-ID"] == "corr-9" and len(encoded["X-Request-ID"]) == 36
    # Configuration modules are not routed: no OCPI-from/to headers without a target party.
    assert "OCPI-from-party-id" not in encoded


def _redirecting_to(target: str) -> type[BaseHTTPRequestHandler]:
    class Redirect(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    return Redirect


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_redirect_is_not_followed_so_no_hop_escapes_the_url_guard(app, peer, method):
    # The redirect's target stands for an internal address the first URL's check never saw.
    with serving(_redirecting_to(peer.versions_url)) as server, app.app_context():
        client = OcpiClient("t")
        with pytest.raises(PartnerCallFailed, match="redirect"):
            getattr(client, method)(f"{base_url(server)}/ocpi/versions")
    assert peer.state.requests == []
