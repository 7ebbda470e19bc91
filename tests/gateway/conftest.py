"""Fixtures for gateway tests."""

from __future__ import annotations

import pytest

from app.gateway.memory import MemoryStationPort
from tests.gateway.support import seeded_port


@pytest.fixture
def port() -> MemoryStationPort:
    """Return an in-memory port with approved, pending and legacy stations and one token."""
    return seeded_port()
