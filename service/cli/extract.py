"""``triangulate extract FILE``: draft claims from an article file, as ``POST /v1/extract``.

The file is sent through the app in process (no server needed): ``.html``/``.htm`` files as
``text/html``, ``.json`` files as the JSON body, anything else as ``text/plain``. The answer
is printed as JSON; a refused file prints its problem document to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from service.cli.exit_codes import EXIT_OK, EXIT_REFUSED, EXIT_USAGE

if TYPE_CHECKING:
    from flask.testing import FlaskClient

__all__ = ["add_parser", "run"]

_TYPES = {".html": "text/html", ".htm": "text/html", ".json": "application/json"}


def add_parser(commands: Any) -> None:
    """Add the ``extract`` subcommand to ``commands`` (argparse subparsers)."""
    sub = commands.add_parser("extract", help="draft claims from an article (text or HTML)")
    sub.add_argument("file", type=Path, metavar="FILE",
                     help="the article: .txt, .html or a JSON body of POST /v1/extract")


def run(args: argparse.Namespace, client: FlaskClient) -> int:
    """Post the file and print the answer; returns the exit status (0, 1 refused, 2 unread)."""
    try:
        body = args.file.read_bytes()
    except OSError as exc:
        print(f"triangulate: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    content_type = _TYPES.get(args.file.suffix.lower(), "text/plain")
    response = client.post("/v1/extract", data=body, content_type=content_type)
    document = response.get_json(silent=True)
    text = json.dumps(document, indent=2, ensure_ascii=False)
    if response.status_code == 200:
        print(text)
        return EXIT_OK
    print(text, file=sys.stderr)
    return EXIT_REFUSED
