"""Matching: the query parser and both full-text back ends (the run's database decides which).

Case and accents never matter; English is stemmed on both databases, German and French on
PostgreSQL; a query finds a record through its translations whatever the UI language; the
last word is a prefix while typing; title matches rank first, then the strongest evidence.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.evidence import ratings
from app.kit import i18n
from app.members.models import Member
from app.programmes.models import Programme
from app.search.backends import MAX_QUERY_CHARS, MAX_WORDS, Terms, for_dialect
from app.search.models import document_id
from tests import factories
from tests.search.test_index import found, run

# --- the parser --------------------------------------------------------------------------


def test_words_are_folded_and_operators_are_not_words() -> None:
    terms = Terms.parse('"Übung" -Crèche* (NEAR) OR AND:^ {x}')
    assert terms.words == ("ubung", "creche", "near", "or", "and", "x")
    assert terms.prefix is False  # the last word is followed by "}"
    assert Terms.parse('" * - ^ : { } ( )').words == ()
    assert not Terms.parse("   ")
    assert not Terms.parse("")


def test_the_last_word_is_a_prefix_while_typing() -> None:
    assert Terms.parse("safe groo") == Terms(("safe", "groo"), prefix=True)
    assert Terms.parse("safe groo ").prefix is False
    # A single letter is too short to stand for every word that starts with it.
    assert Terms.parse("safe g").prefix is False


def test_long_queries_are_cut() -> None:
    assert len(Terms.parse("word " * 100).words) == MAX_WORDS
    long_word = "a" * (MAX_QUERY_CHARS + 50)
    assert Terms.parse(long_word).words == ("a" * MAX_QUERY_CHARS,)


def test_underscores_and_punctuation_separate_words() -> None:
    assert Terms.parse("self_help e-mail l'enfant").words == (
        "self",
        "help",
        "e",
        "mail",
        "l",
        "enfant",
    )


# --- matching ----------------------------------------------------------------------------


Publisher = tuple[Member, Member]


@pytest.fixture
def publisher(db_session: Session) -> Publisher:
    """An author and the coordinator who approves the author's programmes."""
    return factories.member(), factories.coordinator(network=True)


def publish(publisher: Publisher, **content: Any) -> Programme:
    author, reviewer = publisher
    return factories.programme(author, reviewer=reviewer, **content)


def test_case_and_accents_never_matter(db_session: Session, publisher: Publisher) -> None:
    ubung = publish(publisher, title="Übung macht stark", content_language="de")
    creche = publish(publisher, title="Safe crèche routines")
    plain = publish(publisher, title="Creche staff training")
    for query in ("Übung", "ubung", "UBUNG", "übung", "UBUNG MACHT"):
        assert found(db_session, None, q=query) == [ubung.id], query
    for query in ("crèche", "creche", "CRÈCHE", "Creche"):
        assert sorted(found(db_session, None, q=query)) == sorted([creche.id, plain.id]), query


def test_english_is_stemmed_on_both_databases(db_session: Session, publisher: Publisher) -> None:
    warnings = publish(publisher, title="Early warnings for parents")
    warning = publish(publisher, title="One warning sign", summary="Protecting children.")
    # The last word is a prefix while typing: put the stemmed word first.
    assert sorted(found(db_session, None, q="warning early")) == [warnings.id]
    assert sorted(found(db_session, None, q="warnings sign")) == [warning.id]
    assert sorted(found(db_session, None, q="protects one")) == [warning.id]
    # And through the back end directly, without the prefix.
    connection = db_session.connection()
    backend = for_dialect(connection.dialect.name)
    ids, _ = backend.match(connection, Terms(("warnings",)), "programme")
    assert sorted(ids.tolist()) == sorted(
        [document_id("programme", warnings.id), document_id("programme", warning.id)]
    )
    ids, _ = backend.match(connection, Terms(("protected",)), "programme")
    assert ids.tolist() == [document_id("programme", warning.id)]


def test_german_and_french_are_stemmed_on_postgresql(
    db_session: Session, publisher: Publisher, is_postgresql: bool
) -> None:
    if not is_postgresql:
        pytest.skip("SQLite has no German or French stemmer")
    kinder = publish(publisher, title="Schutz für Kinder", content_language="de")
    enfants = publish(publisher, title="Protéger les enfants", content_language="fr")
    assert found(db_session, None, q="kindern schutz") == [kinder.id]
    assert found(db_session, None, q="kind schutz") == [kinder.id]
    assert found(db_session, None, q="enfant protéger") == [enfants.id]
    connection = db_session.connection()
    backend = for_dialect(connection.dialect.name)
    ids, _ = backend.match(connection, Terms(("kindern",)), "programme")
    assert ids.tolist() == [document_id("programme", kinder.id)]


