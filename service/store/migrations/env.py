"""Alembic environment: migrates the database that the service's own settings name.

Called two ways:

* by :meth:`service.store.engine.Database.upgrade` (app start, ``triangulate db upgrade``),
  which hands over an open connection inside a locked transaction in
  ``config.attributes["connection"]``;
* by the ``alembic`` command line (``.venv/bin/alembic revision --autogenerate -m …`` from the
  repository root), which reads ``DATABASE_URL`` / ``DATA_DIR`` like the service does.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from service.config import load_settings
from service.store.engine import Database, database_url
from service.store.orm import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    url = database_url(load_settings(os.environ))
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    database = Database(url)
    try:
        with database.engine.connect() as fresh:
            _run(fresh)
            fresh.commit()
    finally:
        database.dispose()


_main()
