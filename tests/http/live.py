"""The service over real HTTP, for tests that need a real client (a browser, a generated one).

:func:`fresh_app` builds the app at default settings, whatever the developer's environment says,
on a DATA_DIR of its own; :func:`serving` serves it with werkzeug's threaded WSGI server in a
thread of the test process, on a free port of 127.0.0.1.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from service import create_app
from service.config import SETTINGS, defaults


def fresh_app(data_dir: Path) -> Flask:
    """The app at default settings on ``data_dir`` (no setting taken from the environment)."""
    with pytest.MonkeyPatch.context() as patch:
        for setting in SETTINGS:
            patch.delenv(setting.name, raising=False)
        return create_app({**defaults(), "DATA_DIR": str(data_dir)})


@contextmanager
def serving(app: Flask, name: str) -> Iterator[str]:
    """Serve ``app`` in a thread called ``name`` while the block runs; yields the base URL."""
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
