"""Serve the app over HTTPS that requires a client certificate from Hubject's CA (mutual TLS)."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server


def mtls_context(cert: str, key: str, client_ca: str) -> ssl.SSLContext:
    """A server TLS context that refuses clients without a certificate signed by `client_ca`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    context.load_verify_locations(client_ca)
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def mtls_server(
    app: Flask, host: str, port: int, cert: str, key: str, client_ca: str
) -> BaseWSGIServer:
    """A threaded WSGI server for the app behind mutual TLS (port 0: a free one)."""
    return make_server(
        host, port, app, threaded=True, ssl_context=mtls_context(cert, key, client_ca)
    )


@contextmanager
def serving(app: Flask, cert: str, key: str, client_ca: str) -> Iterator[BaseWSGIServer]:
    """Serve on a free loopback port in a thread for the duration of the block."""
    server = mtls_server(app, "127.0.0.1", 0, cert, key, client_ca)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
