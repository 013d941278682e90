"""The demo evidence: fictional, through the real workflow, every rating level, idempotent."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.demo import load_demo_data
from app.evidence import demo, permissions, pooling, ratings
from app.evidence.models import (
    RATING_LEVELS,
    Evaluation,
    EvaluationVersion,
    Outcome,
    ProgrammeRating,
    RegistryRating,
)
from app.outbox.models import OutboxMessage
from app.programmes.models import Programme


@pytest.fixture
def loaded(db_session: Session) -> None:
    load_demo_data(db_session)


def _evaluations(session: Session) -> list[Evaluation]:
    return list(
        session.scalars(
            select(Evaluation)
            .where(Evaluation.is_demo.is_(True))
            .options(selectinload(Evaluation.outcomes))
            .order_by(Evaluation.id)
        )
    )


def _programme(session: Session, title: str) -> Programme:
    found = session.scalar(select(Programme).where(Programme.title == title))
    assert found is not None, title
    return found


@pytest.mark.usefixtures("loaded")
def test_demo_evidence_covers_every_level_and_state(db_session: Session) -> None:
    evaluations = _evaluations(db_session)
    statuses = Counter(evaluation.status for evaluation in evaluations)

    assert 60 <= len(evaluations) <= 90
    assert len(evaluations) == len(demo.STUDIES)
    assert statuses["published"] >= 60
    assert statuses["submitted"] >= 1
    assert statuses["unpublished"] == 1
    unpublished = next(e for e in evaluations if e.status == "unpublished")
    assert unpublished.unpublish_reason
    assert sum(e.visibility == "members" for e in evaluations if e.status == "published") >= 3

    # Every rating level appears on published demo programmes; one programme only is
    # possibly harmful; many are not rated.
    levels = Counter(
        db_session.scalars(
            select(Programme.rating_level).where(
                Programme.is_demo.is_(True), Programme.status == "published"
            )
        )
    )
    assert set(levels) == set(RATING_LEVELS)
    assert levels["possibly_harmful"] == 1
    assert levels["effective"] >= 3
    assert levels["not_rated"] >= 15
    # Each level is the rules' result on the stored evidence (no override in the demo).
    for programme in db_session.scalars(
        select(Programme).where(Programme.is_demo.is_(True), Programme.rating_level != "not_rated")
    ):
        row = ratings.current(db_session, programme.id)
        assert row is not None
        assert not row.overridden
        assert row.level == programme.rating_level == row.computed_level
        assert ratings.compute(programme, ratings.evidence_of(db_session, programme.id)).level == (
            row.level
        )
    effective_rules = set(
        db_session.scalars(select(ProgrammeRating.rule).where(ProgrammeRating.level == "effective"))
    )
    assert effective_rules == {"effective_two_rigorous", "effective_review"}

    # Two ratings are due for re-review; three registry ratings with example names.
    assert len(ratings.due_for_review(db_session, date.today())) == 2
    registry = list(db_session.scalars(select(RegistryRating)))
    assert len(registry) == 3
    assert all("(example)" in row.registry_name and "(example)" in row.label for row in registry)


@pytest.mark.usefixtures("loaded")
def test_demo_has_pooled_groups_computed_effects_and_is_fictional(db_session: Session) -> None:
    # Forest plots as an anonymous visitor sees them (public evaluations only).
    pooled_programmes = 0
    heterogeneous = 0
    for programme in db_session.scalars(
        select(Programme).where(Programme.is_demo.is_(True), Programme.rating_level != "not_rated")
    ):
        visible = [
            evaluation
            for evaluation in ratings.evidence_of(db_session, programme.id)
            if permissions.can_see_listed(None, evaluation)
        ]
        groups = pooling.poolable_groups(
            [outcome for evaluation in visible for outcome in evaluation.outcomes]
        )
        pooled_programmes += bool(groups)
        for group in groups.values():
            pooled = pooling.pool([pooling.study_effect(outcome, "") for outcome in group])
            assert pooled is not None
            heterogeneous += pooled.i2 > 0.5
    assert pooled_programmes >= 3
    assert heterogeneous >= 2

    outcomes = list(
        db_session.scalars(
            select(Outcome)
            .join(Evaluation, Evaluation.id == Outcome.evaluation_id)
            .where(Evaluation.is_demo.is_(True))
        )
    )
    kinds = Counter(outcome.input_kind for outcome in outcomes)
    assert kinds["continuous"] >= 3
    assert kinds["binary"] >= 3
    zero_events = [
        outcome
        for outcome in outcomes
        if outcome.input_kind == "binary"
        and 0 in (outcome.inputs["events_t"], outcome.inputs["events_c"])
    ]
    assert zero_events
    assert all(outcome.inputs["computation"]["notes"] for outcome in zero_events)

    # The programme Harbour Circles: a members-only study hidden from anonymous visitors.
    harbour = _programme(db_session, "Harbour Circles")
    evidence = ratings.evidence_of(db_session, harbour.id)
    assert any(evaluation.visibility == "members" for evaluation in evidence)

    # Fictional throughout, and no e-mail is left from the workflow.
    for evaluation in _evaluations(db_session):
        assert evaluation.abstract.endswith(demo.NOTE)
        assert evaluation.doi is None or evaluation.doi.startswith("10.5555/")
        assert evaluation.url is None or ".example.org/" in evaluation.url
        assert evaluation.doi or evaluation.url
        assert evaluation.venue is None or evaluation.venue in demo._DOI_PARTS
        assert all(", " in name or name.startswith("Demo ") for name in evaluation.authors)
        assert evaluation.created_at.year >= evaluation.year
    versions = db_session.scalar(
        select(func.count())
        .select_from(EvaluationVersion)
        .join(Evaluation, Evaluation.id == EvaluationVersion.evaluation_id)
        .where(Evaluation.is_demo.is_(True))
    )
    assert versions == len(demo.STUDIES)
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_demo_evidence_is_idempotent_and_fast(
    db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The programmes and people first, then the evidence alone (timed).
    monkeypatch.setattr(demo, "add_demo_evidence", lambda _session: None)
    load_demo_data(db_session)
    monkeypatch.undo()
    started = time.perf_counter()
    first = demo.add_demo_evidence(db_session)
    elapsed = time.perf_counter() - started
    ratings_before = db_session.scalar(select(func.count()).select_from(ProgrammeRating))

    second = demo.add_demo_evidence(db_session)
    load_demo_data(db_session)

    assert first.evaluations_added == len(demo.STUDIES)
    assert first.registry_ratings_added == 3
    assert (second.evaluations_added, second.registry_ratings_added) == (0, 0)
    assert len(_evaluations(db_session)) == len(demo.STUDIES)
    assert db_session.scalar(select(func.count()).select_from(ProgrammeRating)) == ratings_before
    assert db_session.scalar(select(func.count()).select_from(RegistryRating)) == 3
    # Generous for a loaded CI machine; about one second on an idle one.
    assert elapsed < 6


def test_demo_evidence_needs_the_demo_people(db_session: Session) -> None:
    assert demo.add_demo_evidence(db_session) == demo.DemoEvidence(0, 0)
