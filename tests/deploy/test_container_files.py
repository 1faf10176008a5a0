"""Static checks of Dockerfile, .dockerignore and compose.yaml, and hadolint.

The image itself is built and run by scripts/docker_smoke.sh (CI's Docker step).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    logical: list[str] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip().removesuffix("\\") + " " if line.rstrip().endswith("\\") else line
        if not line.rstrip().endswith("\\"):
            logical.append(pending.strip())
            pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def _last(instruction: str) -> str:
    return [args for name, args in _instructions() if name == instruction][-1]


def test_no_syntax_directive() -> None:
    # It would make the builder fetch a frontend image from a registry.
    lines = DOCKERFILE.read_text().splitlines()

    assert not [line for line in lines if re.match(r"#\s*syntax\s*=", line, re.IGNORECASE)]


def test_base_image_is_a_build_argument_and_the_build_has_two_stages() -> None:
    instructions = _instructions()

    assert instructions[0] == ("ARG", "PYTHON_IMAGE=python:3.11-slim")
    stages = [args for name, args in instructions if name == "FROM"]
    assert stages == ["${PYTHON_IMAGE} AS builder", "${PYTHON_IMAGE} AS runtime"]
    assert "COPY --from=builder /opt/venv /opt/venv" in [
        f"{name} {args}" for name, args in instructions
    ]


def test_dependencies_come_from_the_pinned_requirements() -> None:
    runs = " ".join(args for name, args in _instructions() if name == "RUN")

    args = dict(a.split("=", 1) for name, a in _instructions() if name == "ARG" and "=" in a)
    assert "pip wheel --no-cache-dir --wheel-dir /wheels -r \"${REQUIREMENTS}\"" in runs
    assert "--no-index --find-links /wheels" in runs
    # The default image serves from the runtime pins; the Dask one adds its own over them.
    assert args["REQUIREMENTS"] == "requirements.txt"
    for name in ("requirements.txt", "requirements-dask.txt"):
        for line in (ROOT / name).read_text().splitlines():
            if line.strip() and not line.startswith(("#", "-r ")):
                assert "==" in line, f"unpinned requirement {line!r} in {name}"
    assert "-r requirements.txt" in (ROOT / "requirements-dask.txt").read_text().splitlines()


def test_runs_as_a_numeric_non_root_user() -> None:
    user = _last("USER")
    uid = user.replace("${UID}", _uid()).split(":")[0]

    assert uid.isdigit() and int(uid) >= 1000


def _uid() -> str:
    args = [a for name, a in _instructions() if name == "ARG" and a.startswith("UID=")]
    return args[0].removeprefix("UID=")


def test_exec_form_command_and_a_healthcheck() -> None:
    command = json.loads(_last("CMD"))
    healthcheck = _last("HEALTHCHECK")

    assert command == ["python", "-m", "service.deploy.serve"]
    assert healthcheck.startswith("--interval=")
    probe = json.loads(healthcheck[healthcheck.index("CMD") + 3 :].strip())
    assert probe[:2] == ["python", "-c"] and "/healthz" in probe[2]
    assert "curl" not in healthcheck


def test_data_volume_and_listening_defaults() -> None:
    env = " ".join(args for name, args in _instructions() if name == "ENV")

    assert _last("VOLUME") == '["/data"]'
    assert "DATA_DIR=/data" in env and "HOST=0.0.0.0" in env
    assert _last("EXPOSE") == "8000"


def test_dockerignore_keeps_the_context_small() -> None:
    patterns = (ROOT / ".dockerignore").read_text().split()

    allowed = ["*", "!requirements.txt", "!requirements-dask.txt", "!models/", "!service/"]
    assert patterns[patterns.index("*") :][:5] == allowed
    assert "**/__pycache__" in patterns


def _compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return document


def _profile(compose: dict[str, Any], profile: str | None) -> dict[str, Any]:
    """The services ``docker compose up`` starts with ``profile`` (None: without a profile)."""
    return {
        name: service for name, service in compose["services"].items()
        if not service.get("profiles") or (profile in service["profiles"])
    }


def test_compose_runs_the_app_on_postgresql() -> None:
    compose = _compose()
    app, db = compose["services"]["app"], compose["services"]["db"]

    assert set(_profile(compose, None)) == {"app", "db"}
    assert app["build"] == "."
    assert app["environment"]["DATABASE_URL"].startswith("postgresql://triangulate:")
    assert app["environment"]["DATABASE_URL"].endswith("@db:5432/triangulate")
    assert app["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert "/readyz" in app["healthcheck"]["test"][-1]
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in db["healthcheck"]["test"][-1]
    assert db["volumes"] == ["pgdata:/var/lib/postgresql/data"]
    assert compose["volumes"] == {"pgdata": None}


def test_compose_replicas_profile_puts_two_replicas_behind_the_proxy() -> None:
    from tests.deploy.replicas import PLACEHOLDER, TEMPLATE

    compose = _compose()
    services = _profile(compose, "replicas")
    app = compose["services"]["app"]
    added = {"replica-1", "replica-2", "proxy", "dask-scheduler", "dask-worker-1", "dask-worker-2"}

    assert set(services) == {"app", "db"} | added
    for name in ("replica-1", "replica-2"):
        replica = services[name]
        # The app as it runs alone, on the same database, but reachable only through the proxy.
        assert "ports" not in replica
        # The app's image with the Dask engine's packages, so that batch jobs run from a replica.
        assert replica["image"] == "triangulate-dask"
        assert replica["build"] == {"context": app["build"],
                                    "args": {"REQUIREMENTS": "requirements-dask.txt"}}
        assert {k: v for k, v in replica["environment"].items() if k in app["environment"]} == \
            app["environment"]
        assert replica["healthcheck"] == app["healthcheck"]
        assert replica["depends_on"] == app["depends_on"]
    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert proxy["volumes"] == [
        "./service/deploy/nginx/triangulate.conf.template"
        ":/etc/nginx/templates/triangulate.conf.template:ro"
    ]
    # Every name the template expects is set, and nothing else.
    assert set(proxy["environment"]) == set(PLACEHOLDER.findall(TEMPLATE.read_text()))
    assert proxy["environment"]["TRIANGULATE_REPLICA_1"] == "replica-1:8000"
    assert proxy["environment"]["TRIANGULATE_REPLICA_2"] == "replica-2:8000"
    listen = proxy["environment"]["TRIANGULATE_PROXY_LISTEN"]
    assert proxy["ports"] == [f"${{PROXY_PORT:-8080}}:{listen}"]
    assert proxy["depends_on"] == {
        "replica-1": {"condition": "service_healthy"},
        "replica-2": {"condition": "service_healthy"},
    }
    scheduler = services["dask-scheduler"]
    dask_image = services["replica-1"]["image"], services["replica-1"]["build"]
    assert (scheduler["image"], scheduler["build"]) == dask_image
    assert scheduler["command"][:2] == ["dask", "scheduler"]
    for name in ("dask-worker-1", "dask-worker-2"):
        worker = services[name]
        assert (worker["image"], worker["build"]) == dask_image
        assert worker["command"][:3] == ["dask", "worker", "tcp://dask-scheduler:8786"]
    assert compose["volumes"] == {"pgdata": None}


def _hadolint() -> str | None:
    beside = Path(sys.executable).with_name("hadolint")
    return str(beside) if beside.exists() else shutil.which("hadolint")


def test_hadolint_is_clean() -> None:
    hadolint = _hadolint()
    if hadolint is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("hadolint is missing (pip install -r requirements-dev.txt)")
        pytest.skip("hadolint is not installed (it is pinned in requirements-dev.txt)")

    result = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stdout + result.stderr
