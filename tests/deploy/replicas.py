"""Replicas of the service and the proxy in front of them, as the tests start them.

Two gunicorn masters (each with its own workers) on one database, SQLite in a shared
DATA_DIR or the PostgreSQL that ``TEST_DATABASE_URL`` names; and nginx, started as a
subprocess from ``service/deploy/nginx/triangulate.conf.template`` with the replicas'
loopback addresses substituted, its pid file, logs and temporary files in a test directory.
Every server binds a free port on 127.0.0.1; every wait has a deadline.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from service.store.engine import SQLITE_FILE
from tests.deploy.test_gunicorn import Server, _free_port, gunicorn, start_server

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "service" / "deploy" / "nginx" / "triangulate.conf.template"
#: The names the template expects, as the official nginx image substitutes them.
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
#: Seconds nginx may take to start serving.
NGINX_DEADLINE = 15.0


def render_template(values: Mapping[str, str], template: Path = TEMPLATE) -> str:
    """The template with each ``${NAME}`` replaced; fails on a name ``values`` lacks.

    nginx's own variables (``$host``) have no braces and pass through, as with envsubst.
    """
    text = template.read_text()
    missing = sorted(set(PLACEHOLDER.findall(text)) - set(values))
    if missing:
        raise KeyError(f"no value for {', '.join(missing)} in {template.name}")
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def nginx_binary() -> str:
    """Debian's nginx; skips without it, or fails under ``CI=true`` (.ci/run installs it)."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found:
        return found
    message = "nginx not found; install Debian's nginx package"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (.ci/run does): CI must run the proxy tests.")
    pytest.skip(f"{message}; proxy tests skipped (they fail in CI).")


def main_config(directory: Path, server_block: Path) -> str:
    """nginx.conf around the template's ``http``-level part: everything under ``directory``."""
    # As root, nginx's workers would switch to "nobody", who cannot enter pytest's 0700
    # temporary directories (request bodies are buffered to files there); stay root instead.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {directory / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}worker_processes 1;\n"
        "daemon off;\n"
        f"pid {directory / 'nginx.pid'};\n"
        f"error_log {directory / 'error.log'} warn;\n"
        "events {\n    worker_connections 1024;\n}\n"
        "http {\n"
        f"    access_log {directory / 'access.log'};\n"
        f"{temp}\n"
        f"    include {server_block};\n"
        "}\n"
    )


@dataclass
class Proxy(Server):
    """An nginx master started by a test; ``request`` and the rest as for a gunicorn server
    (``stdout`` is nginx's standard error, ``stderr`` its error log)."""

    program: ClassVar[str] = "nginx"
    #: Graceful for nginx: finish the requests in flight, then exit.
    graceful: ClassVar[signal.Signals] = signal.SIGQUIT

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])


def start_proxy(directory: Path, replicas: list[Server]) -> Proxy:
    """nginx on a free loopback port in front of ``replicas`` (two), serving once it answers."""
    binary = nginx_binary()
    directory.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    addresses = [server.base.removeprefix("http://") for server in replicas]
    server_block = directory / "triangulate.conf"
    server_block.write_text(render_template({
        "TRIANGULATE_REPLICA_1": addresses[0],
        "TRIANGULATE_REPLICA_2": addresses[1],
        "TRIANGULATE_PROXY_LISTEN": f"127.0.0.1:{port}",
    }))
    config = directory / "nginx.conf"
    config.write_text(main_config(directory, server_block))
    stderr, error_log = directory / "stderr.log", directory / "error.log"
    error_log.touch()
    with stderr.open("wb") as err:
        process = subprocess.Popen(
            [binary, "-p", str(directory), "-c", str(config), "-e", str(error_log)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    proxy = Proxy(process, f"http://127.0.0.1:{port}", stderr, error_log)
    deadline = time.monotonic() + NGINX_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"nginx exited with {process.returncode}:\n{proxy.output()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proxy
        except OSError:
            time.sleep(0.05)
    proxy.stop()
    pytest.fail(f"nginx did not listen within {NGINX_DEADLINE:.0f} s:\n{proxy.output()}")


def database_settings(data_dir: Path, url: str) -> dict[str, str]:
    """Settings naming one database for every replica: ``url``, else SQLite in ``data_dir``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return {"DATABASE_URL": url or f"sqlite:///{data_dir / SQLITE_FILE}"}


def start_replicas(directory: Path, **settings: str) -> list[Server]:
    """Two gunicorn masters of the test app on one database, started one after another (the
    first migrates the database; the second finds it migrated)."""
    replicas: list[Server] = []
    try:
        for number in (1, 2):
            home = directory / f"replica-{number}"
            home.mkdir(parents=True, exist_ok=True)
            replicas.append(start_server(home, gunicorn(), **settings))
    except BaseException:
        for server in replicas:
            server.stop()
        raise
    return replicas
