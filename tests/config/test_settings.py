"""Settings: profiles, environment overrides, derived URLs, production safety."""

import pytest

import config


def test_environment_overrides_a_default_with_its_type(monkeypatch):
    monkeypatch.setenv("LOGIN_MAX_ATTEMPTS", "9")
    monkeypatch.setenv("CELERY_ALWAYS_EAGER", "false")
    settings = config.load("default")
    assert settings["LOGIN_MAX_ATTEMPTS"] == 9
    assert settings["CELERY_ALWAYS_EAGER"] is False


def test_public_urls_follow_the_ports_when_not_set(monkeypatch):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.delenv("GATEWAY_PUBLIC_URL", raising=False)
    monkeypatch.setenv("PORT", "5055")
    monkeypatch.setenv("GATEWAY_PORT", "9055")
    settings = config.load("default")
    assert settings["PUBLIC_BASE_URL"] == "http://127.0.0.1:5055"
    assert settings["GATEWAY_PUBLIC_URL"] == "ws://127.0.0.1:9055/ocpp"


def test_an_explicit_public_url_is_kept(monkeypatch):
    monkeypatch.setenv("GATEWAY_PUBLIC_URL", "wss://ocpp.plugpool.example/ocpp")
    assert config.load("default")["GATEWAY_PUBLIC_URL"] == "wss://ocpp.plugpool.example/ocpp"


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(config.ConfigError, match="SECRET_KEY"):
        config.load("production")


def test_production_starts_with_a_secret_key(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "a-long-random-secret")
    assert config.load("production")["SECRET_KEY"] == "a-long-random-secret"


def test_unknown_profile_is_refused():
    with pytest.raises(config.ConfigError, match="unknown PLUGPOOL_ENV"):
        config.load("staging")
