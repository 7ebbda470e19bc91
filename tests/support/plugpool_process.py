"""A second PlugPool, in its own process and database, as the far party of a roaming test."""

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


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new database migrated to head (SQLAlchemy URL), dropped afterwards."""
    name = f"plugpool_peer_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
    rendered = url.render_as_string(hide_password=False)
    try:
        app = create_app("testing", {"DATABASE_URL": rendered})
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            db.engine.dispose()
        yield rendered
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def plugpool_process(database_url: str, **settings: str) -> Iterator[str]:
    """Serve PlugPool (testing profile, the given settings) on a free port; yield its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PLUGPOOL_ENV": "testing",
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": base,
        **settings,
    }
    command = [
        sys.executable, "-m", "flask", "--app", "wsgi:app", "run", "--host", "127.0.0.1",
        "--port", str(port), "--no-reload", "--no-debugger", "--with-threads",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_until_up(f"{base}/healthz", process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"PlugPool process exited with {process.returncode}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError("PlugPool process did not start")


@dataclass
class Instance:
    """A running PlugPool: its base URL, and an app on its database inside the test process
    (to seed data and to run its jobs, the worker's part)."""

    name: str
    base: str
    app: Flask

    @property
    def versions_url(self) -> str:
        return f"{self.base}/ocpi/versions"

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"


@contextmanager
def plugpool_instance(name: str, settings: dict[str, str]) -> Iterator[Instance]:
    """A whole PlugPool: its own migrated database and web process, with these settings."""
    with scratch_database() as url, plugpool_process(url, **settings) as base:
        app = create_app("testing", {"DATABASE_URL": url, "PUBLIC_BASE_URL": base, **settings})
        try:
            yield Instance(name, base, app)
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
