"""Bearer-key authentication of the stored-data resources.

Writes (POST, PATCH, PUT, DELETE) on ``/v1/sources`` and ``/v1/questions`` need
``Authorization: Bearer <key>``; reads need one only when ``READS_REQUIRE_KEY`` is on.
``POST /v1/reconcile`` is stateless and stays open. A request without a usable key gets a 401
problem with ``WWW-Authenticate: Bearer`` (RFC 6750; ``error="invalid_token"`` when a key was
sent but is unknown, malformed or revoked).

Checking a key costs one scrypt derivation (:mod:`service.store.keys`). A process remembers the keys
it has verified (a SHA-256 of the whole key, compared in constant time), so later requests
skip the derivation; the key's row is still read on every request, so a revoked key stops
working at once, in every process.
"""

from __future__ import annotations

import hmac
from typing import Any, Final

from flask import current_app, g, request

from service.http import security
from service.http.database import get_database
from service.http.problems import Problem
from service.store import keys
from service.store.repository import Repository

__all__ = [
    "BEARER_SCHEME",
    "SECURITY",
    "authenticate",
    "current_actor",
    "document_security",
    "guard",
]

WRITE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Name of the security scheme in the OpenAPI document.
BEARER_SCHEME: Final = "bearerKey"
#: ``security`` of a documented operation that needs a key.
SECURITY: Final[list[dict[str, list[str]]]] = [{BEARER_SCHEME: []}]
REALM: Final = 'Bearer realm="triangulate"'
_CACHE: Final = "triangulate.verified_keys"


def _refuse(detail: str, *, invalid: bool) -> Problem:
    challenge = f'{REALM}, error="invalid_token"' if invalid else REALM
    return Problem(401, detail, headers={"WWW-Authenticate": challenge})


def authenticate() -> str:
    """The name of the key the request carries; 401 when there is none or it is not valid."""
    header = request.headers.get("Authorization", "")
    if not header:
        raise _refuse(
            "This request needs an API key: send Authorization: Bearer <key> (create one with "
            "`triangulate keys create NAME`).",
            invalid=False,
        )
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _refuse("Send the API key as Authorization: Bearer <key>.", invalid=True)
    token = token.strip()
    parsed = keys.parse(token)
    if parsed is None:
        raise _refuse("The API key is not valid.", invalid=True)
    key_id, secret = parsed
    with get_database().session() as session:
        row = Repository(session).find_key(key_id)
    if row is None:
        raise _refuse("The API key is not valid.", invalid=True)
    verified: dict[str, bytes] = current_app.extensions.setdefault(_CACHE, {})
    remembered = verified.get(key_id)
    fingerprint = keys.fingerprint(token)
    if remembered is None or not hmac.compare_digest(remembered, fingerprint):
        if not keys.verify(secret, row.salt, row.kdf, row.digest):
            raise _refuse("The API key is not valid.", invalid=True)
        verified[key_id] = fingerprint
    if row.revoked_at is not None:
        # Said only after the secret matched, so a guessed key id learns nothing.
        raise _refuse(f"The API key {row.name!r} has been revoked.", invalid=True)
    g.api_key_id = key_id  # the write rate limit's bucket (never logged, not secret)
    return row.name


def guard() -> None:
    """``before_request`` of the stored-data blueprints: check the key where one is needed."""
    if request.method in WRITE_METHODS or current_app.config["READS_REQUIRE_KEY"]:
        g.api_key_name = authenticate()
    if request.method in WRITE_METHODS:
        security.check_write_rate(g.api_key_id)


def current_actor() -> str:
    """Name of the key that authenticated this request (what ``entered_by`` records)."""
    name = g.get("api_key_name")
    if name is None:
        # Only write views ask, and guard() always authenticated those.
        name = authenticate()
        g.api_key_name = name
    return str(name)


def document_security(api: Any) -> None:
    """Declare the bearer-key scheme in ``api``'s OpenAPI document."""
    api.spec.components.security_scheme(
        BEARER_SCHEME,
        {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An API key from `triangulate keys create NAME` (tri_<key id>_<secret>). "
                "Needed for writes; for reads too when READS_REQUIRE_KEY is on."
            ),
        },
    )
