"""Operators' endpoints: /metrics by route, /livez, /readyz, request ids and JSON log lines."""

from __future__ import annotations

import json
import logging

from app import create_app
from app.core.logs import JsonFormatter, RequestIdFilter
from app.core.outbox import emit
from app.extensions import db
from tests.support.metrics import sample, scrape

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
    (rule,) = {r for r in rules if "<" in r}
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


def test_every_response_carries_a_request_id_and_keeps_a_sane_one(client):
    mine = client.get("/livez", headers={"X-Request-ID": "abc-123"})
    made = client.get("/livez", headers={"X-Request-ID": "bad id; drop table"})

    assert mine.headers["X-Request-ID"] == "abc-123"
    assert made.headers["X-Request-ID"] not in ("", "bad id; drop table")


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
