"""gunicorn settings for PlugPool web nodes: `gunicorn -c config/gunicorn.py wsgi:app`.

With PROMETHEUS_MULTIPROC_DIR set, a worker that exits has its live gauges dropped from the
directory (prometheus-client multi-process mode); its counters and histograms stay summed.
"""

from __future__ import annotations

import os
from typing import Any

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# Threads, not the sync worker: a sync worker answers every request with "Connection: close",
# so nginx's upstream keep-alive (scripts/cluster.py, `keepalive 32`) never holds and every
# request pays a new connection. /livez through nginx, alternated: nginx 38-43 us of CPU a
# request with gthread nodes, 78-82 with sync ones, the nodes the same (421-461 us); a client
# straight to gunicorn 106-115 us a request on a kept connection, 190-230 opening one each time.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Longer than nginx's upstream keepalive_timeout (60 s): nginx closes an idle connection
# first, so it never reuses one gunicorn is closing at that very moment.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))


def child_exit(server: Any, worker: Any) -> None:
    """Tell prometheus-client that a worker is gone (multi-process mode only)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
