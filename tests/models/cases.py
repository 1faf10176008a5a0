"""Small question set-ups that several test modules of the core reconcile."""

from __future__ import annotations

from models.claims import Claim, Source


def echo_case(echoes: int) -> tuple[list[Claim], list[Source]]:
    """The ministry's 1,000 against ``echoes`` outlets repeating one agency report's 3,000.

    Claim 0 is the ministry's, claims 1…echoes the outlets' (sources ``o0``…, labelled
    "Outlet 0"…); every source is graded B.
    """
    claims = [Claim("m", "point", 1000)] + [
        Claim(f"o{k}", "point", 3000, origin="agency report") for k in range(echoes)]
    sources = [Source("m", "the ministry", reliability="B")] + [
        Source(f"o{k}", f"Outlet {k}", reliability="B") for k in range(echoes)]
    return claims, sources
