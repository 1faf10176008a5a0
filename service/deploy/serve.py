"""Start the service under gunicorn: ``python -m service.deploy.serve [GUNICORN OPTION...]``.

``make run`` and the Docker image use this rather than calling gunicorn directly, for two
reasons:

* gunicorn reads ``WEB_CONCURRENCY`` with ``int()`` as soon as it is imported, before any
  configuration file runs, so ``WEB_CONCURRENCY=abc`` would end in a traceback and ``auto`` could
  not be accepted. Here every setting is checked first (one line naming the variable, exit
  status 2) and ``auto`` is replaced by the number of workers it stands for.
* It then *replaces itself* with gunicorn (``exec``), so gunicorn keeps this process id: in a
  container it is PID 1 and receives ``docker stop``'s SIGTERM directly.

Extra arguments go to gunicorn after ``--config service/deploy/gunicorn_conf.py
service.deploy.wsgi:app``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final, NoReturn

from service.config import ConfigError, load_settings

__all__ = ["CONFIG_FILE", "WSGI_APP", "gunicorn_command", "main"]

CONFIG_FILE: Final = Path(__file__).resolve().with_name("gunicorn_conf.py")
WSGI_APP: Final = "service.deploy.wsgi:app"


def gunicorn_command(extra: Sequence[str] = ()) -> list[str]:
    """The argument vector gunicorn is started with (this interpreter, ``-m gunicorn``)."""
    return [sys.executable, "-m", "gunicorn", "--config", str(CONFIG_FILE), WSGI_APP, *extra]


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Check the settings, resolve ``WEB_CONCURRENCY``, and exec gunicorn."""
    try:
        settings = load_settings(os.environ)
    except ConfigError as exc:
        print(f"triangulate: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    os.environ["WEB_CONCURRENCY"] = str(settings["WEB_CONCURRENCY"])
    command = gunicorn_command(sys.argv[1:] if argv is None else argv)
    sys.stdout.flush()
    sys.stderr.flush()
    # No shell: a fixed argv (this interpreter, gunicorn, our config) plus the caller's own
    # arguments, each one argument, so nothing is interpreted.
    os.execv(command[0], command)  # nosec B606


if __name__ == "__main__":  # pragma: no cover
    main()
