"""gunicorn config of bench.instructions: a marker request makes the worker call getloadavg(),
before which callgrind (--dump-before=getloadavg) dumps its counters."""

from __future__ import annotations

import os
from typing import Any

MARKER = "/__callgrind_marker"


def pre_request(worker: Any, request: Any) -> None:
    """Call getloadavg() on the marker request (nothing else in the worker calls it)."""
    if request.path == MARKER:
        os.getloadavg()
