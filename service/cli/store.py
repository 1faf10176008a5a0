"""The ``triangulate db`` and ``triangulate keys`` commands (wired into :mod:`service.cli.main`).

Both read the same settings as the service (``DATABASE_URL``, else ``DATA_DIR``), so a key
created here works for the server that uses that database.

* ``triangulate db upgrade``: apply pending migrations (the server also does on start).
* ``triangulate db current``: print the database's schema revision and the newest one.
* ``triangulate keys create NAME``: print a new API key, once; only its hash is stored.
* ``triangulate keys revoke NAME``: the key stops working at once, in every server process.
* ``triangulate keys list``: every key's name, creation time and status (never the key).

The key commands bring the schema up to date first, so they work on a fresh ``DATA_DIR``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from service.cli.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from service.store.engine import Database

__all__ = ["add_commands", "run"]


def add_commands(commands: Any) -> None:
    """Add ``db`` and ``keys`` to the ``triangulate`` sub-command parser ``commands``."""
    db = commands.add_parser("db", help="database schema: upgrade, current")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply pending migrations")
    db_commands.add_parser("current", help="print the schema revision")
    key = commands.add_parser("keys", help="API keys: create, revoke, list")
    key_commands = key.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = key_commands.add_parser("create", help="create a key and print it (only once)")
    create.add_argument("name", help="who or what uses the key; recorded with every write")
    revoke = key_commands.add_parser("revoke", help="revoke a key; it stops working at once")
    revoke.add_argument("name", help="the key's name")
    key_commands.add_parser("list", help="list keys (names and status, never the keys)")


def _database() -> Database:
    from service.config import load_settings
    from service.store.engine import Database

    return Database.from_settings(load_settings(os.environ))


def run(args: argparse.Namespace) -> int:
    """Run a ``db`` or ``keys`` command; returns the exit status.

    Raises
    ------
    service.config.ConfigError
        On an invalid setting (the caller reports it).
    """
    database = _database()
    try:
        if args.command == "db":
            return _db(database, args.db_command)
        database.upgrade()
        return _keys(database, args)
    finally:
        database.dispose()


def _db(database: Database, action: str) -> int:
    from service.store.engine import head_revision

    if action == "upgrade":
        applied = database.upgrade()
        state = "migrated to" if applied else "already at"
        print(f"{database.describe()}: {state} revision {head_revision()}")
        return EXIT_OK
    current = database.current_revision()
    print(f"{database.describe()}: revision {current or 'none (empty)'}; newest {head_revision()}")
    return EXIT_OK if current == head_revision() else EXIT_FAILED


def _keys(database: Database, args: argparse.Namespace) -> int:
    from service.store.errors import StoreError
    from service.store.repository import Repository

    action = args.keys_command
    with database.session() as session:
        repository = Repository(session)
        try:
            if action == "create":
                name = args.name
                token = repository.create_key(name)
                print(token)
                print(
                    f"triangulate: created key {name!r}; it is shown only this once. Send it as "
                    "Authorization: Bearer <key>.",
                    file=sys.stderr,
                )
            elif action == "revoke":
                key = repository.revoke_key(args.name)
                print(f"Revoked key {key.name!r} (at {key.revoked_at:%Y-%m-%d %H:%M:%S} UTC).")
            else:
                for key in repository.list_keys():
                    status = (
                        "active" if key.revoked_at is None
                        else f"revoked {key.revoked_at:%Y-%m-%d %H:%M:%S}"
                    )
                    print(f"{key.name}\tcreated {key.created_at:%Y-%m-%d %H:%M:%S}\t{status}")
        except ValueError as exc:
            print(f"triangulate: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except StoreError as exc:
            print(f"triangulate: {exc.detail}", file=sys.stderr)
            return EXIT_FAILED
    return EXIT_OK
