"""The project needs nothing outside its own checkout: no sibling folders, no developer paths."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.ocpi_examples import OCPI_EXAMPLES

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("app", "bench", "config", "migrations", "scripts", "tests")
# A path outside the checkout: a developer's machine, or a folder beside the repository.
OUTSIDE = re.compile(r"/work/|/home/|/Users/|\.\./shared|\.parent\s*/\s*\"shared\"")


def _sources() -> list[Path]:
    files = [ROOT / "Makefile", ROOT / "wsgi.py", ROOT / "celery_worker.py"]
    for folder in SCANNED:
        files += [p for p in (ROOT / folder).rglob("*") if p.suffix in {".py", ".sh", ".ini"}]
    return [p for p in files if ".venv" not in p.parts]


def test_no_source_names_a_path_outside_the_checkout():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _sources()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if OUTSIDE.search(line) and path != Path(__file__)
    ]
    assert offenders == []


def test_the_ocpi_examples_the_tests_read_are_in_the_test_tree_with_their_source():
    assert OCPI_EXAMPLES.is_relative_to(ROOT)
    assert len(list((OCPI_EXAMPLES / "2.2.1").glob("tariff_*.json"))) >= 18
    assert len(list((OCPI_EXAMPLES / "2.3.0").glob("booking_*.json"))) >= 6
    readme = (OCPI_EXAMPLES / "README.md").read_text()
    assert "github.com/ocpi/ocpi" in readme and "Creative Commons" in readme
