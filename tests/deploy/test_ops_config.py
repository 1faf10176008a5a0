"""The production set-up's settings (workers, timeouts, address, logs, metrics, readiness) as
service/deploy/gunicorn_conf.py uses them; refused values are tested with every other
setting's in tests/http/test_config.py."""

from __future__ import annotations

import os
import runpy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import prometheus_client.values
import pytest

from service import config
from service.config import MAX_AUTO_WORKERS, auto_workers, available_cpus, load_settings
from service.deploy.serve import CONFIG_FILE, WSGI_APP, gunicorn_command

# prometheus_client picks in-memory or file-backed samples when first imported; it is imported
# here, at collection, so that the tests below, which export PROMETHEUS_MULTIPROC_DIR for a
# moment, cannot turn the rest of the session's apps to files in a directory they then remove.
assert prometheus_client.values.ValueClass is not None


@pytest.fixture
def conf(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """Evaluate gunicorn_conf.py from a clean environment, with DATA_DIR under tmp_path; the
    environment it exports (the metrics directory) is undone after the test."""
    for setting in config.SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)
    monkeypatch.delenv("TRIANGULATE_OWNED_METRICS_DIR", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))

    def evaluate(**environ: str) -> dict[str, Any]:
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(CONFIG_FILE))

    return evaluate


@pytest.mark.parametrize(("cpus", "workers"), [(1, 3), (2, 5), (3, 7), (4, 8), (64, 8)])
def test_auto_workers_is_two_per_cpu_plus_one_capped(cpus: int, workers: int) -> None:
    assert auto_workers(cpus) == workers
    assert MAX_AUTO_WORKERS == 8


def test_web_concurrency_auto_counts_usable_cpus() -> None:
    usable = len(os.sched_getaffinity(0))

    assert 1 <= available_cpus() <= usable
    assert load_settings({})["WEB_CONCURRENCY"] == auto_workers(available_cpus())
    assert load_settings({"WEB_CONCURRENCY": " AUTO "})["WEB_CONCURRENCY"] == auto_workers(
        available_cpus()
    )
    assert load_settings({"WEB_CONCURRENCY": "3"})["WEB_CONCURRENCY"] == 3


def test_available_cpus_honours_a_cgroup_quota(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    quotas = {"max 100000": 4, "150000 100000": 2, "50000 100000": 1, "garbage": 4}
    for content, expected in quotas.items():
        monkeypatch.setattr(config.Path, "read_text", lambda self, c=content: c)
        assert available_cpus() == expected, content


def test_gunicorn_defaults(conf: Any) -> None:
    settings = conf()

    assert settings["workers"] == auto_workers(available_cpus())
    assert (settings["worker_class"], settings["threads"]) == ("sync", 1)
    assert (settings["timeout"], settings["graceful_timeout"], settings["keepalive"]) == (30, 30, 5)
    assert settings["preload_app"] is False
    assert settings["control_socket_disable"] is True
    assert settings["logger_class"] == "service.deploy.logs.GunicornLogger"
    assert (settings["accesslog"], settings["errorlog"]) == ("-", "-")
    assert settings["bind"] == ["127.0.0.1:8000"]


def test_gunicorn_binds_from_the_environment(conf: Any, tmp_path: Path) -> None:
    settings = conf(
        HOST="0.0.0.0",
        PORT="8123",
        WEB_CONCURRENCY="3",
        DATA_DIR=str(tmp_path / "data" / "nested"),
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
    )
    # on_starting creates DATA_DIR and exports the metrics directory to the environment the
    # workers inherit.
    settings["on_starting"](None)

    assert settings["bind"] == ["0.0.0.0:8123"]
    assert settings["workers"] == 3
    assert (tmp_path / "data" / "nested").is_dir()


def test_gunicorn_binds_an_ipv6_host_in_brackets(conf: Any) -> None:
    assert conf(HOST="::1")["bind"] == ["[::1]:8000"]


def test_gunicorn_stops_on_a_bad_value(conf: Any, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        conf(PORT="abc")

    assert stopped.value.code == 2
    assert "Invalid PORT 'abc'" in capsys.readouterr().err


def test_gunicorn_settings_from_the_environment(conf: Any) -> None:
    settings = conf(
        GUNICORN_THREADS="4", GUNICORN_TIMEOUT="90", GRACEFUL_TIMEOUT="12", KEEPALIVE="75"
    )

    assert (settings["worker_class"], settings["threads"]) == ("gthread", 4)
    assert (settings["timeout"], settings["graceful_timeout"], settings["keepalive"]) == (
        90,
        12,
        75,
    )


def test_a_fresh_metrics_directory_per_run_removed_at_exit(conf: Any) -> None:
    settings = conf()

    settings["on_starting"](None)
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    assert directory.is_dir() and not any(directory.iterdir())
    (directory / "counter_123.db").write_bytes(b"")
    settings["on_exit"](None)
    assert not directory.exists()


def test_a_configured_metrics_directory_is_wiped_and_kept(conf: Any, tmp_path: Path) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_99.db").write_bytes(b"stale")
    (directory / "README").write_text("not ours")
    settings = conf(PROMETHEUS_MULTIPROC_DIR=str(directory))

    settings["on_starting"](None)
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(directory)
    assert sorted(p.name for p in directory.iterdir()) == ["README"]
    (directory / "gauge_livesum_41.db").write_bytes(b"")
    (directory / "counter_41.db").write_bytes(b"")

    # A dead worker's live gauges go; its counters stay (they still count).
    settings["child_exit"](None, SimpleNamespace(pid=41))
    assert sorted(p.name for p in directory.iterdir()) == ["README", "counter_41.db"]
    settings["on_exit"](None)
    assert directory.is_dir()


def test_no_metrics_directory_when_metrics_are_off(conf: Any, tmp_path: Path) -> None:
    settings = conf(METRICS_ENABLED="false", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "none"))

    settings["on_starting"](None)

    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ


def test_launcher_command() -> None:
    command = gunicorn_command(["--log-level", "debug"])

    assert command[1:] == [
        "-m",
        "gunicorn",
        "--config",
        str(CONFIG_FILE),
        WSGI_APP,
        "--log-level",
        "debug",
    ]


def test_readme_lists_every_setting() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()

    missing = [s.name for s in config.SETTINGS if f"| `{s.name}` |" not in readme]

    assert not missing, f"README's configuration table lacks {missing}"
