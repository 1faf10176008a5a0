"""API keys: their format, how they are made, and how a presented key is checked.

A key reads ``tri_<key_id>_<secret>``:

* ``key_id``: 12 lower-case hex digits (48 random bits), public. It finds the key's row with one
  indexed lookup, so checking a key costs one derivation, not one per stored key.
* ``secret``: 43 URL-safe characters (32 random bytes). Only a salted scrypt digest of it is
  stored; the key is printed once, at creation, and never again.

scrypt (RFC 7914) with n = 2¹⁴, r = 8, p = 1 costs about 50 ms and 16 MiB per derivation. The
secrets are random, not chosen by people, so the work factor is a second line of defence for a
stolen database rather than the only one; the parameters are stored with each key (``kdf``) so
that they can be raised later without invalidating existing keys. Digests are compared with
:func:`hmac.compare_digest`, in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Final

__all__ = ["SCRYPT_N", "NewKey", "derive", "fingerprint", "generate", "parse", "verify"]

PREFIX: Final = "tri"
SCRYPT_N: Final = 2**14
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
DIGEST_BYTES: Final = 32
SALT_BYTES: Final = 16
#: Key names: what ``entered_by`` records, so short and unambiguous.
NAME_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

_TOKEN: Final = re.compile(rf"{PREFIX}_(?P<key_id>[0-9a-f]{{12}})_(?P<secret>[A-Za-z0-9_-]{{43}})")
_KDF: Final = re.compile(r"scrypt:n=(?P<n>\d+),r=(?P<r>\d+),p=(?P<p>\d+)")


@dataclass(frozen=True, slots=True)
class NewKey:
    """A freshly generated key: the token to hand out once, and what to store."""

    token: str
    key_id: str
    kdf: str
    salt: bytes
    digest: bytes


def derive(secret: str, salt: bytes, kdf: str) -> bytes | None:
    """The digest of ``secret`` under ``kdf`` (``scrypt:n=…,r=…,p=…``); None for an unknown KDF."""
    match = _KDF.fullmatch(kdf)
    if match is None:
        return None
    n, r, p = (int(match[name]) for name in ("n", "r", "p"))
    return _scrypt(secret, salt, n, r, p)


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        secret.encode("ascii"), salt=salt, n=n, r=r, p=p, dklen=DIGEST_BYTES,
        maxmem=256 * n * r + 1024 * 1024,  # scrypt needs 128·n·r bytes; leave headroom
    )


def generate(n: int = SCRYPT_N) -> NewKey:
    """A new random key.

    Parameters
    ----------
    n : int
        scrypt's cost; tests lower it to keep a suite of many throw-away keys fast.
    """
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_bytes(SALT_BYTES)
    kdf = f"scrypt:n={n},r={SCRYPT_R},p={SCRYPT_P}"
    digest = _scrypt(secret, salt, n, SCRYPT_R, SCRYPT_P)
    return NewKey(f"{PREFIX}_{key_id}_{secret}", key_id, kdf, salt, digest)


def parse(token: str) -> tuple[str, str] | None:
    """``(key_id, secret)`` of a well-formed key, else None."""
    match = _TOKEN.fullmatch(token)
    return None if match is None else (match["key_id"], match["secret"])


def verify(secret: str, salt: bytes, kdf: str, digest: bytes) -> bool:
    """Whether ``secret`` derives to ``digest``, compared in constant time."""
    derived = derive(secret, salt, kdf)
    return derived is not None and hmac.compare_digest(derived, digest)


def fingerprint(token: str) -> bytes:
    """A fast hash of a whole token, to remember keys already verified in this process."""
    return hashlib.sha256(token.encode("utf-8")).digest()
