"""The rules of curating vocabularies: codes, labels, subgroups, retiring and reinstating."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.db import utcnow
from app.kit.errors import NotFound
from app.kit.i18n import set_locale
from app.vocabularies import service
from app.vocabularies.models import VocabularyTerm
from tests.factories import admin, coordinator, member

LABELS = {"en": "Youth clubs", "de": "Jugendclubs", "fr": "Clubs de jeunes"}


@pytest.fixture(autouse=True)
def english() -> None:
    set_locale("en")


def events(session: Session, action: str) -> list[AuditEvent]:
    statement = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(session.scalars(statement))


def test_an_added_term_is_offered_with_its_label_in_every_language(db_session: Session) -> None:
    curator = coordinator(["PT"])

    term = service.add_term(db_session, curator, "settings", " youth_club ", LABELS)

    terms = service.snapshot(db_session)
    assert term.code == "youth_club"
    assert ("youth_club", "Youth clubs") in terms.choices("settings")
    assert terms.choices("settings")[-1][0] == "youth_club"  # added at the end
    assert service.term_labels("settings", "youth_club", term.labels) == LABELS
    [event] = events(db_session, "vocabulary.term_added")
    assert event.actor_id == curator.id
    assert event.subject_label == "settings: youth_club"
    assert event.after == {"label_en": "Youth clubs", "label_de": "Jugendclubs",
                           "label_fr": "Clubs de jeunes"}  # fmt: skip


@pytest.mark.parametrize(
    ("vocabulary", "code"),
    [
        ("settings", "Youth Club"),
        ("settings", "1st_setting"),
        ("settings", "x"),
        ("settings", "a" * 41),
        ("settings", "sport-leisure"),
        ("countries", "DEU"),
        ("countries", "D1"),
        ("languages", "deu"),
    ],
)
def test_a_malformed_code_is_refused_at_the_code_field(
    db_session: Session, vocabulary: str, code: str
) -> None:
    with pytest.raises(service.CurationError) as refused:
        service.add_term(db_session, coordinator(network=True), vocabulary, code, LABELS)

    assert refused.value.field == "code"
    assert set(refused.value.errors) == {"code"}
    assert db_session.scalar(select(VocabularyTerm).where(VocabularyTerm.code == code)) is None


def test_country_and_language_codes_take_their_iso_case(db_session: Session) -> None:
    curator = coordinator(network=True)

    country = service.add_term(db_session, curator, "countries", "xk", LABELS)
    language = service.add_term(db_session, curator, "languages", "EO", LABELS)

    assert country.code == "XK"
    assert language.code == "eo"
    assert "XK" in service.snapshot(db_session).active_codes("countries")


def test_a_code_already_in_the_vocabulary_is_refused(db_session: Session) -> None:
    curator = coordinator(network=True)
    service.retire_term(db_session, curator, "settings", "faith")

    with pytest.raises(service.CurationError) as duplicate:
        service.add_term(db_session, curator, "settings", "school", LABELS)
    with pytest.raises(service.CurationError) as retired:
        service.add_term(db_session, curator, "settings", "faith", LABELS)

    assert duplicate.value.errors == {"code": "This vocabulary already has that code."}
    assert "reinstate it" in retired.value.errors["code"]
    # The same code in another vocabulary is a different term.
    assert service.add_term(db_session, curator, "delivery", "school", LABELS).code == "school"


def test_a_code_added_meanwhile_by_someone_else_is_refused_at_the_field(
    db_session: Session,
) -> None:
    curator = coordinator(network=True)
    service.snapshot(db_session)  # this request read the terms before the other one added it
    db_session.add(VocabularyTerm(vocabulary="settings", code="youth_club", labels={}))
    db_session.flush()

    with pytest.raises(service.CurationError) as refused:
        service.add_term(db_session, curator, "settings", "youth_club", LABELS)

    assert refused.value.field == "code"
    # Only the savepoint was rolled back: the session goes on.
    assert service.snapshot(db_session).term("settings", "youth_club") is not None
    assert events(db_session, "vocabulary.term_added") == []


def test_every_language_needs_a_label(db_session: Session) -> None:
    with pytest.raises(service.CurationError) as refused:
        service.add_term(
            db_session, coordinator(network=True), "settings", "youth_club",
            {"en": "Youth clubs", "de": "   ", "fr": ""},
        )  # fmt: skip

    assert set(refused.value.errors) == {"label_de", "label_fr"}
    assert "every language" in refused.value.errors["label_fr"]
    assert service.snapshot(db_session).term("settings", "youth_club") is None


def test_every_mistake_is_reported_at_once(db_session: Session) -> None:
    with pytest.raises(service.CurationError) as refused:
        service.add_term(
            db_session, coordinator(network=True), "target_subgroups", "Bad Code",
            {"en": "x" * 201, "de": "Gut", "fr": ""},
        )  # fmt: skip

    assert set(refused.value.errors) == {"code", "label_en", "label_fr", "parent_code"}
    assert "200" in refused.value.errors["label_en"]


def test_labels_are_trimmed_and_spaces_collapsed(db_session: Session) -> None:
    labels = {"en": "  Youth   clubs ", "de": "Jugendclubs", "fr": "Clubs de jeunes"}

    term = service.add_term(db_session, coordinator(network=True), "settings", "youth_club", labels)

    assert term.labels["en"] == "Youth clubs"


def test_a_subgroup_needs_an_offered_target_group(db_session: Session) -> None:
    curator = coordinator(network=True)
    for subgroup in ("age_0_5", "age_6_11", "age_12_17", "age_18_25"):
        service.retire_term(db_session, curator, "target_subgroups", subgroup)
    service.retire_term(db_session, curator, "target_groups", "children")

    for parent in (None, "strangers", "children"):
        with pytest.raises(service.CurationError) as refused:
            service.add_term(db_session, curator, "target_subgroups", "grandparents", LABELS,
                             parent_code=parent)  # fmt: skip
        assert refused.value.field == "parent_code"

    term = service.add_term(
        db_session, curator, "target_subgroups", "grandparents", LABELS, parent_code="parents"
    )
    assert term.parent_code == "parents"
    groups = dict(service.snapshot(db_session).subgroup_choices())
    assert ("grandparents", "Youth clubs") in groups["Parents and carers"]


def test_only_subgroups_have_a_parent(db_session: Session) -> None:
    term = service.add_term(
        db_session, coordinator(network=True), "settings", "youth_club", LABELS,
        parent_code="parents",
    )  # fmt: skip

    assert term.parent_code is None


def test_an_unknown_vocabulary_is_not_found(db_session: Session) -> None:
    with pytest.raises(NotFound):
        service.add_term(db_session, coordinator(network=True), "colours", "blue", LABELS)


# Relabelling ---------------------------------------------------------------------------


def test_relabelling_a_seed_term_keeps_the_built_in_labels_it_did_not_change(
    db_session: Session,
) -> None:
    curator = coordinator(network=True)
    before = service.term_labels("settings", "faith", {})

    term = service.relabel_term(
        db_session, curator, "settings", "faith", {**before, "en": "Faith and belief communities"}
    )

    # Only the new English label is stored; German and French still follow the translations.
    assert term.labels == {"en": "Faith and belief communities"}
    assert service.snapshot(db_session).label("settings", "faith") == (
        "Faith and belief communities"
    )
    [event] = events(db_session, "vocabulary.term_relabelled")
    assert event.before == {"label_en": "Faith communities"}
    assert event.after == {"label_en": "Faith and belief communities"}


def test_relabelling_a_country_overrides_babel_in_one_language(db_session: Session) -> None:
    curator = coordinator(network=True)
    labels = service.term_labels("countries", "CZ", {})
    assert labels["de"] == "Tschechien"

    service.relabel_term(db_session, curator, "countries", "CZ", {**labels, "en": "Czech Republic"})

    term = service.snapshot(db_session).term("countries", "CZ")
    assert term is not None
    assert term.label("en") == "Czech Republic"
    assert term.label("de") == "Tschechien"


def test_relabelling_without_a_change_writes_and_records_nothing(db_session: Session) -> None:
    curator = coordinator(network=True)

    term = service.relabel_term(
        db_session, curator, "settings", "faith", service.term_labels("settings", "faith", {})
    )

    assert term.labels == {}
    assert events(db_session, "vocabulary.term_relabelled") == []


def test_relabelling_needs_every_label(db_session: Session) -> None:
    with pytest.raises(service.CurationError) as refused:
        service.relabel_term(
            db_session, coordinator(network=True), "settings", "faith",
            {"en": "Faith", "de": "", "fr": "Foi"},
        )  # fmt: skip

    assert refused.value.errors.keys() == {"label_de"}


def test_relabelling_an_unknown_term_is_not_found(db_session: Session) -> None:
    with pytest.raises(NotFound):
        service.relabel_term(db_session, coordinator(network=True), "settings", "moon", LABELS)


# Retiring and reinstating --------------------------------------------------------------


def test_a_retired_term_leaves_the_pickers_and_stays_valid_on_old_records(
    db_session: Session,
) -> None:
    curator = coordinator(network=True)

    term = service.retire_term(db_session, curator, "settings", "faith")

    terms = service.snapshot(db_session)
    assert term.retired_at is not None
    assert term.retired_by_id == curator.id
    assert "faith" not in dict(terms.choices("settings"))
    assert "faith" in dict(terms.choices("settings", keep=["faith"]))
    # A new record may not choose it; a record that had it keeps it.
    with pytest.raises(service.UnknownCodes) as refused:
        terms.check("settings", ["school", "faith"])
    assert refused.value.field == "settings"
    assert refused.value.codes == ["faith"]
    assert "faith" not in refused.value.allowed
    terms.check("settings", ["school", "faith"], keep=["faith"])
    # Its label is still shown on those records.
    assert terms.label("settings", "faith") == "Faith communities"
    assert len(events(db_session, "vocabulary.term_retired")) == 1


def test_retiring_twice_is_recorded_once(db_session: Session) -> None:
    curator = coordinator(network=True)

    service.retire_term(db_session, curator, "delivery", "campaign")
    service.retire_term(db_session, curator, "delivery", "campaign")

    assert len(events(db_session, "vocabulary.term_retired")) == 1


def test_a_target_group_with_offered_subgroups_is_not_retired(db_session: Session) -> None:
    curator = coordinator(network=True)

    with pytest.raises(service.CurationError) as refused:
        service.retire_term(db_session, curator, "target_groups", "schools")

    assert "teachers" in refused.value.message
    assert "schools" in service.snapshot(db_session).active_codes("target_groups")
    for subgroup in ("teachers", "school_staff", "whole_school", "child_professionals"):
        service.retire_term(db_session, curator, "target_subgroups", subgroup)
    service.retire_term(db_session, curator, "target_groups", "schools")
    assert "schools" not in service.snapshot(db_session).active_codes("target_groups")


def test_reinstating_brings_a_term_back(db_session: Session) -> None:
    curator = coordinator(network=True)
    service.retire_term(db_session, curator, "settings", "faith")

    term = service.reinstate_term(db_session, curator, "settings", "faith")
    service.reinstate_term(db_session, curator, "settings", "faith")

    assert term.retired_at is None
    assert term.retired_by_id is None
    service.snapshot(db_session).check("settings", ["faith"])
    assert len(events(db_session, "vocabulary.term_reinstated")) == 1


def test_a_subgroup_comes_back_only_under_an_offered_group(db_session: Session) -> None:
    curator = coordinator(network=True)
    for subgroup in ("age_0_5", "age_6_11", "age_12_17", "age_18_25"):
        service.retire_term(db_session, curator, "target_subgroups", subgroup)
    service.retire_term(db_session, curator, "target_groups", "children")

    with pytest.raises(service.CurationError):
        service.reinstate_term(db_session, curator, "target_subgroups", "age_0_5")

    service.reinstate_term(db_session, curator, "target_groups", "children")
    service.reinstate_term(db_session, curator, "target_subgroups", "age_0_5")
    assert "age_0_5" in service.snapshot(db_session).active_codes("target_subgroups")


# Who may curate --------------------------------------------------------------------------


def test_any_coordinator_in_good_standing_curates(db_session: Session) -> None:
    assert service.can_curate_vocabularies(coordinator(["PT"]))
    assert service.can_curate_vocabularies(coordinator(network=True))
    assert service.can_curate_vocabularies(admin())
    assert not service.can_curate_vocabularies(None)
    assert not service.can_curate_vocabularies(member())
    assert not service.can_curate_vocabularies(
        coordinator(["PT"], totp_secret=None, totp_enabled_at=None)
    )
    assert not service.can_curate_vocabularies(coordinator(["PT"], status="suspended"))
    assert not service.can_curate_vocabularies(coordinator(["PT"], status="lapsed"))


def test_the_summaries_count_offered_and_retired_terms(db_session: Session) -> None:
    service.retire_term(db_session, coordinator(network=True), "settings", "faith")

    summaries = {summary.name: summary for summary in service.summaries(
        service.snapshot(db_session))}  # fmt: skip

    assert list(summaries) == [
        "target_groups", "target_subgroups", "prevention_level", "settings", "delivery",
        "abuse_addressed", "countries", "languages",
    ]  # fmt: skip
    assert (summaries["settings"].active_count, summaries["settings"].retired_count) == (8, 1)
    assert summaries["target_groups"].active_count == 4
    assert summaries["prevention_level"].multiple is False
    assert summaries["countries"].label == "Countries"


def test_the_terms_are_read_again_after_any_change_to_them(db_session: Session) -> None:
    """The shared snapshot is reused only while the terms' fingerprint is the same."""
    first = service.snapshot(db_session)
    service.forget(db_session)
    assert service.snapshot(db_session) is first  # nothing changed: shared, not rebuilt

    term = db_session.scalars(
        select(VocabularyTerm).where(
            VocabularyTerm.vocabulary == "settings", VocabularyTerm.code == "school"
        )
    ).one()
    changes = [
        ("labels", {"en": "Schools and colleges"}),
        ("position", term.position + 7),
        ("retired_at", utcnow()),
        ("parent_code", "parents"),
    ]
    seen = [first]
    for attribute, value in changes:
        setattr(term, attribute, value)
        db_session.flush()
        service.forget(db_session)
        loaded = service.snapshot(db_session)
        assert all(loaded is not earlier for earlier in seen), attribute
        assert loaded.edition > seen[-1].edition
        seen.append(loaded)
    service.forget(db_session)
    assert service.snapshot(db_session) is seen[-1]  # kept under the fingerprint it was read with
    changed = seen[-1].term("settings", "school")
    assert changed is not None
    assert changed.labels == {"en": "Schools and colleges"}
    assert changed.retired
    assert changed.parent_code == "parents"
    assert changed.position == term.position

    db_session.add(VocabularyTerm(vocabulary="settings", code="youth_club", labels=LABELS))
    db_session.flush()
    service.forget(db_session)
    assert service.snapshot(db_session).term("settings", "youth_club") is not None
