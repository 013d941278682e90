"""Whatever a visitor types, the search answers without an error (property-based).

Arbitrary strings go to the parser and, through the service, to the back end of the
database this run uses (SQLite FTS5 or PostgreSQL tsquery): operator characters, quotes,
``NEAR``, brackets and unicode are only text.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from app.search import service
from app.search.backends import MAX_QUERY_CHARS, MAX_WORDS, Terms, for_dialect
from app.search.documents import fold
from app.search.service import SearchQuery
from tests import factories

OPERATORS = [
    '"',
    "'",
    "-",
    "*",
    "^",
    ":",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "&",
    "|",
    "!",
    "<->",
    "<2>",
    ":*",
    "+",
    "~",
    "\\",
    "%",
    "_",
    "NEAR",
    "NEAR/2",
    "OR",
    "AND",
    "NOT",
    "title:",
    "body :",
    "rowid",
    "MATCH",
    "'; DROP TABLE search_document; --",
]
WORDS = ["grooming", "Übung", "crèche", "Kindern", "parents", "safe", "ß", "İstanbul", "ﬁ"]

# Text made of operators and words, or anything at all (including long strings).
queries = st.one_of(
    st.lists(st.sampled_from(OPERATORS + WORDS), max_size=12).map(" ".join),
    st.lists(st.sampled_from(OPERATORS + WORDS), max_size=12).map("".join),
    st.text(),
    st.text(min_size=400, max_size=700),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40),
)

EXAMPLES = [
    '"',
    '""',
    '"safe',
    "NEAR",
    "NEAR(safe families)",
    "safe NEAR/3 families",
    "safe OR families",
    "NOT safe",
    "-safe",
    "safe*",
    "*",
    "^safe",
    "title:safe",
    "{title body}: safe",
    "(safe",
    "safe)",
    "a & b | !c",
    "safe:*",
    "safe <-> families",
    "'",
    "\x00",
    "\u200b",
    "ǅ",
    "\uff11\uff12\uff13",  # full-width digits
    "ﬁ",
    "x" * 10_000,
    "safe " * 200,
]


@settings(max_examples=200, deadline=None, database=None)
@given(query=queries)
@example(query="")
def test_parsing_never_raises_and_gives_plain_words(query: str) -> None:
    terms = Terms.parse(query)
    assert len(terms.words) <= MAX_WORDS
    for word in terms.words:
        assert word
        assert word == fold(word)
        assert all(char.isalnum() for char in word), word
    assert sum(len(word) for word in terms.words) <= MAX_QUERY_CHARS
    if terms.prefix:
        assert len(terms.words[-1]) >= 2


@pytest.fixture
def searchable(db_session: Session) -> Session:
    """A few records of every kind, so matches and non-matches both happen."""
    coordinator = factories.coordinator(network=True)
    factories.programme(
        reviewer=coordinator,
        title="Safe families",
        summary="Parents talk about grooming.",
        translations=[{"language": "de", "title": "Sichere Familien für Kindern", "summary": ""}],
    )
    factories.programme(
        reviewer=coordinator,
        title="Übung in der Crèche",
        content_language="de",
        visibility="members",
    )
    factories.organisation(name="NEAR OR AND NOT association")
    factories.member(full_name="Anna NEAR", bio='She writes "quotes" and -minus* signs.')
    return db_session


def test_any_query_reaches_the_back_end_without_an_error(searchable: Session) -> None:
    viewer = factories.member()
    connection = searchable.connection()
    backend = for_dialect(connection.dialect.name)

    def check(query: str) -> None:
        terms = Terms.parse(query)
        if terms:
            for kind in ("programme", "evaluation", "member", "organisation"):
                ids, scores = backend.match(connection, terms, kind)
                assert len(ids) == len(scores)
                assert set(scores.tolist()) <= {1.0, 2.0}
        for kind, who in (("programme", None), ("evaluation", None), ("organisation", viewer)):
            result = service.search(
                searchable, who, SearchQuery.from_params({"q": [query], "type": [kind]})
            )
            assert result.total >= len(result.hits)

    for query in EXAMPLES:
        check(query)

    @settings(
        max_examples=200,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(query=queries)
    def arbitrary(query: str) -> None:
        check(query)

    arbitrary()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"safe families"', 1),
        ("safe -families", 1),
        ("safe* NEAR families", 0),  # "near" is a word the record does not have
        ("(safe) [families]", 1),
        ("SAFE OR nothing", 0),  # every word must match: OR is just a word
        ("grooming:", 1),
        ("übung crèche", 0),  # members only
    ],
)
def test_operators_are_only_text(searchable: Session, query: str, expected: int) -> None:
    assert service.search(searchable, None, SearchQuery.from_params({"q": [query]})).total == (
        expected
    )
