"""A two-process Dask LocalCluster for the tests of the Dask engine (batch and learning)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from distributed import Client, LocalCluster

from service.cli.main import main

ROOT = Path(__file__).resolve().parents[1]

Stored = TypeVar("Stored")


@contextmanager
def local_client() -> Iterator[Client]:
    """A client of two worker processes of one thread each, as on the two-core CI machine.

    Its HTTP server (the dashboard's, which also serves /metrics) takes a free port: with
    ``dashboard_address=None`` it still binds 8787, and a cluster already there (a benchmark,
    another test run) would make this one fail to start on the "already in use" warning.
    """
    # The worker processes import this checkout's packages.
    with pytest.MonkeyPatch.context() as patch:
        path = os.environ.get("PYTHONPATH")
        patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), path])))
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0")
    with cluster, Client(cluster) as c:  # type: ignore[no-untyped-call]
        yield c


def output_on_dask(
    command: Sequence[str], client: Client, capsys: pytest.CaptureFixture[str],
    stored: Callable[[], Stored], assert_same: Callable[[Stored, Stored], None],
) -> str:
    """Run ``triangulate <command>`` on the local engine, then on ``client``'s scheduler.

    Both runs must succeed, the Dask one must name its scheduler on standard error, and
    ``assert_same(on_dask, local)`` must pass on what ``stored()`` reads after each run.
    Returns the Dask run's standard output.
    """
    assert main([*command]) == 0
    local = stored()
    capsys.readouterr()
    address = str(client.scheduler_info()["address"])

    assert main([*command, "--engine", "dask", "--scheduler", address]) == 0

    captured = capsys.readouterr()
    assert f"using the Dask scheduler at {address}" in captured.err
    assert_same(stored(), local)
    return captured.out
