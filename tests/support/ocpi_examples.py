"""Where the OCPI specification's JSON examples live in the test tree (see its README)."""

from __future__ import annotations

from pathlib import Path

OCPI_EXAMPLES = Path(__file__).resolve().parents[1] / "ocpi_examples"
