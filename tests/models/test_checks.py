"""The argument checks every estimator shares (``models/checks.py``)."""

from __future__ import annotations

import pytest

from models.batch import BatchEstimator
from models.checks import check_levels
from models.dynamics import DynamicEstimator
from models.dynamics.bias import SourceBiasEstimator
from models.errors import InvalidParameterError


def test_levels_come_back_as_floats() -> None:
    assert check_levels([0.5, 9 / 10]) == (0.5, 0.9)


@pytest.mark.parametrize(
    ("levels", "field", "message"),
    [
        ((), "levels", "At least one interval level is required."),
        ((0.5, True), "levels.1", "Invalid level True; must be a number."),
        (("0.9",), "levels.0", "Invalid level '0.9'; must be a number."),
        ((0.5, 1.0), "levels.1", "Invalid level 1.0; must lie in (0, 1)."),
        ((float("nan"),), "levels.0", "Invalid level nan; must lie in (0, 1)."),
    ],
)
def test_bad_levels_are_refused_naming_the_level(
    levels: tuple[object, ...], field: str, message: str
) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        check_levels(levels)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert caught.value.message == message


def test_the_bias_estimator_checks_its_levels_when_built() -> None:
    with pytest.raises(InvalidParameterError) as caught:
        SourceBiasEstimator(["ref"], levels=())
    assert caught.value.field == "levels"


def test_every_estimator_refuses_a_level_with_one_message() -> None:
    """Before: the batch and moving estimators said 'must lie in (0, 1)' of a string."""
    from models.batch.table import ClaimTable

    table = ClaimTable.from_columns(["q"], ["s"], ["point"], [10.0])
    with pytest.raises(InvalidParameterError, match="must be a number") as batch:
        BatchEstimator().fit(table, levels=("0.9",))  # type: ignore[arg-type]
    assert batch.value.field == "levels.0"
    with pytest.raises(InvalidParameterError, match="must be a number"):
        DynamicEstimator("cumulative").fit(None, (), levels=("0.9",))  # type: ignore[arg-type]
