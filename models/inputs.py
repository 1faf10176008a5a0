"""The checks every estimator entry point makes of its claims and sources, in one place.

:func:`checked_inputs` refuses what no model can use (no claims, an unknown source, a claim
without the numbers its kind needs, a bad reliability) with a :class:`~models.errors.ReconcileError`
naming the field, and resolves the working scale and every source's credibility profile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from models.claims import Claim, Scale, Source, validate_claim, validate_scale, validate_sources
from models.credibility import SourceProfile, profile_for
from models.errors import InvalidClaimError, InvalidSourceError

__all__ = ["CheckedInputs", "checked_inputs"]


@dataclass(frozen=True, slots=True)
class CheckedInputs:
    """Sources by id, the resolved working scale and each source's credibility profile."""

    by_id: dict[str, Source]
    scale: Scale
    profiles: dict[str, SourceProfile]


def checked_inputs(
    claims: Sequence[Claim], sources: Sequence[Source], scale: str,
    profiles: Mapping[str, SourceProfile] | None = None,
) -> CheckedInputs:
    """Check ``claims`` and ``sources`` and resolve the scale and credibility.

    Parameters
    ----------
    claims, sources : sequence of Claim, sequence of Source
    scale : {"auto", "log", "linear"}
    profiles : mapping of source id to SourceProfile, optional
        Credibility to use instead of a source's stated reliability (e.g. learned).

    Returns
    -------
    CheckedInputs

    Raises
    ------
    ReconcileError
        With ``field`` naming the offending input (``claims.2.source``,
        ``sources.0.reliability`` …).
    """
    if len(claims) == 0:
        raise InvalidClaimError("At least one claim is required.", "claims")
    if len(sources) == 0:
        raise InvalidSourceError("At least one source is required.", "sources")
    by_id = validate_sources(tuple(sources))
    for i, claim in enumerate(claims):
        validate_claim(claim, i)
        if claim.source not in by_id:
            raise InvalidClaimError(
                f"Unknown source {claim.source!r}; it is not among the request's sources.",
                f"claims.{i}.source",
            )
    resolved = validate_scale(tuple(claims), scale)
    overrides = dict(profiles or {})
    resolved_profiles: dict[str, SourceProfile] = {}
    for j, source in enumerate(sources):
        if source.id in overrides:
            resolved_profiles[source.id] = overrides[source.id]
            continue
        try:
            resolved_profiles[source.id] = profile_for(source.reliability)
        except InvalidSourceError as exc:
            raise InvalidSourceError(exc.message, f"sources.{j}.reliability") from exc
    return CheckedInputs(by_id, resolved, resolved_profiles)
