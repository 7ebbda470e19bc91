"""Place names to coordinates: a provider behind GEOCODER_URL, or the offline gazetteer.

The provider is Nominatim-shaped (GET <url>?q=...&format=jsonv2&limit=5 returning
[{"display_name", "lat", "lon"}]). With no URL (the embedded default, no internet) a small
gazetteer of the demo area (gazetteer.json) answers.
"""

from __future__ import annotations

import json
import logging
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import requests
from flask import current_app

log = logging.getLogger("plugpool.search")
GAZETTEER = Path(__file__).with_name("gazetteer.json")
TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Place:
    """A named point."""

    name: str
    lat: float
    lon: float


class GeocoderUnavailable(Exception):
    """The geocoding provider did not answer."""


def geocode(query: str, limit: int = 5) -> list[Place]:
    """Places matching the text, best first (empty when none)."""
    query = query.strip()
    if not query:
        return []
    url = current_app.config.get("GEOCODER_URL") or ""
    if not url:
        return _from_gazetteer(query, limit)
    try:
        answer = requests.get(
            url,
            params={"q": query, "format": "jsonv2", "limit": limit},
            headers={"User-Agent": "PlugPool"},
            timeout=TIMEOUT,
        )
        answer.raise_for_status()
        rows = answer.json()
        return [Place(row["display_name"], float(row["lat"]), float(row["lon"])) for row in rows]
    except (requests.RequestException, ValueError, KeyError, TypeError) as error:
        log.warning("geocoder failed: %s", type(error).__name__)
        raise GeocoderUnavailable(str(error)) from error


def _fold(text: str) -> str:
    """Lower case without accents or punctuation, for forgiving matches."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join("".join(c if c.isalnum() else " " for c in plain.lower()).split())


@lru_cache(maxsize=1)
def _entries() -> tuple[tuple[Place, tuple[str, ...]], ...]:
    data = json.loads(GAZETTEER.read_text(encoding="utf-8"))
    return tuple(
        (
            Place(row["name"], row["lat"], row["lon"]),
            # "Oosterpark, Amsterdam" is also found as "Oosterpark".
            tuple(
                _fold(name) for name in [row["name"], row["name"].split(",")[0], *row["aliases"]]
            ),
        )
        for row in data["places"]
    )


def _from_gazetteer(query: str, limit: int) -> list[Place]:
    wanted = _fold(query)
    ranked = []
    for place, names in _entries():
        # Exact name, then a name that starts with the text, then text that holds a name
        # ("Keizersgracht 100, Amsterdam"); a longer matched name is the more precise place.
        scores = [
            (0 if name == wanted else 1 if name.startswith(wanted) else 2, -len(name))
            for name in names
            if name.startswith(wanted) or f" {name} " in f" {wanted} "
        ]
        if scores:
            ranked.append((min(scores), place.name, place))
    return [place for _, _, place in sorted(ranked)[:limit]]
