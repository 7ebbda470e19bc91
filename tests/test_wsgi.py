"""The WSGI entry point a web worker loads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_web_worker_keeps_what_start_up_made_out_of_later_collections(database_url):
    """Frozen: a full collection no longer walks the app's start-up objects (a ~130 ms stall)."""
    probe = "import gc, wsgi; print(gc.get_freeze_count(), len(gc.get_objects()))"
    env = {**os.environ, "PLUGPOOL_ENV": "testing", "DATABASE_URL": database_url}
    shown = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    frozen, tracked = map(int, shown.stdout.split())
    assert frozen > tracked  # most of the heap at start-up, not a few stragglers
