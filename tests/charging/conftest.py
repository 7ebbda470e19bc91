"""Charging fixtures: committed demo data for gateway tests on the real database."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.charging.support import Site, seed_site


@pytest.fixture
def site(app: Flask, committed_db: Any) -> Site:
    """Return a committed listing with an approved, a pending and a legacy station and a driver."""
    return seed_site(app)
