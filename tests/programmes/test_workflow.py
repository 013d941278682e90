"""The programme workflow: draft, submission, review, publication, edits, archive."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.outbox.models import OutboxMessage
from app.programmes import content, service
from app.programmes.models import Programme, ProgrammeThreadEntry, ProgrammeVersion
from app.vocabularies import service as vocabularies
from tests import factories


def _versions(session: Session, programme: Programme) -> list[ProgrammeVersion]:
    return list(
        session.scalars(
            select(ProgrammeVersion)
            .where(ProgrammeVersion.programme_id == programme.id)
            .order_by(ProgrammeVersion.number)
        )
    )


def _terms(session: Session, programme: Programme) -> dict[str, list[str]]:
    loaded = session.scalars(
        select(Programme)
        .where(Programme.id == programme.id)
        .options(selectinload(Programme.terms))
        .execution_options(populate_existing=True)
    ).one()
    return {field: loaded.codes(field) for field in ("target_groups", "countries", "languages")}


def test_create_makes_a_draft_maintained_by_its_creator(db_session: Session) -> None:
    author = factories.member()
    programme = service.create(db_session, author, factories.programme_content())
    assert programme.status == "draft"
    assert service.maintainer_ids(db_session, programme.id) == {author.id}
    [version] = _versions(db_session, programme)
    assert (version.number, version.state, version.revision) == (1, "draft", 1)
    assert _terms(db_session, programme) == {
        "target_groups": ["parents"],
        "countries": ["DE", "PT"],
        "languages": ["de", "pt"],
    }


def test_unknown_code_is_refused_naming_the_field_and_allowed_codes(db_session: Session) -> None:
    author = factories.member()
    with pytest.raises(service.InvalidContent) as refused:
        service.create(
            db_session, author, factories.programme_content(target_groups=["parents", "aliens"])
        )
    message = refused.value.errors["target_groups"]
    assert "aliens" in message
    assert "offenders, parents, schools, children" in message
    assert refused.value.values["title"] == "Safe Families"


def test_required_fields_and_ranges(db_session: Session) -> None:
    values, errors = content.validate(
        db_session,
        {"title": " ", "countries": [], "age_min": "12", "age_max": "9", "start_year": "1200"},
    )
    assert set(errors) >= {
        "title",
        "summary",
        "target_groups",
        "countries",
        "languages",
        "age_max",
        "start_year",
    }
    assert values["age_min"] == 12


def test_subgroups_must_belong_to_a_chosen_group(db_session: Session) -> None:
    _, errors = content.validate(
        db_session, factories.programme_content(target_subgroups=["help_seekers"])
    )
    assert "target_subgroups" in errors


def test_full_review_cycle_keeps_published_version_while_an_edit_is_reviewed(
    db_session: Session,
) -> None:
    author = factories.member()
    reviewer = factories.coordinator(["PT"])
    programme = service.create(db_session, author, factories.programme_content())
    service.submit(db_session, author, programme)
    assert programme.status == "submitted"

    service.review(db_session, reviewer, programme, "request_changes", "Add the age range.")
    assert programme.status == "changes_requested"
    base = service.editable_base(db_session, programme)
    service.save(
        db_session,
        author,
        programme,
        factories.programme_content(title="Safe Families Programme"),
        service.version_token(base),
    )
    service.submit(db_session, author, programme)
    service.review(db_session, reviewer, programme, "approve", "")
    assert programme.status == "published"
    assert programme.title == "Safe Families Programme"
    first_published = programme.published_version_id

    # An edit of a published programme is a new version; the published one stays listed.
    base = service.editable_base(db_session, programme)
    service.save(
        db_session,
        author,
        programme,
        factories.programme_content(title="Safe Families 2", countries=["DE"]),
        service.version_token(base),
    )
    assert programme.title == "Safe Families Programme"
    assert _terms(db_session, programme)["countries"] == ["DE", "PT"]
    service.submit(db_session, author, programme)
    service.review(db_session, reviewer, programme, "approve", "")
    assert programme.title == "Safe Families 2"
    assert _terms(db_session, programme)["countries"] == ["DE"]
    states = [(version.number, version.state) for version in _versions(db_session, programme)]
    assert states == [(1, "revised"), (2, "superseded"), (3, "published")]
    assert programme.published_version_id != first_published

    kinds = db_session.scalars(
        select(ProgrammeThreadEntry.kind)
        .where(ProgrammeThreadEntry.programme_id == programme.id)
        .order_by(ProgrammeThreadEntry.id)
    ).all()
    assert kinds == ["submit", "request_changes", "submit", "approve", "submit", "approve"]
    mails = db_session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient == author.email)
    ).all()
    assert len(mails) == 3
    assert any("Add the age range." in mail.body_text for mail in mails)


def test_stale_save_is_refused_with_what_changed(db_session: Session) -> None:
    author = factories.member()
    programme = service.create(db_session, author, factories.programme_content())
    token = service.version_token(service.editable_base(db_session, programme))
    service.save(
        db_session, author, programme, factories.programme_content(title="First edit"), token
    )
    with pytest.raises(service.StaleEdit) as stale:
        service.save(
            db_session, author, programme, factories.programme_content(title="Second"), token
        )
    assert [change.field for change in stale.value.changes] == ["title"]
    assert stale.value.changes[0].before == "Second"
    assert stale.value.changes[0].after == "First edit"


def test_rejection_needs_a_reason_and_one_decision_wins(db_session: Session) -> None:
    programme = factories.programme(state="submitted")
    reviewer = factories.coordinator(network=True)
    with pytest.raises(service.InvalidContent):
        service.review(db_session, reviewer, programme, "reject", "  ")
    service.review(db_session, reviewer, programme, "reject", "Not a prevention programme.")
    assert programme.status == "rejected"
    with pytest.raises(service.WrongState):
        service.review(db_session, reviewer, programme, "approve", "")


def test_retired_codes_stay_valid_on_the_records_that_use_them(db_session: Session) -> None:
    programme = factories.programme(settings=["faith"])
    coordinator = factories.coordinator(network=True)
    vocabularies.retire_term(db_session, coordinator, "settings", "faith")
    base = service.editable_base(db_session, programme)
    service.save(
        db_session,
        coordinator,
        programme,
        factories.programme_content(settings=["faith"], title="Kept"),
        service.version_token(base),
    )
    with pytest.raises(service.InvalidContent) as refused:
        factories.programme(settings=["faith"])
    assert "settings" in refused.value.errors


def test_archive_and_restore(db_session: Session) -> None:
    programme = factories.programme()
    author = factories.member()
    with pytest.raises(service.InvalidContent):
        service.archive(db_session, author, programme, "")
    service.archive(db_session, author, programme, "Replaced by a newer programme.")
    assert programme.is_archived
    assert programme.archive_reason == "Replaced by a newer programme."
    service.restore(db_session, author, programme)
    assert not programme.is_archived


def test_adaptation_cannot_form_a_cycle(db_session: Session) -> None:
    original = factories.programme()
    adaptation = factories.programme(adapted_from_id=original.id, title="Adapted")
    base = service.editable_base(db_session, original)
    with pytest.raises(service.InvalidContent) as refused:
        service.save(
            db_session,
            factories.coordinator(network=True),
            original,
            factories.programme_content(adapted_from_id=adaptation.id),
            service.version_token(base),
        )
    assert "adapted_from_id" in refused.value.errors


def test_submission_tells_the_coordinators_of_its_countries(db_session: Session) -> None:
    portugal = factories.coordinator(["PT"])
    network = factories.coordinator(network=True)
    elsewhere = factories.coordinator(["FI"])
    without_two_factor = factories.coordinator(["PT"], totp_enabled_at=None)
    factories.programme(state="submitted", countries=["PT"], languages=["pt"])
    recipients = set(db_session.scalars(select(OutboxMessage.recipient)))
    assert {portugal.email, network.email} <= recipients
    assert elsewhere.email not in recipients
    assert without_two_factor.email not in recipients


def test_compare_reads_like_a_person_wrote_it(db_session: Session) -> None:
    before = factories.programme_content()
    after = factories.programme_content(
        summary="Evening sessions that help carers talk with their children about safety.",
        countries=["DE"],
        manual_available=False,
    )
    changes = {change.field: change for change in content.compare(db_session, before, after)}
    assert set(changes) == {"summary", "countries", "manual_available"}
    assert changes["countries"].before == "Germany, Portugal"
    assert changes["countries"].after == "Germany"
    assert (changes["manual_available"].before, changes["manual_available"].after) == ("Yes", "No")
    words = changes["summary"].words
    assert words is not None
    assert ("removed", "parents") in words
    assert ("added", "carers") in words
