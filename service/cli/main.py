"""The ``triangulate`` command: reconcile a file, check golden fixtures, manage the database.

``triangulate reconcile FILE.json`` posts FILE through the app (in process, no server needed)
and prints the result; ``triangulate check DIR`` runs every ``DIR/*.json`` golden fixture;
``triangulate db …`` and ``triangulate keys …`` are described in :mod:`service.cli.store`;
``triangulate batch CLAIMS.csv`` (learn credibility across many questions) in
:mod:`service.cli.batch`; ``triangulate learn agreement`` (the same over the stored database)
in
:mod:`service.cli.learn`; ``triangulate extract FILE`` (draft claims from an article) in
:mod:`service.cli.extract`.

Exit status: 0 on success; 1 when the request was refused (the problem document is printed to
stderr) or a fixture failed (or there were none); 2 for usage errors, unreadable files and
invalid settings.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from service.cli import batch as cli_batch
from service.cli import extract as cli_extract
from service.cli import learn as cli_learn
from service.cli import store as store_cli
from service.cli.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from service.config import ConfigError

if TYPE_CHECKING:
    from flask.testing import FlaskClient

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="triangulate",
        description="Credibility-weighted reconciliation of conflicting numeric claims.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    rec = commands.add_parser(
        "reconcile", help="reconcile the claims of a JSON request body and print the result"
    )
    rec.add_argument("file", type=Path, metavar="FILE.json", help="body of POST /v1/reconcile")
    check = commands.add_parser("check", help="run every DIR/*.json golden fixture")
    check.add_argument("directory", type=Path, metavar="DIR", help="directory of fixtures")
    store_cli.add_commands(commands)
    cli_batch.add_parser(commands)
    cli_learn.add_parser(commands)
    cli_extract.add_parser(commands)
    return parser


def _client() -> FlaskClient:
    from service import create_app

    return create_app().test_client()


def _reconcile(file: Path) -> int:
    try:
        body = file.read_bytes()
    except OSError as exc:
        print(f"triangulate: cannot read {file}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    # The bytes go through unparsed, so a malformed file gets the same 400 problem as over HTTP.
    response = _client().post("/v1/reconcile", data=body, content_type="application/json")
    document = response.get_json(silent=True)
    text = json.dumps(document, indent=2, ensure_ascii=False) if document is not None else (
        response.get_data(as_text=True)
    )
    if response.status_code == 200:
        print(text)
        return EXIT_OK
    print(text, file=sys.stderr)
    return EXIT_FAILED


def _check(directory: Path) -> int:
    from service.cli import golden

    if not directory.is_dir():
        print(f"triangulate: {directory} is not a directory", file=sys.stderr)
        return EXIT_USAGE
    outcomes = golden.run_directory(directory, _client())
    for outcome in outcomes:
        print(outcome.line())
    print(golden.summary(outcomes))
    if not outcomes:
        print(f"triangulate: no fixtures (*.json) in {directory}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK if all(o.passed for o in outcomes) else EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; defaults to ``sys.argv[1:]``.
    """
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return int(exc.code or 0) if isinstance(exc.code, int) else EXIT_USAGE
    try:
        if args.command == "reconcile":
            return _reconcile(args.file)
        if args.command in ("db", "keys"):
            return store_cli.run(args)
        if args.command == "batch":
            return cli_batch.run(args)
        if args.command == "learn":
            return cli_learn.run(args)
        if args.command == "extract":
            return cli_extract.run(args, _client())
        return _check(args.directory)
    except ConfigError as exc:
        print(f"triangulate: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
