"""The independent extrawest-ocpi peer (tests/support/extrawest_peer) as a process of its own."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from tests.support.http_server import free_port

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-extrawest"
SERVER = ROOT / "tests" / "support" / "extrawest_peer" / "server.py"


def venv_python() -> Path:
    """The peer's own virtual environment (created once, kept in the gitignored worktree)."""
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    check = subprocess.run([str(python), "-c", "import py_ocpi, uvicorn"], capture_output=True)
    if check.returncode != 0:
        pip = [str(python), "-m", "pip", "install", "-q", "extrawest-ocpi", "uvicorn"]
        subprocess.run(pip, check=True, timeout=600)
    return python


class Extrawest:
    """A running peer: its versions URL and its in-memory store (read and set over HTTP)."""

    def __init__(self, base: str) -> None:
        self.base = base

    @property
    def versions_url(self) -> str:
        return f"{self.base}/ocpi/versions"

    def store(self) -> dict[str, Any]:
        return requests.get(f"{self.base}/_store", timeout=10).json()

    def received(self, module: str) -> Any:
        """Pushes to it as an eMSP: by "cc*pid*id" (lower case); "<module>_log" in order."""
        return self.store()["received"].get(module, {})

    def set(self, **values: Any) -> None:
        requests.post(f"{self.base}/_store", json=values, timeout=10).raise_for_status()


@contextmanager
def running_extrawest(
    token_a: str, country_code: str, party_id: str, role: str = "cpo"
) -> Iterator[Extrawest]:
    """Start the peer on a free port in the given role; stop it afterwards."""
    python = venv_python()
    port = free_port()
    process = subprocess.Popen(
        [str(python), str(SERVER), str(port), token_a, country_code, party_id, role],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                requests.get(f"{base}/_store", timeout=2)
                break
            except requests.RequestException:
                assert process.poll() is None, "extrawest peer exited"
                time.sleep(0.3)
        yield Extrawest(base)
    finally:
        process.terminate()
        process.wait(timeout=15)
