"""A track record's learned values are declared once (``models.track_record.LearnedValues``);
the store keeps each of them and the source's credibility reports each of them."""

from __future__ import annotations

from dataclasses import fields

from models.track_record import LearnedValues, TrackRecord
from service.http.schemas.resources import CredibilitySchema
from service.store.inputs import CredibilitySummary
from service.store.orm import TrackRecordRow, TrackRecordSnapshot

LEARNED = [f.name for f in fields(LearnedValues)]


def test_the_record_and_the_summary_extend_the_one_declaration() -> None:
    for cls in (TrackRecord, CredibilitySummary):
        assert issubclass(cls, LearnedValues)
        assert [f.name for f in fields(cls)][:len(LEARNED)] == LEARNED


def test_every_learned_value_has_a_column_and_a_response_field() -> None:
    for row in (TrackRecordRow, TrackRecordSnapshot):
        assert set(LEARNED) <= set(row.__table__.columns.keys()), row.__name__
    # The contract calls the learned credibility p_right (what estimates use).
    reported = {"p_right" if name == "credibility" else name for name in LEARNED}
    assert reported <= set(CredibilitySchema().fields)
