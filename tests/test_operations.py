"""Operators' endpoints: /metrics by route, /livez, /readyz, request ids and JSON log lines."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from app import create_app
from app.core.logs import JsonFormatter, RequestIdFilter, uuid4_text
from app.core.outbox import emit
from app.extensions import db
from tests.support.http_server import free_port
from tests.support.metrics import sample, scrape

ROOT = Path(__file__).resolve().parents[1]

LATENCY = "plugpool_http_request_duration_seconds_count"


def test_request_latency_is_labelled_by_url_rule_not_raw_path(client):
    before = scrape(client)

    client.get("/api/v1/listings/123456")
    client.get("/api/v1/listings/654321")
    after = scrape(client)

    rules = {
        labels["route"]
        for labels in _labels(after, LATENCY)
        if labels["route"].startswith("/api/v1/listings/")
    }
    assert rules and all("123456" not in rule and "654321" not in rule for rule in rules)
    rule = "/api/v1/listings/<int:listing_id>"
    assert rule in rules
    assert sample(after, LATENCY, route=rule, method="GET") == (
        sample(before, LATENCY, route=rule, method="GET") + 2
    )


def test_outbox_backlog_gauge_counts_undelivered_events_at_scrape_time(client):
    before = sample(scrape(client), "plugpool_outbox_backlog", topic="ops.test")

    emit(db.session, "ops.test", "test", "1", {})
    emit(db.session, "ops.test", "test", "2", {})
    db.session.commit()

    after = sample(scrape(client), "plugpool_outbox_backlog", topic="ops.test")
    assert after == before + 2


def test_livez_answers_without_the_database(database_url):
    app = create_app("testing", {"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"})

    assert app.test_client().get("/livez").status_code == 200
    assert app.test_client().get("/readyz").status_code == 503


def test_readyz_is_200_when_database_answers(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.get_json()["checks"]["database"]["status"] == "ok"


def test_readyz_is_503_problem_when_configured_redis_is_unreachable(database_url):
    app = create_app(
        "testing",
        {
            "DATABASE_URL": database_url,
            "GATEWAY_BUS": "redis",
            "REDIS_URL": "redis://127.0.0.1:1/0",
        },
    )

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["checks"]["redis"]["status"] == "down"
    assert response.get_json()["checks"]["database"]["status"] == "ok"


def test_readyz_reports_a_replica_that_is_down_and_stays_ready(database_url):
    app = create_app(
        "testing",
        {
            "DATABASE_URL": database_url,
            "DATABASE_REPLICA_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none",
        },
    )

    response = app.test_client().get("/readyz")

    assert response.status_code == 200  # reads fall back to the primary
    replica = response.get_json()["checks"]["replica"]
    assert (replica["status"], replica["reads"]) == ("down", "primary")


def test_readyz_says_nothing_of_a_replica_when_none_is_configured(client):
    assert "replica" not in client.get("/readyz").get_json()["checks"]


def test_every_response_carries_a_request_id_and_keeps_a_sane_one(client):
    mine = client.get("/livez", headers={"X-Request-ID": "abc-123"})
    made = client.get("/livez", headers={"X-Request-ID": "bad id; drop table"})

    assert mine.headers["X-Request-ID"] == "abc-123"
    assert made.headers["X-Request-ID"] not in ("", "bad id; drop table")
    # One we make is a random UUID4, written as str(uuid.uuid4()) writes one.
    made_id = made.headers["X-Request-ID"]
    assert str(uuid.UUID(made_id)) == made_id and uuid.UUID(made_id).version == 4
    assert client.get("/livez").headers["X-Request-ID"] != made_id


def test_a_request_id_made_from_random_bytes_is_their_uuid4():
    for _ in range(2000):
        random = os.urandom(16)
        assert uuid4_text(random) == str(uuid.UUID(bytes=random, version=4))
    for random in (bytes(16), b"\xff" * 16):
        assert uuid4_text(random) == str(uuid.UUID(bytes=random, version=4))


def test_json_log_lines_name_the_request_id(database_url):
    app = create_app("testing", {"DATABASE_URL": database_url})
    logger = logging.getLogger("plugpool.ops-test")

    @app.get("/__log_probe")
    def probe() -> str:
        logger.warning("probe line")
        return "ok"

    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Keep()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    try:
        app.test_client().get("/__log_probe", headers={"X-Request-ID": "req-42"})
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)

    inside, outside = (json.loads(line) for line in lines)
    assert inside["request_id"] == "req-42" and inside["message"] == "probe line"
    assert inside["level"] == "WARNING" and inside["logger"] == "plugpool.ops-test"
    assert outside["request_id"] == "-"


def test_log_format_json_installs_a_json_handler_on_the_root_logger(database_url):
    root = logging.getLogger()
    kept = list(root.handlers)
    try:
        create_app("testing", {"DATABASE_URL": database_url, "LOG_FORMAT": "json"})
        added = [h for h in root.handlers if h not in kept]
        assert len(added) == 1 and isinstance(added[0].formatter, JsonFormatter)
    finally:
        for handler in [h for h in root.handlers if h not in kept]:
            root.removeHandler(handler)


def _labels(text: str, name: str) -> list[dict[str, str]]:
    from prometheus_client.parser import text_string_to_metric_families

    return [
        s.labels
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    ]


@pytest.mark.slow
def test_metrics_add_up_over_gunicorn_workers_in_multiprocess_mode(
    database_url, tmp_path, committed_db
):
    port = free_port()
    env = {
        **os.environ,
        "PLUGPOOL_ENV": "testing",
        "DATABASE_URL": database_url,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
    }
    command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "wsgi:app"]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/livez", process)
        with requests.Session() as http:
            for _ in range(20):
                # A fresh connection each time, so both workers serve some of them.
                requests.get(f"{base}/livez", timeout=10)
            text = http.get(f"{base}/metrics", timeout=10).text
        pids = {path.name.split("_")[-1] for path in tmp_path.glob("histogram_*.db")}
    finally:
        process.terminate()
        process.wait(15)

    # The warm-up polls before the 20 may have answered too: at least 20, summed over workers.
    assert sample(text, LATENCY, route="/livez", method="GET") >= 20
    assert len(pids) >= 1


def _wait_for(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError(url)


def test_celery_queue_depth_counts_messages_waiting_on_redis(app, database_url):
    import redis

    from app.core.celery import celery_app, init_celery

    broker = "redis://127.0.0.1:6379/12"
    queue = f"plugpool-depth-{os.getpid()}-{time.monotonic_ns()}"
    worker_app = create_app(
        "testing",
        {"DATABASE_URL": database_url, "CELERY_ALWAYS_EAGER": False, "CELERY_BROKER_URL": broker},
    )
    try:
        # On this broker explicitly: an earlier test's producer pool may hold another broker's
        # connection. No worker listens on this queue: the messages wait.
        with celery_app.connection_for_write(broker) as connection:
            for _ in range(3):
                celery_app.send_task("plugpool.test.nothing", queue=queue, connection=connection)
        text = scrape(worker_app.test_client())
        assert sample(text, "plugpool_celery_queue_length", queue=queue) == 3
        assert 'plugpool_celery_queue_length{queue="celery"}' in text
    finally:
        celery_app.amqp.queues.pop(queue, None)
        redis.Redis.from_url(broker).delete(queue)
        init_celery(app)  # the suite's app again: tasks eager, its broker
