"""Settings: environment with defaults, clear start-up errors, gunicorn's configuration."""

from __future__ import annotations

import runpy
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

GUNICORN_CONF = Path(__file__).resolve().parents[2] / "service" / "deploy" / "gunicorn_conf.py"


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
        ("WEB_CONCURRENCY", "", "must be an integer"),
        ("LOG_LEVEL", "LOUD", "must be one of DEBUG, INFO"),
        ("HOST", "", "must not be empty"),
        ("HOST", "local host", "IP address or a host name"),
        ("DATA_DIR", " ", "must not be empty"),
    ],
)
def test_invalid_values_are_refused_naming_the_variable(name: str, raw: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        load_settings({name: raw})


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


def test_gunicorn_conf_binds_from_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data" / "nested"))
    # on_starting exports the metrics directory to the environment the workers inherit.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))

    conf = runpy.run_path(str(GUNICORN_CONF))
    conf["on_starting"](None)

    assert conf["bind"] == ["0.0.0.0:8123"]
    assert conf["workers"] == 3
    assert conf["control_socket_disable"] is True
    assert (tmp_path / "data" / "nested").is_dir()


def test_gunicorn_conf_defaults_and_ipv6(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)

    assert runpy.run_path(str(GUNICORN_CONF))["bind"] == ["127.0.0.1:8000"]
    monkeypatch.setenv("HOST", "::1")
    assert runpy.run_path(str(GUNICORN_CONF))["bind"] == ["[::1]:8000"]


def test_gunicorn_conf_stops_on_bad_value(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PORT", "abc")

    with pytest.raises(SystemExit) as stopped:
        runpy.run_path(str(GUNICORN_CONF))

    assert stopped.value.code == 2
    assert "Invalid PORT 'abc'" in capsys.readouterr().err


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
