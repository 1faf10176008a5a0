"""Settings: environment with defaults, and clear start-up errors naming the variable (one
table of refusals for every setting; what gunicorn makes of the settings is tested in
tests/deploy/test_ops_config.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from service import create_app
from service.config import (
    SETTINGS,
    ConfigError,
    RateLimit,
    auto_workers,
    available_cpus,
    defaults,
    load_settings,
    settings_table,
)


def test_defaults() -> None:
    settings = defaults()

    assert settings == {
        "HOST": "127.0.0.1",
        "PORT": 8000,
        "WEB_CONCURRENCY": auto_workers(available_cpus()),
        "GUNICORN_THREADS": 1,
        "GUNICORN_TIMEOUT": 30,
        "GRACEFUL_TIMEOUT": 30,
        "KEEPALIVE": 5,
        "DATA_DIR": "./data",
        "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
        "MAX_CLAIMS": 10000,
        "MAX_SOURCES": 10000,
        "MAX_URI_LENGTH": 8000,
        "MAX_HEADER_FIELDS": 100,
        "MAX_HEADER_BYTES": 32768,
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
        "METRICS_ENABLED": True,
        "PROMETHEUS_MULTIPROC_DIR": "",
        "READINESS_TIMEOUT": 2.0,
        "DATABASE_URL": "",
        "MIGRATE_ON_START": True,
        "READS_REQUIRE_KEY": False,
        "MAX_BATCH_CLAIMS": 1_000_000,
        "MAX_BATCH_SOURCES": 100_000,
        "MAX_BATCH_CONTENT_LENGTH": 256 * 1024 * 1024,
        "WRITE_RATE_LIMIT": RateLimit(600, 60.0),
        "CORS_ORIGINS": (),
    }


def test_environment_overrides_defaults() -> None:
    settings = load_settings({"PORT": "9000", "LOG_LEVEL": "debug", "MAX_CLAIMS": "5"})

    assert (settings["PORT"], settings["LOG_LEVEL"], settings["MAX_CLAIMS"]) == (9000, "DEBUG", 5)


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("PORT", "abc", "Invalid PORT 'abc': must be an integer."),
        ("PORT", "0", "Invalid PORT '0': must be between 1 and 65535."),
        ("PORT", "70000", "between 1 and 65535"),
        ("MAX_CLAIMS", "0", "Invalid MAX_CLAIMS '0': must be at least 1."),
        ("MAX_SOURCES", "1.5", "must be an integer"),
        ("MAX_CONTENT_LENGTH", "-1", "at least 1"),
        ("LOG_LEVEL", "LOUD", "must be one of DEBUG, INFO"),
        ("HOST", "", "must not be empty"),
        ("HOST", "local host", "IP address or a host name"),
        ("DATA_DIR", " ", "must not be empty"),
        ("WEB_CONCURRENCY", "", "must be an integer"),
        ("WEB_CONCURRENCY", "lots", "Invalid WEB_CONCURRENCY 'lots': must be an integer, or auto."),
        ("WEB_CONCURRENCY", "0", "must be between 1 and 256, or auto"),
        ("GUNICORN_THREADS", "0", "Invalid GUNICORN_THREADS '0': must be between 1 and 64."),
        ("GUNICORN_TIMEOUT", "0", "must be between 1 and 3600"),
        ("GRACEFUL_TIMEOUT", "-5", "must be between 1 and 3600"),
        ("KEEPALIVE", "x", "Invalid KEEPALIVE 'x': must be an integer."),
        ("LOG_FORMAT", "xml", "Invalid LOG_FORMAT 'xml': must be one of json, text."),
        ("METRICS_ENABLED", "maybe", "Invalid METRICS_ENABLED 'maybe': must be true or false"),
        ("READINESS_TIMEOUT", "0", "must be more than 0 and at most 60 seconds"),
        ("READINESS_TIMEOUT", "nan", "must be more than 0 and at most 60 seconds"),
        ("READINESS_TIMEOUT", "soon", "must be a number of seconds"),
    ],
)
def test_invalid_values_are_refused_naming_the_variable(name: str, raw: str, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings({name: raw})

    assert message in str(refused.value)


def test_good_values_parse() -> None:
    settings = load_settings(
        {
            "LOG_FORMAT": "TEXT",
            "METRICS_ENABLED": "off",
            "READINESS_TIMEOUT": "0.5",
            "KEEPALIVE": "0",
            "PROMETHEUS_MULTIPROC_DIR": " metrics-dir ",
        }
    )

    assert settings["LOG_FORMAT"] == "text"
    assert settings["METRICS_ENABLED"] is False
    assert settings["READINESS_TIMEOUT"] == 0.5
    assert settings["KEEPALIVE"] == 0
    assert settings["PROMETHEUS_MULTIPROC_DIR"] == "metrics-dir"


def test_create_app_refuses_bad_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "abc")

    with pytest.raises(ConfigError, match="PORT"):
        create_app()


def test_create_app_reads_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for setting in SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)
    monkeypatch.setenv("MAX_CLAIMS", "12")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))

    assert create_app().config["MAX_CLAIMS"] == 12


@pytest.mark.parametrize("value", [0, "0", True, 2.5, None])
def test_create_app_validates_overrides(value: Any) -> None:
    with pytest.raises(ConfigError, match="MAX_CLAIMS"):
        create_app({**defaults(), "MAX_CLAIMS": value})


def test_settings_table_lists_every_setting() -> None:
    table = settings_table()

    for setting in SETTINGS:
        assert f"| `{setting.name}` | `{setting.default}` |" in table
        assert setting.description


def test_importing_service_is_light() -> None:
    probe = (
        "import sys, service, service.config, service.cli.main; "
        "print(','.join(m for m in ('flask', 'numpy', 'scipy', 'marshmallow') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]

    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == ""
