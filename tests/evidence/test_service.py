"""Publishing evaluations and the ratings that follow from them."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.evidence import content, ratings, service
from app.evidence.models import EvaluationVersion, Outcome, ProgrammeRating
from app.programmes.models import Programme
from tests import factories


def evaluation_content(programme: Programme, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "programme_ids": [programme.id],
        "title": "A randomised trial of Safe Families",
        "authors": ["Weber, Anna", "Costa, Rui"],
        "year": 2021,
        "venue": "Journal of Prevention Studies",
        "doi": "https://doi.org/10.1234/JPS.2021.77",
        "design": "rct",
        "country": "DE",
        "sample_size": 240,
        "follow_up_months": 12,
        "risk_of_bias": "low",
        "visibility": "public",
        "outcomes": [
            {
                "name": "Protective parenting practices",
                "kind": "risk_or_protective_factor",
                "measure": "smd",
                "input_kind": "effect",
                "estimate": "0.40",
                "ci_low": "0.15",
                "ci_high": "0.65",
                "n_treatment": "120",
                "n_control": "120",
            }
        ],
    }
    values.update(overrides)
    return values


def test_doi_is_normalised_and_a_non_doi_refused() -> None:
    assert content.normalise_doi(" https://doi.org/10.1234/ABC.5 ") == "10.1234/abc.5"
    assert content.normalise_doi("doi:10.1000/xyz") == "10.1000/xyz"
    with pytest.raises(ValueError, match=r"10\.1000/xyz123"):
        content.normalise_doi("not a doi")


def test_bad_numbers_are_refused_at_their_field(db_session: Session) -> None:
    programme = factories.programme()
    _, errors = content.validate(
        db_session,
        evaluation_content(
            programme,
            year=date.today().year + 1,
            sample_size=-5,
            outcomes=[
                {
                    "name": "Offending",
                    "kind": "abuse_or_offending",
                    "measure": "odds_ratio",
                    "input_kind": "effect",
                    "estimate": "0",
                    "ci_low": "-0.2",
                    "ci_high": "0.9",
                },
                {
                    "name": "Attitudes",
                    "kind": "knowledge_or_attitude",
                    "measure": "smd",
                    "input_kind": "effect",
                    "estimate": "0.9",
                    "ci_low": "0.1",
                    "ci_high": "0.5",
                },
            ],
        ),
    )
    assert {"year", "sample_size", "outcomes.0.estimate", "outcomes.1.estimate"} <= set(errors)


def test_group_statistics_become_an_effect_with_its_formula(db_session: Session) -> None:
    programme = factories.programme()
    values, errors = content.validate(
        db_session,
        evaluation_content(
            programme,
            outcomes=[
                {
                    "name": "Help-seeking",
                    "kind": "abuse_or_offending",
                    "measure": "risk_ratio",
                    "input_kind": "binary",
                    "events_t": "0",
                    "n_treatment": "50",
                    "events_c": "6",
                    "n_control": "50",
                    "lower_is_better": "on",
                }
            ],
        ),
    )
    assert errors == {}
    outcome = values["outcomes"][0]
    assert outcome["ci_low"] < outcome["estimate"] < outcome["ci_high"]
    assert outcome["computation"]["notes"]  # the continuity correction is recorded


def test_a_researcher_publishes_and_the_rating_follows(db_session: Session) -> None:
    programme = factories.programme()
    researcher = factories.member(member_type="researcher")
    assert programme.rating_level == "not_rated"

    evaluation = service.create(db_session, researcher, evaluation_content(programme))

    assert evaluation.status == "published"
    assert evaluation.doi == "10.1234/jps.2021.77"
    assert (
        db_session.scalar(select(Outcome.estimate).where(Outcome.evaluation_id == evaluation.id))
        == 0.4
    )
    assert programme.rating_level == "promising"
    rating = ratings.current(db_session, programme.id)
    assert rating is not None
    assert (rating.rule, rating.evaluation_ids) == ("promising_rigorous", [evaluation.id])


def test_a_practitioner_submits_and_a_coordinator_decides(db_session: Session) -> None:
    programme = factories.programme()
    practitioner = factories.member(member_type="practitioner")
    evaluation = service.create(db_session, practitioner, evaluation_content(programme))
    assert evaluation.status == "submitted"
    assert programme.rating_level == "not_rated"

    coordinator = factories.coordinator(["DE"])
    with pytest.raises(service.InvalidEvaluation):
        service.review(db_session, coordinator, evaluation, "reject", "")
    service.review(db_session, coordinator, evaluation, "approve", "")
    assert evaluation.status == "published"
    assert programme.rating_level == "promising"

    service.unpublish(db_session, coordinator, evaluation, "Retracted by the journal.")
    assert evaluation.status == "unpublished"
    assert programme.rating_level == "not_rated"
    levels = db_session.scalars(
        select(ProgrammeRating.level)
        .where(ProgrammeRating.programme_id == programme.id)
        .order_by(ProgrammeRating.id)
    ).all()
    assert levels == ["promising", "not_rated"]


def test_an_edit_is_a_new_published_version(db_session: Session) -> None:
    programme = factories.programme()
    researcher = factories.member(member_type="researcher")
    evaluation = service.create(db_session, researcher, evaluation_content(programme))
    base = service.editable_base(db_session, evaluation)
    service.save(
        db_session,
        researcher,
        evaluation,
        {"follow_up_months": "24"},
        service.version_token(base),
    )
    states = db_session.scalars(
        select(EvaluationVersion.state)
        .where(EvaluationVersion.evaluation_id == evaluation.id)
        .order_by(EvaluationVersion.number)
    ).all()
    assert states == ["superseded", "published"]
    assert evaluation.follow_up_months == 24
    with pytest.raises(service.StaleEdit):
        service.save(db_session, researcher, evaluation, {}, service.version_token(base))


def test_override_needs_a_justification_and_is_kept_when_evidence_moves(
    db_session: Session,
) -> None:
    programme = factories.programme()
    researcher = factories.member(member_type="researcher")
    coordinator = factories.coordinator(network=True)
    service.create(db_session, researcher, evaluation_content(programme))
    with pytest.raises(ratings.InvalidOverride):
        ratings.override(db_session, coordinator, programme.id, "effective", " ")
    ratings.override(
        db_session, coordinator, programme.id, "prudent", "The trial's sample was atypical."
    )
    assert programme.rating_level == "prudent"

    service.create(
        db_session, researcher, evaluation_content(programme, title="A second trial", doi=None)
    )
    latest = ratings.current(db_session, programme.id)
    assert latest is not None
    assert (latest.level, latest.overridden) == ("prudent", True)
    assert latest.computed_level == "promising"


def test_ratings_older_than_three_years_are_due_for_review(db_session: Session) -> None:
    programme = factories.programme()
    researcher = factories.member(member_type="researcher")
    service.create(db_session, researcher, evaluation_content(programme))
    rating = ratings.current(db_session, programme.id)
    assert rating is not None
    rating.reviewed_on = date(2023, 3, 1)
    db_session.flush()
    assert rating in ratings.due_for_review(db_session, today=date(2026, 3, 2))
    assert rating not in ratings.due_for_review(db_session, today=date(2026, 3, 1))
    confirmed = ratings.confirm(
        db_session, factories.coordinator(network=True), programme.id, today=date(2026, 3, 2)
    )
    assert confirmed not in ratings.due_for_review(db_session, today=date(2026, 3, 2))


def test_group_sizes_beyond_any_study_are_refused_at_the_field(db_session: Session) -> None:
    programme = factories.programme()
    outcome = evaluation_content(programme)["outcomes"][0] | {"n_treatment": "999999999999"}
    _, errors = content.validate(db_session, evaluation_content(programme, outcomes=[outcome]))
    assert "outcomes.0.n_treatment" in errors
