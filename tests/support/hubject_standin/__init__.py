"""A Hubject stand-in for the tests: its own process, OICP 2.3 over mutual TLS.

`StandIn(pki)` starts `python -m tests.support.hubject_standin` on a free port and talks to
its control endpoints (`/_standin/...`) with PlugPool's client certificate.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

from tests.support.hubject_standin.certs import Pki

ROOT = Path(__file__).resolve().parents[3]


class StandIn:
    """The running stand-in process."""

    def __init__(self, pki: Pki, certs_dir: Path) -> None:
        self.pki = pki
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.hubject_standin", "--certs", str(certs_dir)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.isdigit():
            self.close()
            raise RuntimeError("the Hubject stand-in did not start")
        self.port = int(line)
        self.url = f"https://127.0.0.1:{self.port}/api/oicp"
        self.session = requests.Session()
        # Per request below: requests lets REQUESTS_CA_BUNDLE override a Session's verify.
        self.tls = {"cert": (pki.plugpool_client.cert, pki.plugpool_client.key), "verify": pki.ca}

    def _control(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = self.session.post(
            f"https://127.0.0.1:{self.port}/_standin/{name}", json=body, timeout=60, **self.tls
        )
        reply.raise_for_status()
        return reply.json()  # type: ignore[no-any-return]

    def state(self, brief: bool = False) -> dict[str, Any]:
        """What the stand-in holds and every validation error it saw."""
        suffix = "?brief=1" if brief else ""
        reply = self.session.get(
            f"https://127.0.0.1:{self.port}/_standin/state{suffix}", timeout=60, **self.tls
        )
        reply.raise_for_status()
        return reply.json()  # type: ignore[no-any-return]

    def configure(self, **settings: Any) -> None:
        """Cards it authorises, size of its EVSE world, changes, CDRs, PlugPool's base URL."""
        self._control("configure", settings)

    def drive(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a message to PlugPool as Hubject; returns status, body and elapsed_ms."""
        return self._control("drive", {"path": path, "body": body})

    def close(self) -> None:
        """Stop the process."""
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
