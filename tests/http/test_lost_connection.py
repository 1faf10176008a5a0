"""A database connection lost while a request ends must not turn its answer into a bare 500.

Found under load (tests/store/test_pg_under_load.py): PostgreSQL stopped between a view's
last query and the end of the request, so closing the session (a ROLLBACK) raised inside
Flask's teardown, outside every error handler, and gunicorn answered with its own HTML 500.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from service import create_app
from service.config import SETTINGS, defaults


def test_failed_session_close_keeps_the_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for setting in SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)
    app = create_app({**defaults(), "DATA_DIR": str(tmp_path), "TESTING": True})
    invalidated: list[bool] = []

    def lost(self: Session) -> None:
        raise OperationalError("ROLLBACK", {}, Exception("terminating connection"))

    def invalidate(self: Session) -> None:
        invalidated.append(True)

    monkeypatch.setattr(Session, "close", lost)
    monkeypatch.setattr(Session, "invalidate", invalidate)
    response: Any = app.test_client().get("/v1/questions")

    assert response.status_code == 200
    assert response.get_json()["items"] == []
    assert invalidated == [True]
    assert "lost database connection" in caplog.text
