"""gunicorn settings for PlugPool web nodes: `gunicorn -c config/gunicorn.py wsgi:app`.

With PROMETHEUS_MULTIPROC_DIR set, a worker that exits has its live gauges dropped from the
directory (prometheus-client multi-process mode); its counters and histograms stay summed.
"""

from __future__ import annotations

import os
from typing import Any

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))


def child_exit(server: Any, worker: Any) -> None:
    """Tell prometheus-client that a worker is gone (multi-process mode only)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
