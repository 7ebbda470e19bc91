"""Serve one PlugPool instance in its own process, for multi-process tests.

`python -m tests.ocpi.hub.serve DATABASE_URL [OWN_PARTY_ID]` binds a free loopback port,
prints `PORT <n>` and serves (threaded werkzeug) until terminated.
"""

from __future__ import annotations

import sys

from werkzeug.serving import make_server

from app import create_app


def main() -> None:
    """Start the instance; its public URL is its own loopback address."""
    overrides = {"DATABASE_URL": sys.argv[1]}
    if len(sys.argv) > 2:
        overrides["OWN_PARTY_ID"] = sys.argv[2]
    app = create_app("testing", overrides)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
