"""Hubject bridge fixtures: test-made certificates, the stand-in process, the bridge settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.support.hubject_standin import StandIn
from tests.support.hubject_standin.certs import Pki, make_pki
from tests.support.stripe_fixtures import (  # noqa: F401 (pytest finds fixtures by name)
    localstripe,
    make_driver,
    stripe_gateway,
)


@pytest.fixture(scope="session")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with a CA and every certificate of the bridge tests."""
    return tmp_path_factory.mktemp("oicp-pki")


@pytest.fixture(scope="session")
def pki(pki_dir: Path) -> Pki:
    """The certificates, made once per test session."""
    return make_pki(pki_dir)


@pytest.fixture
def standin(pki: Pki, pki_dir: Path) -> Iterator[StandIn]:
    """A fresh Hubject stand-in process."""
    process = StandIn(pki, pki_dir)
    try:
        yield process
    finally:
        process.close()


@pytest.fixture
def bridge(app: Flask, pki: Pki, standin: StandIn) -> Iterator[Flask]:
    """The app with the bridge on, pointed at the stand-in over mutual TLS."""
    settings: dict[str, Any] = {
        "OICP_ENABLED": True,
        "OICP_BASE_URL": standin.url,
        "OICP_CLIENT_CERT": pki.plugpool_client.cert,
        "OICP_CLIENT_KEY": pki.plugpool_client.key,
        "OICP_CA_BUNDLE": pki.ca,
        "OICP_OPERATOR_ID": "NL*PLG",
        "OICP_PROVIDER_ID": "NL-PLG",
    }
    saved = {key: app.config[key] for key in settings}
    app.config.update(settings)
    try:
        yield app
    finally:
        app.config.update(saved)


@pytest.fixture
def paying_bridge(bridge: Flask, localstripe: Any) -> Iterator[Flask]:  # noqa: F811
    """The bridge with payments on, against localstripe."""
    saved = {key: bridge.config.get(key) for key in localstripe.config}
    bridge.config.update(localstripe.config)
    try:
        yield bridge
    finally:
        bridge.config.update(saved)
