"""A tiny threaded HTTP server on a free loopback port, for stand-ins at the network edge."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[ThreadingHTTPServer]:
    """Serve handler on 127.0.0.1 in a daemon thread for the duration of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # A short poll interval keeps shutdown, hence fixture teardown, quick.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def base_url(server: ThreadingHTTPServer) -> str:
    """Return the http:// URL the server listens on."""
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"
