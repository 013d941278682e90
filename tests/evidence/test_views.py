"""The evidence of a programme as a viewer sees it: rating, reasons, studies, pooled results."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from app.evidence import ratings, service, views
from app.evidence.models import Evaluation, ProgrammeRating, RegistryRating
from app.members.models import Member
from app.programmes.models import Programme
from tests import factories


def evaluation_content(programme: Programme, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "programme_ids": [programme.id],
        "title": "A randomised trial of Safe Families",
        "authors": ["Weber, Anna", "Costa, Rui"],
        "year": 2021,
        "venue": "Journal of Prevention Studies",
        "doi": "",
        "design": "rct",
        "country": "DE",
        "sample_size": 240,
        "follow_up_months": 12,
        "risk_of_bias": "low",
        "visibility": "public",
        "outcomes": [outcome()],
    }
    values.update(overrides)
    return values


def outcome(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
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
    values.update(overrides)
    return values


def publish(session: Session, programme: Programme, **overrides: Any) -> Evaluation:
    researcher = factories.member(member_type="researcher")
    evaluation = service.create(session, researcher, evaluation_content(programme, **overrides))
    assert evaluation.status == "published"
    return evaluation


@contextmanager
def counting_queries(connection: Connection) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    event.listen(connection, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", before)


def test_a_programme_without_evaluations_is_not_rated(db_session: Session) -> None:
    programme = factories.programme()

    evidence = views.programme_evidence(db_session, None, programme)

    assert evidence.rating is None
    assert not evidence.is_rated
    assert not evidence.has_evidence
    assert evidence.studies == []
    assert evidence.pooled_groups == []
    assert evidence.registry_ratings == []


def test_one_rigorous_study_makes_it_promising_with_reasons_and_what_would_raise_it(
    db_session: Session,
) -> None:
    programme = factories.programme()
    study = publish(db_session, programme)

    evidence = views.programme_evidence(db_session, None, programme)

    rating = evidence.rating
    assert rating is not None
    assert (rating.level, rating.label, rating.rule) == (
        "promising",
        "Promising",
        "promising_rigorous",
    )
    assert rating.description.startswith("At least one rigorous study")
    assert not rating.overridden
    assert rating.computed_label == "Promising"
    assert rating.reviewed_on == date.today()
    assert not rating.due_for_review
    assert [reason.evaluation_ids for reason in rating.reasons] == [[study.id]]
    assert rating.reasons[0].links == [(study.id, "Weber & Costa 2021")]
    assert "A randomised trial of Safe Families (2021)" in rating.reasons[0].text
    assert not rating.reasons[0].mentions_hidden
    assert any(
        "second rigorous study" in text or "Two rigorous" in text for text in rating.raise_by
    )
    # One effect of its kind: listed, but nothing to pool.
    assert [view.id for view in evidence.studies] == [study.id]
    assert evidence.pooled_groups == []
    view = evidence.studies[0]
    assert view.short_citation == "Weber & Costa 2021"
    assert view.citation.startswith("Weber, Anna; Costa, Rui (2021). A randomised trial")
    assert (view.design_label, view.risk_of_bias_label, view.country_label) == (
        "Randomised controlled trial",
        "Low",
        "Germany",
    )
    shown = view.outcomes[0]
    assert (shown.estimate_text, shown.ci_text, shown.direction, shown.direction_label) == (
        "0.40",
        "0.15 to 0.65",
        "favourable",
        "Favourable",
    )


def test_two_effects_of_a_kind_and_measure_are_pooled_with_a_forest_plot(
    db_session: Session,
) -> None:
    programme = factories.programme()
    first = publish(db_session, programme, year=2019, authors=["Lind, Eva"])
    publish(
        db_session,
        programme,
        year=2022,
        authors=["Ng, A", "Ortiz, B", "Park, C"],
        outcomes=[
            outcome(name="Parenting", estimate="0.2", ci_low="-0.1", ci_high="0.5"),
            outcome(
                name="Re-reports",
                kind="abuse_or_offending",
                measure="odds_ratio",
                estimate="0.7",
                ci_low="0.5",
                ci_high="0.98",
                lower_is_better="on",
            ),
        ],
    )

    evidence = views.programme_evidence(db_session, None, programme)

    # The odds ratio has one study only: not pooled.
    assert [(group.kind, group.measure) for group in evidence.pooled_groups] == [
        ("risk_or_protective_factor", "smd")
    ]
    group = evidence.pooled_groups[0]
    assert [study.label for study in group.studies] == [
        "Lind 2019: Protective parenting practices",
        "Ng et al. 2022: Parenting",
    ]
    assert group.studies[0].ref == first.id
    assert group.pooled.k == 2
    assert 0.2 < group.pooled.estimate < 0.4
    assert group.svg.startswith("<svg")
    assert "Lind 2019" in group.svg
    assert f'id="{group.anchor}-plot-title"' in group.svg
    assert [row.is_pooled for row in group.rows] == [False, False, True]
    assert "2 studies" in group.summary
    assert "τ²" in group.summary
    assert group.method == "random-effects (DerSimonian–Laird)"  # noqa: RUF001
    assert group.ratio_note == ""
    assert group.heading == ("Risk or protective factor: Standardised mean difference (Hedges' g)")


def test_ratios_are_pooled_with_a_note_and_each_group_gets_its_own_plot(
    db_session: Session,
) -> None:
    programme = factories.programme()
    ratio = outcome(
        name="Re-reports",
        kind="abuse_or_offending",
        measure="risk_ratio",
        estimate="0.8",
        ci_low="0.6",
        ci_high="1.1",
        lower_is_better="on",
    )
    for year in (2018, 2020):
        publish(db_session, programme, year=year, outcomes=[outcome(), ratio])

    groups = views.programme_evidence(db_session, None, programme).pooled_groups

    assert len(groups) == 2
    assert len({group.anchor for group in groups}) == 2
    ratio_group = next(group for group in groups if group.measure == "risk_ratio")
    assert ratio_group.is_ratio
    assert "log scale" in ratio_group.ratio_note
    assert ratio_group.lower_is_better


def test_outcomes_pointing_different_ways_are_not_pooled(db_session: Session) -> None:
    programme = factories.programme()
    publish(db_session, programme, outcomes=[outcome(lower_is_better="on")])
    publish(db_session, programme, outcomes=[outcome()])

    assert views.programme_evidence(db_session, None, programme).pooled_groups == []


def test_a_members_only_study_counts_but_is_not_named_to_visitors(db_session: Session) -> None:
    programme = factories.programme()
    hidden = publish(db_session, programme, visibility="members", title="Secret Trial")

    anonymous = views.programme_evidence(db_session, None, programme)
    member = views.programme_evidence(db_session, factories.member(), programme)

    assert anonymous.rating is not None
    assert anonymous.rating.level == "promising"
    assert anonymous.studies == []
    assert anonymous.hidden_count == 1
    assert anonymous.has_evidence
    reason = anonymous.rating.reasons[0]
    assert "Secret Trial" not in reason.text
    assert reason.text.startswith("A study visible to members, a rigorous study")
    assert reason.evaluation_ids == []
    assert reason.links == []
    assert reason.mentions_hidden
    # The rating still says what it rests on (ids only, for the API).
    assert anonymous.rating.evaluation_ids == [hidden.id]

    assert member.hidden_count == 0
    assert [view.id for view in member.studies] == [hidden.id]
    assert member.rating is not None
    assert "Secret Trial (2021)" in member.rating.reasons[0].text
    assert member.rating.reasons[0].evaluation_ids == [hidden.id]


def test_an_override_is_shown_with_the_computed_level(db_session: Session) -> None:
    programme = factories.programme(countries=["PT"])
    publish(db_session, programme)
    coordinator: Member = factories.coordinator(["PT"])
    ratings.override(db_session, coordinator, programme.id, "pioneering", "Too early to say.")

    rating = views.programme_evidence(db_session, None, programme).rating

    assert rating is not None
    assert (rating.level, rating.label) == ("pioneering", "Pioneering")
    assert rating.overridden
    assert rating.justification == "Too early to say."
    assert (rating.computed_level, rating.computed_label) == ("promising", "Promising")


def test_a_rating_reviewed_over_three_years_ago_is_due(db_session: Session) -> None:
    programme = factories.programme()
    publish(db_session, programme)
    row = ratings.current(db_session, programme.id)
    assert isinstance(row, ProgrammeRating)
    row.reviewed_on = date(2020, 5, 1)

    due = views.programme_evidence(db_session, None, programme, today=date(2023, 5, 2)).rating
    not_yet = views.programme_evidence(db_session, None, programme, today=date(2023, 5, 1)).rating

    assert due is not None
    assert due.due_for_review
    assert not_yet is not None
    assert not not_yet.due_for_review


def test_registry_ratings_come_most_recent_first(db_session: Session) -> None:
    programme = factories.programme()
    for name, year in (("Old Registry", 2015), ("Undated Registry", None), ("New Registry", 2023)):
        db_session.add(
            RegistryRating(programme_id=programme.id, registry_name=name, label="Top", year=year)
        )
    db_session.flush()

    shown = views.programme_evidence(db_session, None, programme).registry_ratings

    assert [entry.registry_name for entry in shown] == [
        "New Registry",
        "Old Registry",
        "Undated Registry",
    ]


def test_the_evidence_costs_at_most_five_queries(
    db_session: Session, connection: Connection
) -> None:
    programme = factories.programme()
    for year in (2018, 2019, 2020):
        publish(db_session, programme, year=year)
    db_session.add(RegistryRating(programme_id=programme.id, registry_name="R", label="A"))
    viewer = factories.member()
    db_session.flush()
    db_session.expunge_all()
    programme = db_session.get(Programme, programme.id)  # type: ignore[assignment]
    viewer = db_session.get(Member, viewer.id)  # type: ignore[assignment]

    with counting_queries(connection) as statements:
        evidence = views.programme_evidence(db_session, viewer, programme)

    assert len(evidence.studies) == 3
    assert len(evidence.pooled_groups) == 1
    assert len(evidence.registry_ratings) == 1
    assert len(statements) <= 5, "\n\n".join(statements)


def test_short_citations_cope_with_names_as_people_write_them() -> None:
    assert views.short_authors(["Anna Weber"]) == "Weber"
    assert views.short_authors(["Weber, Anna", " "]) == "Weber"
    assert views.short_authors([]) == ""
    untitled = Evaluation(title="Safe Families: an evaluation", authors=[], year=2020)
    assert views.short_citation(untitled) == "Safe Families: an evaluation 2020"
    assert views.citation_line(untitled) == "(2020). Safe Families: an evaluation."


def test_coordinators_of_the_programme_manage_its_rating(db_session: Session) -> None:
    programme = factories.programme(countries=["PT"])
    here = factories.coordinator(["PT"])
    elsewhere = factories.coordinator(["FR"])
    member = factories.member()
    db_session.flush()
    ids = (programme.id, here.id, elsewhere.id, member.id)
    db_session.expunge_all()
    # Loaded afresh: neither the programme's terms nor the coordinators' countries are loaded.
    programme = db_session.get(Programme, ids[0])  # type: ignore[assignment]

    def manages(member_id: int) -> bool:
        viewer = db_session.get(Member, member_id)
        return views.programme_evidence(db_session, viewer, programme).can_manage

    assert manages(ids[1])
    assert not manages(ids[2])
    assert not manages(ids[3])
    assert not views.programme_evidence(db_session, None, programme).can_manage
    assert views.programme_evidence(db_session, None, programme).can_add_evaluation is False
