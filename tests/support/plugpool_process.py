"""A whole PlugPool instance for multi-process tests: its own database and its own web process.

The web process is `flask run` on a free port with the settings given as environment
variables; `instance.app` is an app on the same database and settings inside the test
process, for seeding data and for running the instance's jobs (the worker's part).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import requests
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from tests.support.http_server import free_port

ROOT = Path(__file__).resolve().parents[2]
ADMIN_URL = os.environ.get(
    "TEST_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@dataclass
class Instance:
    """A running PlugPool: base URL, in-test app, web process."""

    name: str
    base: str
    app: Flask
    process: subprocess.Popen

    @property
    def versions_url(self) -> str:
        return f"{self.base}/ocpi/versions"

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"


def _admin(sql: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(sql)


@contextmanager
def plugpool_instance(name: str, settings: dict[str, Any]) -> Iterator[Instance]:
    """Create a database, migrate it, start the web process; stop and drop it all afterwards."""
    database = f"plugpool_{name}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _admin(f'CREATE DATABASE "{database}"')
    url = make_url(ADMIN_URL).set(drivername="postgresql+psycopg", database=database)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = {
        "DATABASE_URL": url.render_as_string(hide_password=False),
        "PUBLIC_BASE_URL": base,
        **settings,
    }
    app = create_app("testing", config)
    process = None
    try:
        with app.app_context():
            upgrade()
        process = _start(config, port)
        _wait_healthy(base, process)
        yield Instance(name, base, app, process)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=15)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _start(config: dict[str, Any], port: int) -> subprocess.Popen:
    env = {**os.environ, "PLUGPOOL_ENV": "testing", "FLASK_APP": "wsgi:app"}
    env.update({key: str(value) for key, value in config.items()})
    command = [sys.executable, "-m", "flask", "run", "--port", str(port), "--no-reload"]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _wait_healthy(base: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"PlugPool at {base} exited with {process.returncode}")
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"PlugPool at {base} did not become healthy")
