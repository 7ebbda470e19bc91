"""Serve one PlugPool instance in its own process, for multi-process tests.

`python -m tests.ocpi.hub.serve DATABASE_URL [OWN_PARTY_ID]` binds a free loopback port,
prints `PORT <n>` and serves (threaded werkzeug) until terminated; `Instance` starts one.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from app import create_app
from app.extensions import db

ROOT = Path(__file__).resolve().parents[3]


def main() -> None:
    """Start the instance; its public URL is its own loopback address."""
    # Its message log written with each request: a test reads it right after a request.
    overrides = {"DATABASE_URL": sys.argv[1], "HUB_MESSAGE_FLUSH_SECONDS": 0}
    if len(sys.argv) > 2:
        overrides["OWN_PARTY_ID"] = sys.argv[2]
    app = create_app("testing", overrides)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()


class Instance:
    """A PlugPool process on a free port, and an app on the same database for its CLI and jobs."""

    def __init__(self, database_url: str, log: Path) -> None:
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.ocpi.hub.serve", database_url],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        line = self.process.stdout.readline() if self.process.stdout else ""
        assert line.startswith("PORT "), f"instance did not start: {log.read_text()}"
        self.base = f"http://127.0.0.1:{int(line.split()[1])}"
        self.app = create_app(
            "testing", {"DATABASE_URL": database_url, "PUBLIC_BASE_URL": self.base}
        )

    def url(self, path: str) -> str:
        return f"{self.base}/ocpi/{path}"

    def cli(self, *args: str) -> str:
        result = self.app.test_cli_runner().invoke(args=list(args))
        assert result.exit_code == 0, result.output
        return result.output

    def job(self, work: Any) -> Any:
        with self.app.app_context():
            return work()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.log.close()
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
