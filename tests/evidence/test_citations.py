"""References: the readable citation, and BibTeX, RIS and CSL-JSON read back by real parsers."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

import pytest
import rispy  # type: ignore[import-untyped]
from bibtexparser import middlewares
from bibtexparser.entrypoint import parse_string
from bibtexparser.library import Library
from pylatexenc.latex2text import LatexNodes2Text  # type: ignore[import-untyped]
from sqlalchemy.orm import Session

from app.evidence import citations, service
from app.evidence.models import Evaluation
from tests import factories
from tests.evidence.test_service import evaluation_content

TRIAL: dict[str, Any] = {
    "id": 7,
    "title": "A randomised trial of Safe Families",
    "authors": ["Weber, Anna", "Costa, Rui"],
    "year": 2021,
    "venue": "Journal of Prevention Studies",
    "doi": "10.5555/jps.2021.77",
    "url": None,
}
# Every character LaTeX treats specially, in the title, an author and the venue.
AWKWARD_TITLE = r"Costs & benefits: 100% of {cases} #2 cost $5 in file_a ~ b^2 \ c"
AWKWARD: dict[str, Any] = {
    "title": AWKWARD_TITLE,
    "authors": ["O'Brien & Sons_Ltd, Zoë", "Müller, Jean-Paul", "Ministry of Health and Welfare"],
    "year": 2019,
    "venue": "Review of {Prevention} & Practice",
    "doi": "10.5555/a_b{1}%",
    "url": "https://reports.example.org/a_b?x=1&y=%20",
}


def _decode(value: str) -> str:
    # pylatexenc writes \textasciicircum as the modifier letter (U+02C6), LaTeX prints "^".
    decoded: str = LatexNodes2Text().latex_to_text(value)
    return decoded.replace("\u02c6", "^")


def _parse_bibtex(text: str) -> Library:
    library = parse_string(text)
    assert library.failed_blocks == []
    return library


def _fields(entry: Any) -> dict[str, str]:
    return {field.key: field.value for field in entry.fields}


# --- the readable reference -----------------------------------------------------------------


def test_cite_text_is_an_apa_like_reference() -> None:
    assert citations.cite_text(TRIAL) == (
        "Weber, A., & Costa, R. (2021). A randomised trial of Safe Families. "
        "Journal of Prevention Studies. https://doi.org/10.5555/jps.2021.77"
    )


@pytest.mark.parametrize(
    ("authors", "expected"),
    [
        (["Weber, Anna"], "Weber, A."),
        (["Weber, Anna Maria", "Costa, Rui"], "Weber, A. M., & Costa, R."),
        (
            ["Weber, Anna", "van der Berg, Jean-Paul", "Costa, R."],
            "Weber, A., van der Berg, J.-P., & Costa, R.",
        ),
        (["Demo Prevention Agency"], "Demo Prevention Agency."),
        (
            [f"Author{n}, Given" for n in range(1, 23)],
            ", ".join(f"Author{n}, G." for n in range(1, 20)) + ", . . . Author22, G.",
        ),
    ],
)
def test_cite_text_authors(authors: list[str], expected: str) -> None:
    text = citations.cite_text({**TRIAL, "authors": authors})
    assert text.startswith(expected + " (2021). ")


def test_cite_text_without_venue_doi_or_authors() -> None:
    assert citations.cite_text(
        {**TRIAL, "venue": None, "doi": None, "url": "https://example.org/r"}
    ) == (
        "Weber, A., & Costa, R. (2021). A randomised trial of Safe Families. https://example.org/r"
    )
    # Without authors the title leads; a title ending in "?" gets no extra full stop.
    assert citations.cite_text(
        {"title": "Does it work?", "authors": [], "year": 2020, "venue": "J"}
    ) == ("Does it work? (2020). J.")


def test_names_are_family_given_or_literal() -> None:
    assert citations.parse_name("Weber, Anna") == citations.Name(family="Weber", given="Anna")
    assert citations.parse_name("  Smith,  Jr., John ") == citations.Name(
        family="Smith", given="Jr., John"
    )
    assert citations.parse_name("Demo Agency") == citations.Name(literal="Demo Agency")
    assert citations.parse_name("Plato,") == citations.Name(literal="Plato")


# --- BibTeX --------------------------------------------------------------------------------


def test_bibtex_parses_with_the_fields_of_an_article_and_a_misc() -> None:
    text = citations.to_bibtex([TRIAL, {**TRIAL, "venue": None, "url": "https://example.org/r"}])
    library = _parse_bibtex(text)

    first, second = library.entries
    assert (first.entry_type, first.key) == ("article", "weber2021randomised")
    assert _fields(first) == {
        "author": "Weber, Anna and Costa, Rui",
        "title": "{A randomised trial of Safe Families}",
        "journal": "Journal of Prevention Studies",
        "year": "2021",
        "doi": "10.5555/jps.2021.77",
    }
    assert (second.entry_type, second.key) == ("misc", "weber2021randomiseda")
    assert "journal" not in _fields(second)
    assert _fields(second)["url"] == "https://example.org/r"


def test_bibtex_keys_are_unique_and_ascii() -> None:
    items = [
        {**TRIAL, "authors": ["Müller, Jürgen"], "title": "Über Prävention"},
        {**TRIAL, "authors": ["Müller, Jürgen"], "title": "Über Prävention"},
        {**TRIAL, "authors": ["Müller, Jürgen"], "title": "Über Prävention"},
        {**TRIAL, "authors": ["Müller, Jürgen"], "title": "The uber prevention", "id": 4},
        {**TRIAL, "authors": ["日本, 太郎"], "title": "研究"},
        {**TRIAL, "authors": ["Demo Agency for Prevention"], "title": "The annual report"},
    ]
    keys = [entry.key for entry in _parse_bibtex(citations.to_bibtex(items)).entries]

    assert keys == [
        "muller2021uber",
        "muller2021ubera",
        "muller2021uberb",
        "muller2021uberc",
        "anon2021",
        "demo2021annual",
    ]
    assert all(key.isascii() and key.isalnum() for key in keys)
    assert len(set(keys)) == len(keys)
    many = citations.citation_keys([citations.reference(TRIAL)] * 30)
    assert len(set(many)) == 30
    assert many[26:28] == ["weber2021randomisedz", "weber2021randomisedaa"]


def test_bibtex_special_characters_round_trip() -> None:
    text = citations.to_bibtex([AWKWARD])
    (entry,) = _parse_bibtex(text).entries
    fields = _fields(entry)

    # Every special character is escaped: decoding the LaTeX gives the original text back.
    assert _decode(fields["title"]) == AWKWARD_TITLE
    assert _decode(fields["journal"]) == "Review of {Prevention} & Practice"
    # The verbatim fields keep the value; only what would break the braces is encoded.
    assert unquote(fields["doi"]) == "10.5555/a_b{1}%"
    assert fields["url"] == "https://reports.example.org/a_b?x=1&y=%20"
    # The authors split where they should, and no further.
    names = (
        parse_string(
            text,
            append_middleware=[middlewares.SeparateCoAuthors(), middlewares.SplitNameParts()],
        )
        .entries[0]
        .fields_dict["author"]
        .value
    )
    assert [(_decode(" ".join(n.last)), _decode(" ".join(n.first))) for n in names] == [
        ("O'Brien & Sons_Ltd", "Zoë"),
        ("Müller", "Jean-Paul"),
        ("Ministry of Health and Welfare", ""),
    ]


def test_bibtex_escapes_in_one_pass() -> None:
    assert citations.escape_latex("\\{}") == r"\textbackslash{}\{\}"
    assert citations.escape_latex("a~b^c") == r"a\textasciitilde{}b\textasciicircum{}c"
    assert citations.escape_latex("Zoë") == "Zoë"


def test_bibtex_of_nothing_is_empty() -> None:
    assert citations.to_bibtex([]) == ""
    assert citations.to_ris([]) == ""
    assert citations.to_csl_json([]) == []


# --- RIS -----------------------------------------------------------------------------------


def test_ris_parses_with_one_record_per_evaluation() -> None:
    text = citations.to_ris([TRIAL, {**AWKWARD, "venue": None, "doi": None}])
    records = rispy.loads(text)

    assert len(records) == 2
    first, second = records
    assert first["type_of_reference"] == "JOUR"
    assert first["authors"] == ["Weber, Anna", "Costa, Rui"]
    assert first["year"] == "2021"
    assert first["title"] == "A randomised trial of Safe Families"
    assert first["secondary_title"] == "Journal of Prevention Studies"
    assert first["journal_name"] == "Journal of Prevention Studies"
    assert first["doi"] == "10.5555/jps.2021.77"
    assert first["urls"] == ["https://doi.org/10.5555/jps.2021.77"]
    assert second["type_of_reference"] == "GEN"
    assert second["title"] == AWKWARD_TITLE
    assert second["authors"] == [
        "O'Brien & Sons_Ltd, Zoë",
        "Müller, Jean-Paul",
        "Ministry of Health and Welfare",
    ]
    assert "doi" not in second
    assert second["urls"] == ["https://reports.example.org/a_b?x=1&y=%20"]


def test_ris_lines_follow_the_specification() -> None:
    text = citations.to_ris([TRIAL, TRIAL])
    assert text.endswith("ER  - \r\n")
    lines = text.split("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert lines[0] == "TY  - JOUR"
    assert lines.count("ER  - ") == 2
    # Records are separated by one empty line; every other line is "XY  - value".
    assert lines[-1] == ""
    assert [index for index, line in enumerate(lines) if not line] == [
        lines.index("ER  - ") + 1,
        len(lines) - 1,
    ]
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]  - .*", line) for line in lines if line)


# --- CSL-JSON ------------------------------------------------------------------------------


def test_csl_json_items_have_the_required_keys_and_types() -> None:
    items = citations.to_csl_json([TRIAL, {**AWKWARD, "venue": None}])
    json.loads(json.dumps(items))  # serialisable as it is

    first, second = items
    assert first == {
        "id": "weber2021randomised",
        "type": "article-journal",
        "title": "A randomised trial of Safe Families",
        "author": [{"family": "Weber", "given": "Anna"}, {"family": "Costa", "given": "Rui"}],
        "issued": {"date-parts": [[2021]]},
        "container-title": "Journal of Prevention Studies",
        "DOI": "10.5555/jps.2021.77",
    }
    assert second["type"] == "report"
    assert "container-title" not in second
    assert second["author"][2] == {"literal": "Ministry of Health and Welfare"}
    assert second["URL"] == AWKWARD["url"]
    for item in items:
        assert isinstance(item["id"], str)
        assert item["type"] in ("article-journal", "report")
        assert isinstance(item["title"], str)
        assert all(
            set(name) in ({"family", "given"}, {"literal"})
            and all(isinstance(part, str) for part in name.values())
            for name in item["author"]
        )
        (parts,) = item["issued"]["date-parts"]
        assert all(isinstance(part, int) for part in parts)
    # The ids are the BibTeX keys, so both exports cite alike.
    bib_keys = [entry.key for entry in _parse_bibtex(citations.to_bibtex([TRIAL, AWKWARD])).entries]
    assert [item["id"] for item in citations.to_csl_json([TRIAL, AWKWARD])] == bib_keys


# --- evaluation rows -----------------------------------------------------------------------


def test_evaluation_rows_are_cited_like_their_content(db_session: Session) -> None:
    programme = factories.programme()
    researcher = factories.member(member_type="researcher")
    evaluation = service.create(db_session, researcher, evaluation_content(programme))
    assert isinstance(evaluation, Evaluation)

    assert citations.cite_text(evaluation) == (
        "Weber, A., & Costa, R. (2021). A randomised trial of Safe Families. "
        "Journal of Prevention Studies. https://doi.org/10.1234/jps.2021.77"
    )
    assert citations.reference(evaluation).id == evaluation.id
    (entry,) = _parse_bibtex(citations.to_bibtex([evaluation])).entries
    assert entry.key == "weber2021randomised"
