"""The repository: every read and write of stored data, in terms of the domain.

Views (and scripts such as the benchmarks) call one method per request; the method opens and
commits its own transaction, so a refused or failing request leaves nothing half-written.
Methods return ORM rows (read-only by convention) or plain dataclasses; what goes to the
statistical core is always made of the core's own dataclasses
(:class:`models.claims.Claim`, :class:`models.claims.Source`,
:class:`models.track_record.ResolvedClaim`), never ORM objects.

History
-------
Each change to a source, question or claim writes a full copy of its fields to the matching
revision table (``create``, ``edit``, ``retract``, ``resolve``), stamped with the time and the
API key's name. :meth:`Repository.estimate_input` with ``as_of`` rebuilds the question, its
claims, their sources and the sources' learned credibility as they stood at that moment, so
the estimate shown then can be reproduced later.

Learning lives in :mod:`service.store.learning`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from service.config import RateLimit
from service.store import keys
from service.store.claims import ClaimStore
from service.store.errors import Conflict, NotFound
from service.store.orm import (
    ApiKey,
    WriteBucket,
)

__all__ = ["Repository", "take_token"]


class Repository(ClaimStore):
    """Stored sources, questions, claims, track records and API keys.

    The methods of each resource live in their own module (:mod:`service.store.sources`,
    :mod:`service.store.questions`, :mod:`service.store.claims`, :mod:`service.store.learning`);
    write rate limits and API keys are here. It is made from a session and an optional clock,
    as :class:`~service.store.base.RepositoryBase` describes.
    """

    # --- Write rate limits ------------------------------------------------------------------

    def take_write_token(self, key_id: str, limit: RateLimit) -> float:
        """Take one write token from the bucket of ``key_id``, shared by every worker.

        Returns 0.0 when granted, else the seconds until a token is back. The bucket row is
        created full on a key's first write, then read under a row lock (PostgreSQL: SELECT …
        FOR UPDATE; SQLite: the transaction's write lock), so concurrent writers of one key
        queue on it and none is granted a token twice.
        """
        insert = pg_insert if self._is_postgresql() else sqlite_insert
        with self._write() as now:
            moment = now.timestamp()
            self.session.execute(
                insert(WriteBucket)
                .values(key_id=key_id, tokens=float(limit.count), refilled_at=moment)
                .on_conflict_do_nothing(index_elements=["key_id"])
            )
            bucket = self.session.execute(
                select(WriteBucket).where(WriteBucket.key_id == key_id).with_for_update()
                .execution_options(populate_existing=True)
            ).scalar_one()
            tokens, wait = take_token(bucket.tokens, bucket.refilled_at, moment, limit)
            bucket.tokens, bucket.refilled_at = tokens, max(moment, bucket.refilled_at)
        return wait

    # --- API keys ---------------------------------------------------------------------------

    def create_key(self, name: str, *, cost: int = keys.SCRYPT_N) -> str:
        """Store a new key called ``name`` and return it (the only time it is shown).

        Raises
        ------
        ValueError
            When ``name`` is not 1–64 letters, digits, ``.``, ``_`` or ``-``.
        service.store.errors.Conflict
            When a key (even a revoked one) already has this name.
        """
        if not keys.NAME_PATTERN.fullmatch(name):
            raise ValueError(
                f"Invalid key name {name!r}: use 1 to 64 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit."
            )
        new = keys.generate(cost)
        with self._write() as now:
            if self.session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
                raise Conflict(f"A key named {name!r} already exists (names are never reused).")
            self.session.add(ApiKey(
                name=name, key_id=new.key_id, kdf=new.kdf, salt=new.salt, digest=new.digest,
                created_at=now,
            ))
        return new.token

    def revoke_key(self, name: str) -> ApiKey:
        """Revoke the key ``name`` (no-op when it already is); 404 when there is none."""
        with self._write() as now:
            key = self.session.scalar(select(ApiKey).where(ApiKey.name == name))
            if key is None:
                raise NotFound(f"There is no key named {name!r}.")
            if key.revoked_at is None:
                key.revoked_at = now
        return key

    def list_keys(self) -> list[ApiKey]:
        """Every key, revoked ones included, by name."""
        return list(self.session.scalars(select(ApiKey).order_by(ApiKey.name)))

    def find_key(self, key_id: str) -> ApiKey | None:
        """The key whose public id is ``key_id``."""
        return self.session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))


def take_token(tokens: float, last: float, now: float, limit: RateLimit) -> tuple[float, float]:
    """One token-bucket step: (tokens left, seconds to wait; 0.0 when a token was granted).

    The bucket holds at most ``limit.count`` tokens and regains ``limit.rate`` per second since
    ``last``; a clock that went backwards (another host's) refills nothing.
    """
    tokens = min(float(limit.count), tokens + max(0.0, now - last) * limit.rate)
    if tokens >= 1.0:
        return tokens - 1.0, 0.0
    return tokens, (1.0 - tokens) / limit.rate
