"""The search service: query parameters, facet counts, visibility, paging and sorting."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.db import utcnow
from app.evidence import ratings
from app.members.models import Member
from app.programmes.models import Programme, ProgrammeTerm
from app.search import service
from app.search.documents import FACETS
from app.search.service import MAX_PER_PAGE, SearchQuery
from tests import factories
from tests.search.test_index import found, run

# --- query parameters --------------------------------------------------------------------


def test_parameters_are_read_with_aliases_commas_and_limits() -> None:
    query = SearchQuery.from_params(
        {
            "q": ["  safe families  "],
            "country": ["PT,DE", "PT"],
            "target_group": ["parents"],
            "design": ["rct"],  # not a programme facet: ignored
            "unknown": ["x"],
            "sort": ["rating"],
            "page": ["3"],
            "per_page": ["1000"],
        }
    )
    assert query.text == "safe families"
    assert query.kind == "programme"
    assert query.filters == {"countries": ["PT", "DE"], "target_groups": ["parents"]}
    assert query.sort == "rating"
    assert query.page == 3
    assert query.per_page == MAX_PER_PAGE
    assert query.truncated is False


@pytest.mark.parametrize(
    ("params", "page", "per_page", "sort", "kind"),
    [
        ({"page": ["0"], "per_page": ["0"]}, 1, 1, "", "programme"),
        ({"page": ["-4"], "per_page": ["abc"]}, 1, 20, "", "programme"),
        ({"page": ["99999999999999"], "sort": ["best"]}, 10_000, 20, "", "programme"),
        ({"type": ["evaluation"], "sort": ["newest"]}, 1, 20, "newest", "evaluation"),
        ({"type": ["nonsense"]}, 1, 20, "", "programme"),
    ],
)
def test_out_of_range_parameters_fall_back(
    params: dict[str, list[str]], page: int, per_page: int, sort: str, kind: str
) -> None:
    query = SearchQuery.from_params(params)
    assert (query.page, query.per_page, query.sort, query.kind) == (page, per_page, sort, kind)


def test_parameters_round_trip_through_the_query_string() -> None:
    query = SearchQuery.from_params(
        {"q": ["grooming"], "countries": ["PT", "DE"], "rating": ["effective"], "page": ["2"]}
    )
    assert query.query_string() == ("q=grooming&countries=PT&countries=DE&rating=effective&page=2")
    again = SearchQuery.from_params(
        {name: [v for n, v in query.params() if n == name] for name, _ in query.params()}
    )
    assert again == query
    # Toggling a facet adds or removes the code and goes back to page 1.
    assert query.toggled("countries", "PT") == "q=grooming&countries=DE&rating=effective"
    assert query.toggled("settings", "school") == (
        "q=grooming&countries=PT&countries=DE&settings=school&rating=effective"
    )


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ["grooming & co"], "countries": ["PT", "DE"], "rating": ["effective"]},
        {"type": ["evaluation"], "year": ["2024"], "design": ["rct"], "page": ["3"]},
        {"countries": ["DE"], "sort": ["newest"], "per_page": ["50"], "page": ["2"]},
        {"type": ["member"], "q": ["a=b?c"], "expertise": ["research"]},
    ],
)
def test_the_toggler_gives_the_same_links_as_toggled(params: dict[str, list[str]]) -> None:
    query = SearchQuery.from_params(params)
    for name in FACETS[query.kind]:
        toggle = query.toggler(name)
        chosen = query.filters.get(name, [])
        for code in [*chosen, "PT", "x y", "é&="]:
            assert toggle(code) == query.toggled(name, code), (name, code)


def test_a_result_shows_what_its_record_holds(db_session: Session) -> None:
    programme = factories.programme(
        title="Grooming alerts",
        visibility="members",
        countries=["PT", "DE", "AT"],
        target_groups=["parents", "schools"],
    )
    member = factories.member()
    (hit,) = run(db_session, member, q="grooming").hits
    listing = hit.record
    (record,) = service.load_records(db_session, "programme", [programme.id]).values()
    assert listing.id == programme.id
    assert listing.title == programme.title
    assert listing.summary == programme.summary
    assert listing.content_language == programme.content_language
    assert listing.visibility == "members"
    assert listing.rating_level == (programme.rating_level or "not_rated")
    for name in ("countries", "target_groups", "languages", "settings"):
        assert listing.codes(name) == record.codes(name), name
    assert listing.prevention_level == record.prevention_level


def test_the_default_sort_depends_on_the_text() -> None:
    assert SearchQuery.from_params({"q": ["x"]}).effective_sort == "relevance"
    assert SearchQuery.from_params({}).effective_sort == "rating"
    assert SearchQuery.from_params({"type": ["evaluation"]}).effective_sort == "newest"
    # Relevance without text means nothing: the default order applies.
    assert SearchQuery.from_params({"sort": ["relevance"]}).effective_sort == "rating"
    assert SearchQuery.from_params({"q": ["x"], "sort": ["newest"]}).effective_sort == "newest"


# --- facets ------------------------------------------------------------------------------

CATALOGUE: list[dict[str, Any]] = [
    {"countries": ["DE", "PT"], "target_groups": ["parents"], "settings": ["community"]},
    {"countries": ["DE"], "target_groups": ["parents"], "settings": ["school"]},
    {
        "countries": ["PT"],
        "target_groups": ["schools"],
        "target_subgroups": [],
        "settings": ["school", "online"],
        "visibility": "members",
    },
    {
        "countries": ["FR", "DE"],
        "target_groups": ["children"],
        "target_subgroups": [],
        "settings": ["online"],
    },
    {
        "countries": ["FR"],
        "target_groups": ["parents", "schools"],
        "settings": ["community", "school"],
        "visibility": "members",
    },
    {"countries": ["ES"], "target_groups": ["parents"], "settings": ["family_home"]},
]
FIELDS = ("countries", "target_groups", "settings")


def _expected(
    records: list[dict[str, Any]], filters: dict[str, list[str]], field: str
) -> dict[str, int]:
    """A field's counts by brute force: every filter applies except the field's own."""

    def keeps(record: dict[str, Any], name: str) -> bool:
        return any(code in record[name] for code in filters[name])

    counts: Counter[str] = Counter()
    for record in records:
        if all(keeps(record, name) for name in filters if name != field):
            counts.update(record[field])
    return dict(counts)


@pytest.fixture
def catalogue(db_session: Session) -> list[dict[str, Any]]:
    author = factories.member()
    reviewer = factories.coordinator(network=True)
    records = []
    for number, overrides in enumerate(CATALOGUE):
        content = {"target_subgroups": ["parents"], "visibility": "public", **overrides}
        programme = factories.programme(
            author, reviewer=reviewer, title=f"Catalogue programme {number}", **content
        )
        records.append({**content, "id": programme.id})
    factories.programme(author, state="draft", title="Catalogue draft", countries=["DE"])
    return records


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"countries": ["DE"]},
        {"countries": ["DE", "FR"]},
        {"countries": ["PT"], "target_groups": ["parents"]},
        {"target_groups": ["parents", "schools"], "settings": ["school"]},
        {"countries": ["FR", "ES"], "target_groups": ["parents"], "settings": ["community"]},
        {"settings": ["faith"]},
    ],
)
def test_facet_counts_equal_a_brute_force_count(
    db_session: Session, catalogue: list[dict[str, Any]], filters: dict[str, list[str]]
) -> None:
    member = factories.member()
    for viewer in (None, member):
        visible = [r for r in catalogue if viewer is not None or r["visibility"] == "public"]
        result = run(db_session, viewer, per_page=100, **filters)
        matching = [r for r in visible if all(any(c in r[n] for c in filters[n]) for n in filters)]
        assert result.total == len(matching)
        assert sorted(hit.record_id for hit in result.hits) == sorted(r["id"] for r in matching)
        for field in FIELDS:
            assert result.facets[field] == _expected(visible, filters, field), (viewer, field)


def test_facet_counts_with_text_count_only_matching_records(
    db_session: Session, catalogue: list[dict[str, Any]]
) -> None:
    author = factories.member()
    reviewer = factories.coordinator(network=True)
    factories.programme(author, reviewer=reviewer, title="Unrelated lighthouse", countries=["IT"])
    result = run(db_session, None, q="catalogue", countries=["DE"])
    assert result.facets["countries"] == _expected(
        [r for r in catalogue if r["visibility"] == "public"], {"countries": ["DE"]}, "countries"
    )
    assert "IT" not in result.facets["countries"]
    assert run(db_session, None, q="lighthouse").facets["countries"] == {"IT": 1}


def test_anonymous_counts_never_include_members_only_records(db_session: Session) -> None:
    author = factories.member()
    reviewer = factories.coordinator(network=True)
    factories.programme(author, reviewer=reviewer, title="Open door", countries=["PT"])
    factories.programme(
        author, reviewer=reviewer, title="Closed door", countries=["PT"], visibility="members"
    )
    anonymous = run(db_session, None)
    assert anonymous.total == 1
    assert anonymous.facets["countries"] == {"PT": 1}
    assert anonymous.facets["rating"] == {"not_rated": 1}
    assert run(db_session, None, q="door").facets["countries"] == {"PT": 1}
    assert run(db_session, None, q="closed").total == 0
    assert run(db_session, None, country="PT").facets["countries"] == {"PT": 1}

    member = factories.member()
    assert run(db_session, member).facets["countries"] == {"PT": 2}
    assert run(db_session, member, q="door").total == 2
    # A lapsed member is not a member in good standing: the anonymous view.
    lapsed = factories.member(status="lapsed")
    assert run(db_session, lapsed).facets["countries"] == {"PT": 1}


def test_evaluation_facets_and_year(db_session: Session) -> None:
    from app.evidence import service as evidence_service
    from tests.search.test_index import evaluation_content

    researcher = factories.member(member_type="researcher")
    programme = factories.programme(reviewer=factories.coordinator(network=True))
    evidence_service.create(db_session, researcher, evaluation_content(programme, year=2019))
    evidence_service.create(
        db_session,
        researcher,
        evaluation_content(programme, year=2021, design="pre_post", country="PT"),
    )
    evidence_service.create(
        db_session,
        researcher,
        evaluation_content(programme, year=2021, visibility="members", country="PT"),
    )
    anonymous = run(db_session, None, type="evaluation")
    assert anonymous.facets["year"] == {"2019": 1, "2021": 1}
    assert anonymous.facets["design"] == {"rct": 1, "pre_post": 1}
    assert run(db_session, None, type="evaluation", design="rct").facets["design"] == {
        "rct": 1,
        "pre_post": 1,
    }
    member = factories.member()
    assert run(db_session, member, type="evaluation").facets["countries"] == {"DE": 1, "PT": 2}
    assert run(db_session, member, type="evaluation", year="2021", country="PT").total == 2


# --- paging and bad input ----------------------------------------------------------------


def _bulk_programmes(session: Session, count: int, **values: Any) -> list[int]:
    """Published programmes written directly (much faster than the workflow)."""
    now = utcnow()
    programmes = [
        Programme(
            status="published",
            title=f"Bulk programme {number}",
            summary="Bulk summary",
            published_at=now - timedelta(minutes=number),
            **values,
        )
        for number in range(count)
    ]
    session.add_all(programmes)
    session.flush()
    # The terms' flush rebuilds the programmes' documents (index in the same transaction).
    session.add_all(
        ProgrammeTerm(programme_id=p.id, field="countries", code="LU", position=0)
        for p in programmes
    )
    session.flush()
    return [p.id for p in programmes]


def test_per_page_is_capped_at_100(db_session: Session) -> None:
    ids = _bulk_programmes(db_session, MAX_PER_PAGE + 5)
    result = run(db_session, None, per_page=1000)
    assert result.total == MAX_PER_PAGE + 5
    assert len(result.hits) == MAX_PER_PAGE
    assert result.facets["countries"] == {"LU": MAX_PER_PAGE + 5}
    assert result.pages == 2
    second = run(db_session, None, per_page=1000, page=2)
    assert len(second.hits) == 5
    assert {hit.record_id for hit in result.hits + second.hits} == set(ids)
    assert (second.first_number, second.last_number) == (101, 105)


def test_a_page_beyond_the_last_is_empty_with_the_right_total(db_session: Session) -> None:
    _bulk_programmes(db_session, 7)
    result = run(db_session, None, per_page=5, page=3)
    assert result.hits == []
    assert result.total == 7
    assert result.facets["countries"] == {"LU": 7}
    assert result.first_number == 0
    far = run(db_session, None, page=99_999_999)
    assert (far.hits, far.total) == ([], 7)


def test_pages_are_disjoint_and_complete(db_session: Session) -> None:
    ids = _bulk_programmes(db_session, 23)
    seen: list[int] = []
    for page in (1, 2, 3):
        seen += found(db_session, None, per_page=10, page=page, sort="newest")
    assert seen == ids  # published one minute apart, the first one newest


def test_a_long_query_is_cut_with_a_flag_and_no_error(db_session: Session) -> None:
    author = factories.member()
    programme = factories.programme(author, title="Grooming awareness")
    long_text = "grooming " + "x" * 600
    query = SearchQuery.from_params({"q": [long_text]})
    assert query.truncated is True
    assert len(query.text) <= 500
    result = service.search(db_session, None, query)
    assert result.total == 0
    short = SearchQuery.from_params({"q": ["grooming " + "awareness " * 60]})
    assert short.truncated is True
    assert [hit.record_id for hit in service.search(db_session, None, short).hits] == [programme.id]


def test_an_empty_query_browses_with_the_filters(db_session: Session) -> None:
    author = factories.member()
    reviewer = factories.coordinator(network=True)
    lisbon = factories.programme(author, reviewer=reviewer, title="Lisbon", countries=["PT"])
    factories.programme(author, reviewer=reviewer, title="Berlin", countries=["DE"])
    for text in ("", "   ", '"', "* - ^"):
        result = run(db_session, None, q=text, country="PT")
        assert [hit.record_id for hit in result.hits] == [lisbon.id], text
        assert result.facets["countries"] == {"PT": 1, "DE": 1}
    assert run(db_session, None, country="XX").total == 0
    assert run(db_session, None, country="").total == 2


# --- sorting -----------------------------------------------------------------------------


def test_sort_by_rating_newest_and_relevance(db_session: Session) -> None:
    author = factories.member()
    coordinator = factories.coordinator(network=True)
    older = factories.programme(author, reviewer=coordinator, title="Sorting apple")
    rated = factories.programme(author, reviewer=coordinator, title="Sorting pear", summary="apple")
    newest = factories.programme(author, reviewer=coordinator, title="Sorting plum")
    ratings.override(db_session, coordinator, rated.id, "promising", "Reviewed.")
    # Publication times one day apart, oldest first.
    now = utcnow()
    for days, programme in zip((3, 2, 1), (older, rated, newest), strict=True):
        programme.published_at = now - timedelta(days=days)
    db_session.flush()

    assert found(db_session, None, sort="newest") == [newest.id, rated.id, older.id]
    assert found(db_session, None, sort="rating") == [rated.id, newest.id, older.id]
    assert found(db_session, None) == [rated.id, newest.id, older.id]  # default: rating
    assert found(db_session, None, q="apple") == [older.id, rated.id]  # title first
    assert found(db_session, None, q="apple", sort="newest") == [rated.id, older.id]
    assert found(db_session, None, q="sorting", sort="relevance") == [
        rated.id,
        newest.id,
        older.id,
    ]


# --- visibility rules --------------------------------------------------------------------


@pytest.mark.parametrize(("status", "may_search_people"), [("active", True), ("lapsed", False)])
def test_only_members_in_good_standing_search_people(
    db_session: Session, status: str, may_search_people: bool
) -> None:
    viewer: Member = factories.member(status=status)
    assert set(service.kinds_for(viewer)) == (
        {"programme", "evaluation", "member", "organisation"}
        if may_search_people
        else {"programme", "evaluation"}
    )
    for kind in ("member", "organisation"):
        if may_search_people:
            run(db_session, viewer, type=kind)
        else:
            with pytest.raises(PermissionError):
                run(db_session, viewer, type=kind)


def test_hits_are_highlighted_and_escaped(db_session: Session) -> None:
    factories.programme(
        title="Grooming <b>alerts</b>",
        summary="Parents learn to spot <script>grooming</script> online & offline.",
    )
    result = run(db_session, None, q="grooming")
    (hit,) = result.hits
    assert str(hit.title) == "<mark>Grooming</mark> &lt;b&gt;alerts&lt;/b&gt;"
    assert "<script>" not in str(hit.snippet)
    assert "&lt;script&gt;<mark>grooming</mark>&lt;/script&gt;" in str(hit.snippet)


def test_combinations_of_two_filters_match_a_brute_force_selection(
    db_session: Session, catalogue: list[dict[str, Any]]
) -> None:
    member = factories.member()
    codes = {
        "countries": ["DE", "PT", "FR", "ES"],
        "target_groups": ["parents", "schools", "children"],
        "settings": ["school", "online", "community"],
    }
    for first, second in itertools.combinations(FIELDS, 2):
        for a, b in itertools.product(codes[first], codes[second]):
            expected = sorted(r["id"] for r in catalogue if a in r[first] and b in r[second])
            assert sorted(found(db_session, member, **{first: a, second: b})) == expected