def test_a_query_finds_a_programme_through_its_translation(
    db_session: Session, publisher: Publisher
) -> None:
    german = publish(
        publisher,
        title="Starke Eltern",
        summary="Abende für Eltern.",
        content_language="de",
        languages=["de"],
        translations=[{"language": "en", "title": "Strong parents", "summary": "Evenings."}],
    )
    english = publish(
        publisher,
        title="Bystander courage",
        content_language="en",
        translations=[{"language": "de", "title": "Zivilcourage zeigen", "summary": ""}],
    )
    assert found(db_session, None, q="strong parents") == [german.id]
    assert found(db_session, None, q="starke eltern") == [german.id]
    assert found(db_session, None, q="zivilcourage") == [english.id]
    assert found(db_session, None, q="bystander") == [english.id]


def test_the_ui_language_never_changes_the_results(
    db_session: Session, publisher: Publisher
) -> None:
    german = publish(
        publisher,
        title="Starke Eltern",
        content_language="de",
        translations=[{"language": "en", "title": "Strong parents", "summary": ""}],
    )
    english = publish(publisher, title="Strong schools", countries=["PT"])
    answers = []
    try:
        for locale in ("en", "de", "fr", "pt"):
            i18n.set_locale(locale)
            result = run(db_session, None, q="strong", country=["DE", "PT"])
            answers.append((result.total, [hit.record_id for hit in result.hits], result.facets))
    finally:
        i18n.set_locale("en")
    assert all(answer == answers[0] for answer in answers)
    assert sorted(answers[0][1]) == sorted([german.id, english.id])


def test_the_last_word_is_a_prefix(db_session: Session, publisher: Publisher) -> None:
    grooming = publish(publisher, title="Recognising online grooming")
    assert found(db_session, None, q="groo") == [grooming.id]
    assert found(db_session, None, q="online groo") == [grooming.id]
    assert found(db_session, None, q="REC") == [grooming.id]
    # Only the last word is a prefix.
    assert found(db_session, None, q="groo online") == []


def test_every_word_must_match(db_session: Session, publisher: Publisher) -> None:
    both = publish(publisher, title="Schools and sport clubs")
    publish(publisher, title="Sport for all")
    assert found(db_session, None, q="schools sport") == [both.id]
    assert found(db_session, None, q="schools swimming") == []


def test_title_matches_rank_before_body_only_matches(
    db_session: Session, publisher: Publisher
) -> None:
    coordinator = factories.coordinator(network=True)
    body_only = publish(
        publisher, title="Family evenings", summary="Talking about resilience at home."
    )
    # Even with the best rating, a body-only match comes after a title match.
    ratings.override(db_session, coordinator, body_only.id, "effective", "Strong review.")
    titled = publish(publisher, title="Resilience for families")
    result = run(db_session, None, q="resilience")
    assert [hit.record_id for hit in result.hits] == [titled.id, body_only.id]
    assert "<mark>Resilience</mark>" in str(result.hits[0].title)
    assert "<mark>resilience</mark>" in str(result.hits[1].snippet)


def test_equal_matches_are_ordered_by_strongest_evidence_then_newest(
    db_session: Session, publisher: Publisher
) -> None:
    coordinator = factories.coordinator(network=True)
    older_unrated = publish(publisher, title="Circle of trust one")
    promising = publish(publisher, title="Circle of trust two")
    effective = publish(publisher, title="Circle of trust three")
    newer_unrated = publish(publisher, title="Circle of trust four")
    ratings.override(db_session, coordinator, promising.id, "promising", "Reviewed.")
    ratings.override(db_session, coordinator, effective.id, "effective", "Reviewed.")
    assert found(db_session, None, q="circle trust") == [
        effective.id,
        promising.id,
        newer_unrated.id,
        older_unrated.id,
    ]


def test_each_kind_is_searched_alone(db_session: Session, publisher: Publisher) -> None:
    programme = publish(publisher, title="Harbour of trust")
    organisation = factories.organisation(name="Harbour of trust association")
    viewer = factories.member(full_name="Harbour Person")
    assert found(db_session, viewer, q="harbour") == [programme.id]
    assert found(db_session, viewer, q="harbour", type="organisation") == [organisation.id]
    assert found(db_session, viewer, q="harbour", type="member") == [viewer.id]
    assert found(db_session, viewer, q="harbour", type="evaluation") == []
