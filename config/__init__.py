"""Settings: embedded defaults, overridden per environment and then by environment variables."""

from __future__ import annotations

import os
from typing import Any

from config import defaults, production, testing

PROFILES = {"default": defaults, "testing": testing, "production": production}


class ConfigError(RuntimeError):
    """Raised when the settings cannot make a safe app."""


def load(profile: str | None = None, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the settings for a profile, with environment variables and overrides applied."""
    name = profile or os.environ.get("PLUGPOOL_ENV", "default")
    if name not in PROFILES:
        raise ConfigError(f"unknown PLUGPOOL_ENV {name!r}; choose one of {sorted(PROFILES)}")
    settings = _module_settings(defaults)
    if name != "default":
        settings.update(_module_settings(PROFILES[name]))
    settings.update(_from_environment(settings))
    settings.update(overrides or {})
    settings["ENV"] = name
    _derive(settings)
    _check(settings)
    return settings


def _module_settings(module: Any) -> dict[str, Any]:
    return {key: getattr(module, key) for key in dir(module) if key.isupper()}


def _from_environment(settings: dict[str, Any]) -> dict[str, Any]:
    """Read every known setting from the environment, coercing to the default's type."""
    found: dict[str, Any] = {}
    for key, default in settings.items():
        raw = os.environ.get(key)
        if raw is None:
            continue
        found[key] = _coerce(raw, default)
    return found


def _coerce(raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def _derive(settings: dict[str, Any]) -> None:
    """Fill public URLs left empty from the ports, so a changed PORT is advertised correctly."""
    if not settings.get("PUBLIC_BASE_URL"):
        settings["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{settings['PORT']}"
    if not settings.get("GATEWAY_PUBLIC_URL"):
        host, port = settings["GATEWAY_HOST"], settings["GATEWAY_PORT"]
        scheme = "wss" if settings.get("GATEWAY_TLS_CERT") else "ws"
        settings["GATEWAY_PUBLIC_URL"] = f"{scheme}://{host}:{port}/ocpp"


def _check(settings: dict[str, Any]) -> None:
    if settings.get("REQUIRE_SECRET_KEY") and not settings.get("SECRET_KEY"):
        raise ConfigError("SECRET_KEY must be set in production")
