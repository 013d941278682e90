"""The demo programmes: many, varied, fictional, consistent with the workflow, idempotent."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.db import utcnow
from app.demo import DemoReport, load_demo_data
from app.members.models import Member
from app.outbox.models import OutboxMessage
from app.programmes import demo
from app.programmes.models import (
    ImplementationReport,
    Programme,
    ProgrammeThreadEntry,
    ProgrammeVersion,
)
from app.vocabularies.builtin import (
    ABUSE_ADDRESSED,
    DELIVERY,
    PREVENTION_LEVELS,
    SETTINGS,
    TARGET_GROUPS,
    TARGET_SUBGROUPS,
)
from tests import factories


@pytest.fixture
def loaded(db_session: Session) -> DemoReport:
    return load_demo_data(db_session)


def _programmes(session: Session) -> list[Programme]:
    return list(
        session.scalars(
            select(Programme)
            .where(Programme.is_demo.is_(True))
            .options(selectinload(Programme.terms), selectinload(Programme.translations))
            .order_by(Programme.id)
        )
    )


def _listed(programmes: list[Programme]) -> list[Programme]:
    return [p for p in programmes if p.is_published and not p.is_archived]


def _codes(programmes: list[Programme], field: str) -> set[str]:
    return {code for programme in programmes for code in programme.codes(field)}


def _count(session: Session, model: Any, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_sixty_programmes_cover_every_group_level_setting_and_delivery(
    db_session: Session, loaded: DemoReport
) -> None:
    programmes = _programmes(db_session)
    listed = _listed(programmes)

    assert loaded.programmes_added == len(programmes) >= 60
    assert len(listed) >= 55
    assert _codes(listed, "target_groups") == set(TARGET_GROUPS)
    assert _codes(listed, "target_subgroups") == {code for code, _p, _l in TARGET_SUBGROUPS}
    assert _codes(listed, "prevention_level") == set(PREVENTION_LEVELS)
    assert _codes(listed, "settings") == set(SETTINGS)
    assert _codes(listed, "delivery") == set(DELIVERY)
    assert _codes(listed, "abuse_addressed") == set(ABUSE_ADDRESSED)
    assert len(_codes(listed, "countries")) >= 20
    assert len(_codes(listed, "languages")) >= 20
    # Age ranges where they make sense, and a mix of practical facts.
    assert any(p.age_min == 4 and p.age_max == 11 for p in listed)
    assert any(p.age_min is None for p in listed)
    assert {p.manual_available for p in listed} == {True, False}
    assert {p.training_required for p in listed} == {True, False}
    assert {p.still_running for p in listed} == {True, False}
    years = [p.start_year for p in programmes if p.start_year is not None]
    assert min(years) >= 1995
    assert max(years) <= 2025


def test_programmes_are_fictional_and_written_in_several_languages(
    db_session: Session, loaded: DemoReport
) -> None:
    programmes = _programmes(db_session)

    for programme in programmes:
        assert programme.contact_email is not None
        assert programme.contact_email.endswith("@example.org")
        assert (programme.website or "").startswith("https://example.org/")
        assert programme.description.startswith("## ")
        # Each description ends by saying, in its own language, that it is demo data.
        last_line = programme.description.rstrip().splitlines()[-1]
        assert last_line.startswith("_")
        assert last_line.endswith("_")
        assert "Demo" in (programme.contact_name or "")
        assert programme.provider_organisation_id is not None or (
            (programme.provider_name or "").startswith("Demo ")
        )
    foreign = [p for p in programmes if p.content_language != "en"]
    assert {p.content_language for p in foreign} >= {"de", "fr", "pt", "pl", "es", "it"}
    # Programmes in another language are translated into English, and several English ones
    # into other languages.
    for programme in foreign:
        assert "en" in {t.language for t in programme.translations}
    english_translated = [p for p in programmes if p.content_language == "en" and p.translations]
    assert len(english_translated) >= 8
    assert len({p.title for p in programmes}) == len(programmes)


def test_some_programmes_are_for_members_only_mostly_offender_focused(
    db_session: Session, loaded: DemoReport
) -> None:
    programmes = _programmes(db_session)
    members_only = [p for p in programmes if p.visibility == "members"]

    assert 0.1 <= len(members_only) / len(programmes) <= 0.2
    offender_focused = [p for p in members_only if "offenders" in p.codes("target_groups")]
    assert len(offender_focused) > len(members_only) / 2


def test_adaptations_record_their_lineage_two_levels_deep(
    db_session: Session, loaded: DemoReport
) -> None:
    programmes = {p.id: p for p in _programmes(db_session)}
    adaptations = [p for p in programmes.values() if p.adapted_from_id is not None]

    assert len(adaptations) >= 6
    for adaptation in adaptations:
        assert adaptation.adapted_from_id is not None
        original = programmes[adaptation.adapted_from_id]
        assert original.is_published
        # An adaptation takes the model to other countries or languages.
        assert set(adaptation.codes("countries")) != set(original.codes("countries")) or set(
            adaptation.codes("languages")
        ) != set(original.codes("languages"))
    second_level = [
        p for p in adaptations if programmes[p.adapted_from_id or 0].adapted_from_id is not None
    ]
    assert len(second_level) >= 2


def test_the_workflow_left_versions_threads_and_every_state(
    db_session: Session, loaded: DemoReport
) -> None:
    programmes = _programmes(db_session)
    statuses = Counter(p.status for p in programmes)
    assert statuses["draft"] >= 2
    assert statuses["submitted"] >= 1
    assert statuses["changes_requested"] >= 1
    archived = [p for p in programmes if p.is_archived]
    assert len(archived) == 1
    assert archived[0].archive_reason

    versions = list(
        db_session.scalars(
            select(ProgrammeVersion)
            .where(ProgrammeVersion.programme_id.in_([p.id for p in programmes]))
            .order_by(ProgrammeVersion.programme_id, ProgrammeVersion.number)
        )
    )
    published_counts = Counter(
        v.programme_id for v in versions if v.state in ("published", "superseded")
    )
    assert sum(1 for count in published_counts.values() if count >= 2) >= 4
    assert max(published_counts.values()) == 3
    # A published programme with an edit waiting for review keeps its published version.
    waiting = {v.programme_id for v in versions if v.state == "submitted"}
    assert any(p.id in waiting and p.is_published for p in programmes)

    # The listed content mirrors the published version, as the service keeps it.
    by_id = {v.id: v for v in versions}
    for programme in _listed(programmes):
        assert programme.published_version_id is not None
        published = by_id[programme.published_version_id]
        assert published.state == "published"
        assert published.data["title"] == programme.title
        for field in ("target_groups", "countries", "languages", "delivery"):
            assert programme.codes(field) == published.data[field]

    # Times lie in the past, in the order the steps happened.
    now = utcnow().replace(tzinfo=None)
    for version in versions:
        steps = [version.created_at, version.submitted_at, version.decided_at]
        times = [moment.replace(tzinfo=None) for moment in steps if moment is not None]
        assert times == sorted(times)
        assert times[-1] < now
    for programme in _listed(programmes):
        assert programme.published_at is not None
        assert programme.content_updated_at is not None
        assert programme.published_at <= programme.content_updated_at
        assert programme.published_at.replace(tzinfo=None) < now
    published_years = {p.published_at.year for p in _listed(programmes) if p.published_at}
    assert len(published_years) >= 2

    kinds = Counter(
        db_session.scalars(
            select(ProgrammeThreadEntry.kind).where(
                ProgrammeThreadEntry.programme_id.in_([p.id for p in programmes])
            )
        )
    )
    assert kinds["submit"] >= 60
    assert kinds["approve"] >= 60
    assert kinds["request_changes"] >= 2
    assert kinds["archive"] == 1
    assert kinds["comment"] >= 1

    deciders = {v.decided_by_id for v in versions if v.decided_by_id is not None}
    roles = db_session.execute(
        select(Member.role, Member.is_demo).where(Member.id.in_(deciders))
    ).all()
    assert roles
    assert all(is_demo and role in ("coordinator", "admin") for role, is_demo in roles)


def test_implementation_reports_from_ten_countries(db_session: Session, loaded: DemoReport) -> None:
    reports = list(
        db_session.scalars(select(ImplementationReport).where(ImplementationReport.is_demo))
    )
    programmes = {p.id: p for p in _programmes(db_session)}

    assert loaded.reports_added == len(reports)
    assert len({r.programme_id for r in reports}) >= 10
    assert len({r.country for r in reports}) >= 10
    for report in reports:
        programme = programmes[report.programme_id]
        assert programme.is_published
        assert report.what_worked
        assert report.what_did_not_work
        assert report.adaptations
        if programme.visibility == "members":
            assert report.visibility == "members"
        assert programme.published_at is not None
        assert report.created_at.replace(tzinfo=None) >= programme.published_at.replace(tzinfo=None)


def test_no_mail_about_demo_programmes_is_left_to_send(db_session: Session) -> None:
    # A real network coordinator would be told of every demo submission.
    coordinator = factories.coordinator(network=True)
    before = _count(db_session, OutboxMessage)

    report = load_demo_data(db_session)

    assert report.programmes_added >= 60
    assert _count(db_session, OutboxMessage) == before
    assert _count(db_session, OutboxMessage, OutboxMessage.recipient == coordinator.email) == 0


def test_running_again_adds_only_what_is_missing(db_session: Session, loaded: DemoReport) -> None:
    def counts() -> tuple[int, ...]:
        return tuple(
            _count(db_session, model)
            for model in (Programme, ProgrammeVersion, ImplementationReport, ProgrammeThreadEntry)
        )

    before = counts()
    again = load_demo_data(db_session)

    assert (again.programmes_added, again.reports_added) == (0, 0)
    assert counts() == before

    lost = db_session.scalars(
        select(Programme).where(Programme.is_demo, Programme.title == "Lucerna Line")
    ).one()
    original_id = lost.adapted_from_id
    db_session.delete(lost)
    db_session.flush()

    restored_report = load_demo_data(db_session)

    assert restored_report.programmes_added == 1
    restored = db_session.scalars(
        select(Programme).where(Programme.is_demo, Programme.title == "Lucerna Line")
    ).one()
    assert restored.adapted_from_id == original_id
    assert counts() == before


def test_the_same_seed_gives_the_same_content(db_session: Session) -> None:
    def contents() -> dict[str, dict[str, Any]]:
        kept = ("summary", "description", "contact_name", "cost", "duration", "manual_available")
        return {
            data["title"]: {name: data[name] for name in kept}
            for data in db_session.scalars(
                select(ProgrammeVersion.data)
                .join(Programme, Programme.id == ProgrammeVersion.programme_id)
                .where(Programme.is_demo, ProgrammeVersion.number == 1)
            )
        }

    with db_session.begin_nested() as first_run:
        load_demo_data(db_session)
        first = contents()
        first_run.rollback()
    assert _count(db_session, Programme, Programme.is_demo) == 0
    load_demo_data(db_session)

    assert contents() == first
    assert len(first) == len(demo.SPECS)
