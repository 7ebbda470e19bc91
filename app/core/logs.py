"""Request ids and log formats: every line logged while serving a request names its id.

LOG_FORMAT=json writes one JSON object per line (for a log shipper); the default stays text.
A client's X-Request-ID is kept when it is a sane token, else we make one; either way the
response echoes it, so a driver's support ticket leads to the log lines.
"""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import UTC, datetime

from flask import Flask, Response, g, has_request_context, request

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
_MARK = "_plugpool_handler"


class RequestIdFilter(logging.Filter):
    """Give every record a `request_id`: the current request's, or "-" outside one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, request id, error."""

    def format(self, record: logging.LogRecord) -> str:
        body = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str)


def emits(logger: logging.Logger, level: int) -> bool:
    """Whether a record at this level would reach a handler that takes it: logging builds the
    whole record before its handlers' levels drop it (an INFO line on every request)."""
    if not logger.isEnabledFor(level):
        return False
    current: logging.Logger | None = logger
    while current is not None:
        if any(level >= handler.level for handler in current.handlers):
            return True
        if not current.propagate:
            return False
        current = current.parent
    last = logging.lastResort
    return last is not None and level >= last.level


def make_handler(log_format: str) -> logging.Handler:
    """A stderr handler with the request-id filter and the chosen format (json or text)."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    setattr(handler, _MARK, True)
    return handler


def init_app(app: Flask) -> None:
    """Assign each request its id; with LOG_FORMAT=json, log JSON lines from the root logger."""
    app.before_request(_assign_request_id)
    app.after_request(_echo_request_id)
    log_format = app.config["LOG_FORMAT"]
    if log_format not in {"text", "json"}:
        raise ValueError(f"LOG_FORMAT must be text or json, not {log_format!r}")
    if log_format == "json":
        root = logging.getLogger()
        for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
            root.removeHandler(old)
        root.addHandler(make_handler("json"))
        if root.level > logging.INFO or root.level == logging.NOTSET:
            root.setLevel(logging.INFO)


def _assign_request_id() -> None:
    asked = request.environ.get(_ENVIRON_KEY, "")  # what request.headers.get(HEADER) reads
    g.request_id = asked if _SANE.fullmatch(asked) else new_request_id()


_ENVIRON_KEY = "HTTP_" + HEADER.upper().replace("-", "_")


def new_request_id() -> str:
    """A random UUID4 as text: str(uuid.uuid4()), without building a UUID on every request."""
    return uuid4_text(os.urandom(16))


def uuid4_text(random: bytes) -> str:
    """str(uuid.UUID(bytes=random, version=4)): the version and variant bits set, as text."""
    raw = bytearray(random)
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # the RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _echo_request_id(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id is not None:
        headers = response.headers
        if HEADER not in headers:  # OCPI sets its own: it wins
            headers.add(HEADER, request_id)
    return response
