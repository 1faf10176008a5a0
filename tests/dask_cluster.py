"""A two-process Dask LocalCluster for the tests of the Dask engine (batch and learning)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from distributed import Client, LocalCluster

ROOT = Path(__file__).resolve().parents[1]


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
