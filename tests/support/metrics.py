"""Read one sample from the app's own GET /metrics, as Prometheus would scrape it."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families


def scrape(client: Any, path: str = "/metrics") -> str:
    """The text a scrape of `path` returns (it must answer 200)."""
    response = client.get(path)
    assert response.status_code == 200, response.data
    return response.data.decode() if hasattr(response, "data") else response.text


def sample(text: str, name: str, **labels: str) -> float:
    """The sum of the samples `name` whose labels include `labels` (0 when there is none).

    Summed, because one route has a series per status and earlier tests may have made others.
    """
    return sum(
        float(found.value)
        for family in text_string_to_metric_families(text)
        for found in family.samples
        if found.name == name and all(found.labels.get(k) == v for k, v in labels.items())
    )
