"""The index follows the records in the same transaction: what the services change is
found (or no longer found) before the transaction commits, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.evidence import ratings
from app.evidence import service as evidence_service
from app.members import management
from app.members.models import Member
from app.programmes import service as programmes_service
from app.programmes.models import Programme
from app.search import service
from app.search.service import SearchQuery, SearchResult
from tests import factories

# --- helpers shared by the search tests ---------------------------------------------------


def run(session: Session, viewer: Member | None, **params: Any) -> SearchResult:
    """``service.search`` with query parameters as a page or the API would receive them."""
    values = {
        name: [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
        for name, value in params.items()
    }
    return service.search(session, viewer, SearchQuery.from_params(values))


def found(session: Session, viewer: Member | None, **params: Any) -> list[int]:
    """The record ids of the first page, in order."""
    return [hit.record_id for hit in run(session, viewer, **params).hits]


def evaluation_content(programme: Programme, **overrides: Any) -> dict[str, Any]:
    """A rigorous trial with a favourable protective-factor outcome (makes "promising")."""
    values: dict[str, Any] = {
        "programme_ids": [programme.id],
        "title": "A randomised trial of family evenings",
        "authors": ["Weber, Anna"],
        "year": 2021,
        "venue": "Journal of Prevention Studies",
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


def edit_published(
    session: Session, programme: Programme, author: Member, reviewer: Member, **changes: Any
) -> None:
    """Edit a published programme through the workflow: save, submit, approve."""
    base = programmes_service.editable_base(session, programme)
    values = {**base.data, **changes}
    programmes_service.save(
        session, author, programme, values, programmes_service.version_token(base)
    )
    programmes_service.submit(session, author, programme)
    programmes_service.review(session, reviewer, programme, "approve", "")


# --- programmes --------------------------------------------------------------------------


def test_a_published_programme_is_found_before_commit_and_a_draft_is_not(
    db_session: Session,
) -> None:
    author = factories.member()
    reviewer = factories.coordinator(network=True)
    draft = factories.programme(author, state="draft", title="Lighthouse draft")
    submitted = factories.programme(author, state="submitted", title="Lighthouse submitted")
    assert found(db_session, None, q="lighthouse") == []
    assert found(db_session, author, q="lighthouse") == []

    programmes_service.review(db_session, reviewer, submitted, "approve", "")
    # No commit: the search runs in the same transaction as the publication.
    assert found(db_session, None, q="lighthouse") == [submitted.id]
    assert draft.id not in found(db_session, author, q="lighthouse")


def test_rolling_back_removes_what_was_indexed(db_session: Session) -> None:
    author = factories.member()
    reviewer = factories.coordinator(network=True)
    kept = factories.programme(author, reviewer=reviewer, title="Harbour kept")
    assert found(db_session, None, q="harbour") == [kept.id]

    savepoint = db_session.begin_nested()
    gone = factories.programme(author, reviewer=reviewer, title="Harbour gone")
    assert sorted(found(db_session, None, q="harbour")) == sorted([kept.id, gone.id])
    savepoint.rollback()

    assert found(db_session, None, q="harbour") == [kept.id]
    assert run(db_session, None, q="gone").total == 0
    assert run(db_session, None).facets["countries"] == {"DE": 1, "PT": 1}


def test_after_a_rollback_new_changes_are_not_hidden_by_the_old_snapshot(
    db_session: Session,
) -> None:
    """The same number of index writes after a rollback must not look like "no change"."""
    author = factories.member()
    reviewer = factories.coordinator(network=True)
    savepoint = db_session.begin_nested()
    factories.programme(author, reviewer=reviewer, title="Meadow rolled back", countries=["FI"])
    assert run(db_session, None, q="meadow").total == 1
    savepoint.rollback()

    # Exactly the same steps again, with other words and another country.
    savepoint = db_session.begin_nested()
    kept = factories.programme(author, reviewer=reviewer, title="Orchard kept", countries=["SE"])
    result = run(db_session, None, q="orchard")
    assert [hit.record_id for hit in result.hits] == [kept.id]
    assert result.facets["countries"] == {"SE": 1}
    assert run(db_session, None, q="meadow").total == 0
    savepoint.commit()


def test_archiving_unlists_and_restoring_lists_again(db_session: Session) -> None:
    author = factories.member()
    coordinator = factories.coordinator(network=True)
    programme = factories.programme(author, reviewer=coordinator, title="Compass sessions")
    assert found(db_session, None, q="compass") == [programme.id]

    programmes_service.archive(db_session, coordinator, programme, "Replaced by a newer model")
    assert found(db_session, None, q="compass") == []
    assert found(db_session, author, q="compass") == []
    assert run(db_session, author).total == 0

    programmes_service.restore(db_session, coordinator, programme)
    assert found(db_session, None, q="compass") == [programme.id]


def test_an_edited_translation_is_found_by_its_new_title(db_session: Session) -> None:
    author = factories.member()
    coordinator = factories.coordinator(network=True)
    programme = factories.programme(
        author,
        reviewer=coordinator,
        title="Safe evenings",
        translations=[{"language": "de", "title": "Sichere Abende", "summary": ""}],
    )
    assert found(db_session, None, q="sichere") == [programme.id]

    edit_published(
        db_session,
        programme,
        author,
        coordinator,
        translations=[{"language": "de", "title": "Geborgene Familienabende", "summary": ""}],
    )
    assert found(db_session, None, q="geborgene") == [programme.id]
    assert found(db_session, None, q="familienabende") == [programme.id]
    assert found(db_session, None, q="sichere") == []


def test_an_edit_waiting_for_review_is_not_searched(db_session: Session) -> None:
    author = factories.member()
    coordinator = factories.coordinator(network=True)
    programme = factories.programme(author, reviewer=coordinator, title="Lantern project")
    base = programmes_service.editable_base(db_session, programme)
    programmes_service.save(
        db_session,
        author,
        programme,
        {**base.data, "title": "Beacon project"},
        programmes_service.version_token(base),
    )
    assert found(db_session, None, q="beacon") == []
    assert found(db_session, None, q="lantern") == [programme.id]


def test_a_rating_change_moves_the_programme_in_the_rating_facet(db_session: Session) -> None:
    author = factories.member()
    coordinator = factories.coordinator(network=True)
    researcher = factories.member(member_type="researcher")
    programme = factories.programme(author, reviewer=coordinator, title="Anchor evenings")
    assert run(db_session, None).facets["rating"] == {"not_rated": 1}

    # A rigorous trial with a favourable protective-factor outcome: promising.
    evidence_service.create(db_session, researcher, evaluation_content(programme))
    assert programme.rating_level == "promising"
    assert run(db_session, None).facets["rating"] == {"promising": 1}
    assert found(db_session, None, rating="promising") == [programme.id]
    assert found(db_session, None, rating="not_rated") == []

    ratings.override(
        db_session, coordinator, programme.id, "effective", "A national review found it works."
    )
    assert run(db_session, None).facets["rating"] == {"effective": 1}
    assert found(db_session, None, q="anchor", rating="effective") == [programme.id]


def test_members_only_programmes_are_found_by_members_only(db_session: Session) -> None:
    author = factories.member()
    reviewer = factories.coordinator(network=True)
    hidden = factories.programme(
        author, reviewer=reviewer, title="Quiet helpline", visibility="members"
    )
    assert found(db_session, None, q="helpline") == []
    assert run(db_session, None).total == 0
    assert found(db_session, author, q="helpline") == [hidden.id]


# --- evaluations -------------------------------------------------------------------------


def test_an_unpublished_evaluation_is_unlisted(db_session: Session) -> None:
    coordinator = factories.coordinator(network=True)
    researcher = factories.member(member_type="researcher")
    programme = factories.programme(reviewer=coordinator, title="Bridge groups")
    evaluation = evidence_service.create(
        db_session, researcher, evaluation_content(programme, title="Bridge groups trial")
    )
    assert found(db_session, None, q="bridge", type="evaluation") == [evaluation.id]
    # The evaluation carries its programme's target groups.
    assert run(db_session, None, type="evaluation").facets["target_groups"] == {"parents": 1}

    evidence_service.unpublish(db_session, coordinator, evaluation, "Retracted by the journal")
    assert found(db_session, None, q="bridge", type="evaluation") == []
    assert run(db_session, researcher, type="evaluation").total == 0
    assert run(db_session, None).facets["rating"] == {"not_rated": 1}


def test_a_submitted_evaluation_is_not_listed_until_approved(db_session: Session) -> None:
    coordinator = factories.coordinator(network=True)
    practitioner = factories.member(member_type="practitioner")
    programme = factories.programme(reviewer=coordinator, title="River programme")
    evaluation = evidence_service.create(
        db_session, practitioner, evaluation_content(programme, title="River pilot study")
    )
    assert found(db_session, practitioner, q="river", type="evaluation") == []
    evidence_service.review(db_session, coordinator, evaluation, "approve", "")
    assert found(db_session, practitioner, q="river", type="evaluation") == [evaluation.id]


# --- members and organisations -----------------------------------------------------------


def test_a_bio_shown_to_coordinators_only_is_never_searched(db_session: Session) -> None:
    open_bio = factories.member(full_name="Ana Open", bio="Works on bystander programmes.")
    closed_bio = factories.member(
        full_name="Bea Closed",
        bio="Researches polygraph questioning.",
        profile_visibility={"bio": "coordinators"},
    )
    viewer = factories.member()
    coordinator = factories.coordinator(network=True)
    assert found(db_session, viewer, q="bystander", type="member") == [open_bio.id]
    for who in (viewer, coordinator):
        assert found(db_session, who, q="polygraph", type="member") == []
        assert found(db_session, who, q="questioning", type="member") == []
    # The member is still found by name, with no bio in the snippet.
    result = run(db_session, viewer, q="closed", type="member")
    assert [hit.record_id for hit in result.hits] == [closed_bio.id]
    assert "polygraph" not in str(result.hits[0].snippet)


def test_hidden_profile_fields_are_not_facets(db_session: Session) -> None:
    factories.member(
        full_name="Hidden Country", country="MT", profile_visibility={"country": "coordinators"}
    )
    factories.member(full_name="Shown Country", country="CY")
    viewer = factories.member(country="DE")
    facets = run(db_session, viewer, type="member").facets["countries"]
    assert "MT" not in facets
    assert facets["CY"] == 1
    assert found(db_session, viewer, type="member", country="MT") == []


def test_a_suspended_member_disappears(db_session: Session) -> None:
    coordinator = factories.coordinator(network=True)
    viewer = factories.member()
    suspended = factories.member(full_name="Cleo Suspendable")
    assert found(db_session, viewer, q="suspendable", type="member") == [suspended.id]
    management.suspend(db_session, coordinator, suspended, "Breach of the code of conduct")
    assert found(db_session, viewer, q="suspendable", type="member") == []
    assert suspended.id not in found(db_session, viewer, type="member", per_page=100)


def test_organisations_are_found_by_name_by_members_only(db_session: Session) -> None:
    organisation = factories.organisation(name="Kinderschutzbund Hamburg", country="DE")
    factories.organisation(name="Fundação Infância", country="PT")
    viewer = factories.member()
    assert found(db_session, viewer, q="kinderschutzbund", type="organisation") == [organisation.id]
    assert found(db_session, viewer, q="HAMBURG", type="organisation") == [organisation.id]
    assert run(db_session, viewer, q="fundacao infancia", type="organisation").total == 1
    with pytest.raises(PermissionError):
        run(db_session, None, q="hamburg", type="organisation")
    with pytest.raises(PermissionError):
        run(db_session, None, type="member")


def test_a_renamed_organisation_is_found_by_its_new_name(db_session: Session) -> None:
    organisation = factories.organisation(name="Old Harbour Trust")
    viewer = factories.member()
    organisation.name = "New Lighthouse Trust"
    db_session.flush()
    assert found(db_session, viewer, q="lighthouse", type="organisation") == [organisation.id]
    assert found(db_session, viewer, q="harbour", type="organisation") == []
