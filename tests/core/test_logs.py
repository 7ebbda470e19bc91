"""Whether a log line would be written at all (records nobody takes are not built)."""

from __future__ import annotations

import logging

from app.core.logs import emits


def test_a_line_counts_as_written_only_when_a_handler_on_its_way_takes_its_level():
    parent = logging.getLogger("plugpool_emits_probe")
    parent.propagate = False
    child = logging.getLogger("plugpool_emits_probe.child")
    child.setLevel(logging.INFO)
    warnings = logging.NullHandler()
    warnings.setLevel(logging.WARNING)
    parent.addHandler(warnings)
    try:
        assert not emits(child, logging.INFO)
        assert emits(child, logging.WARNING)
        child.setLevel(logging.ERROR)
        assert not emits(child, logging.WARNING)  # the logger's own level first
        child.setLevel(logging.INFO)
        infos = logging.NullHandler()
        infos.setLevel(logging.INFO)
        parent.addHandler(infos)
        assert emits(child, logging.INFO)
    finally:
        for handler in list(parent.handlers):
            parent.removeHandler(handler)
