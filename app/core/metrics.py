"""Prometheus metrics of the web app: GET /metrics, request latency, outcomes, OCPI backlog.

Under gunicorn with PROMETHEUS_MULTIPROC_DIR set, every worker writes its samples to that
directory and a scrape adds them up (prometheus-client's multi-process mode); the outbox
figures are read from the database at scrape time, so they need no process of their own.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

log = logging.getLogger("plugpool.metrics")
blp = Blueprint("metrics", __name__)

REQUEST_SECONDS = Histogram(
    "plugpool_http_request_duration_seconds",
    "HTTP request latency by route (the URL rule, not the raw path).",
    ["method", "route", "status"],
)
BOOKING_OUTCOMES = Counter(
    "plugpool_booking_outcomes_total", "Committed booking outcomes by kind.", ["outcome"]
)
PAYMENT_OUTCOMES = Counter(
    "plugpool_payment_outcomes_total", "Payment outcomes (ledger entries, declines).", ["outcome"]
)
OCPI_PUSH_FAILURES = Counter(
    "plugpool_ocpi_push_failures_total", "OCPI pushes a partner refused or missed.", ["partner"]
)
_PENDING = "plugpool_metrics_outcomes"


def count_on_commit(session: Session, counter: Counter, outcome: str) -> None:
    """Count `outcome` once the session's transaction commits; a rollback forgets it."""
    session.info.setdefault(_PENDING, []).append((counter, outcome))


def _flush_counts(session: Session) -> None:
    for counter, outcome in session.info.pop(_PENDING, ()):
        counter.labels(outcome=outcome).inc()


def _drop_counts(session: Session) -> None:
    session.info.pop(_PENDING, None)


class OutboxCollector(Collector):
    """Undelivered outbox events by topic and the age of the oldest, read at scrape time."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from app.core.clock import utcnow
        from app.core.outbox import OutboxEvent
        from app.extensions import db

        backlog = GaugeMetricFamily(
            "plugpool_outbox_backlog", "Undelivered outbox events by topic.", labels=["topic"]
        )
        oldest = GaugeMetricFamily(
            "plugpool_outbox_oldest_seconds",
            "Age of the oldest undelivered outbox event by topic.",
            labels=["topic"],
        )
        rows = db.session.execute(
            select(OutboxEvent.topic, func.count(), func.min(OutboxEvent.created_at))
            .where(OutboxEvent.delivered_at.is_(None))
            .group_by(OutboxEvent.topic)
        ).all()
        now = utcnow()
        for topic, count, first in rows:
            backlog.add_metric([topic], count)
            if first is not None:
                first = first if first.tzinfo else first.replace(tzinfo=now.tzinfo)
                oldest.add_metric([topic], (now - first).total_seconds())
        yield backlog
        yield oldest


class CeleryQueueCollector(Collector):
    """Messages waiting in each Celery queue on the broker, read at scrape time."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from kombu.exceptions import ChannelError, KombuError

        depth = GaugeMetricFamily(
            "plugpool_celery_queue_length",
            "Messages waiting in each Celery queue (all priorities), by queue name.",
            labels=["queue"],
        )
        config = self.app.config
        celery = self.app.extensions.get("celery")
        if celery is None or config.get("CELERY_ALWAYS_EAGER"):
            return  # tasks run in the caller: there is no queue
        broker = config.get("CELERY_BROKER_URL") or config["REDIS_URL"]
        try:
            # One try, two seconds at most: a scrape must answer while the broker is down.
            with celery.connection_for_read(
                url=broker, connect_timeout=2, transport_options={"max_retries": 0}
            ) as connection:
                channel = connection.default_channel
                # The default queue always: amqp.queues only lists queues this process declared.
                names = set(celery.amqp.queues) | {celery.conf.task_default_queue}
                for name in sorted(names):
                    try:  # passive: count, never create (kombu sums Redis' priority lists)
                        waiting = channel.queue_declare(queue=name, passive=True).message_count
                    except ChannelError:  # never declared: nothing was ever sent to it
                        waiting = 0
                    depth.add_metric([name], waiting)
        except (OSError, KombuError, ConnectionError) as error:
            log.warning("Celery queue depth unavailable: %s", error)
            return
        yield depth


# The histogram's child per (method, route, status), looked up without labels()' lock and
# label checks on every request; it holds the same keys prometheus-client keeps anyway.
_TIMERS: dict[tuple[str, str, int], Any] = {}


def _timer(method: str, rule: str, status: int) -> Any:
    key = (method, rule, status)
    timer = _TIMERS.get(key)
    if timer is None:
        timer = _TIMERS[key] = REQUEST_SECONDS.labels(method, rule, str(status))
    return timer


def init_app(app: Flask) -> None:
    """Time every request and count outcomes when their transaction commits."""
    from sqlalchemy import event

    from app.extensions import db

    app.register_blueprint(blp)
    if not getattr(Session, "_plugpool_metrics", False):
        event.listen(Session, "after_commit", _flush_counts)
        event.listen(Session, "after_rollback", _drop_counts)
        Session._plugpool_metrics = True  # type: ignore[attr-defined]
    del db

    @app.before_request
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.pop("metrics_started", None)
        if started is not None:
            current = request._get_current_object()  # type: ignore[attr-defined]
            url_rule = current.url_rule
            rule = url_rule.rule if url_rule is not None else "<unmatched>"
            _timer(current.method, rule, response.status_code).observe(
                time.perf_counter() - started
            )
        return response


@blp.get("/metrics")
def metrics() -> Any:
    """Serve every metric in Prometheus' text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_Default())
    registry.register(OutboxCollector())
    registry.register(CeleryQueueCollector(current_app._get_current_object()))  # type: ignore[attr-defined]
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


class _Default(Collector):
    """The process's own metrics (the default registry), beside the per-scrape collectors."""

    def collect(self) -> Iterator[Any]:
        yield from REGISTRY.collect()
