"""Run the stand-in: `python -m tests.support.hubject_standin --certs DIR`; prints its port."""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

from tests.support.hubject_standin.server import make_server


def main() -> None:
    """Serve until killed; the first stdout line is the port."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--certs", required=True, help="directory made by certs.make_pki")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    certs = Path(args.certs)
    server = make_server(
        args.port,
        str(certs / "hubject-server.crt"),
        str(certs / "hubject-server.key"),
        str(certs / "ca.crt"),
        (str(certs / "hubject-client.crt"), str(certs / "hubject-client.key")),
    )
    # Everything loaded so far lives as long as the process: keep the cyclic GC from rescanning
    # it while 10,000-record batches come and go (as app.oicp.bulk.few_collections does).
    gc.freeze()
    print(server.server_address[1], flush=True)
    sys.stdout.close()
    server.serve_forever(0.05)


if __name__ == "__main__":
    main()
