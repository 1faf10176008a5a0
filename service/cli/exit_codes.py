"""The exit statuses of every ``triangulate`` command, as a shell script reads them: 0 on
success; 1 when the command ran but did not succeed (its input was refused, a fixture failed,
the database is not up to date); 2 when it could not run as asked (a usage error, a file it
cannot read, an invalid setting)."""

from __future__ import annotations

from typing import Final

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_REFUSED", "EXIT_USAGE"]

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
#: A refusal of the input is a failure to the shell; the name says which the command meant.
EXIT_REFUSED: Final = EXIT_FAILED
EXIT_USAGE: Final = 2
