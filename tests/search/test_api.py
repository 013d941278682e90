"""The search API: GET /api/v1/search, with visibility, filters, facets, paging and bad input."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.auth import api_tokens
from app.evidence import service as evidence_service
from app.members.models import Member
from app.programmes.models import Programme
from tests import factories
from tests.conftest import PortalClient
from tests.evidence.test_service import evaluation_content

API = "/api/v1/search"


def bearer(session: Session, holder: Member, scope: str = "read") -> dict[str, str]:
    _token, secret = api_tokens.create(session, holder, name="tests", scope=scope)
    session.commit()
    return {"Authorization": f"Bearer {secret}"}


@dataclass
class Catalogue:
    parents_de: Programme  # public, parents, DE+PT, primary
    schools_pt: Programme  # public, schools, PT, secondary
    hidden_de: Programme  # members-only, parents, DE, primary


def catalogue(session: Session) -> Catalogue:
    """Three published programmes, one of them for members only."""
    author = factories.member()
    made = Catalogue(
        parents_de=factories.programme(
            author,
            title="Safe Families",
            summary="Evening sessions that help parents talk with their children about safety.",
            target_groups=["parents"],
            target_subgroups=[],
            countries=["DE", "PT"],
            prevention_level="primary",
        ),
        schools_pt=factories.programme(
            author,
            title="Clear Limits at School",
            summary="Lessons on body safety and boundaries for pupils in primary schools.",
            target_groups=["schools"],
            target_subgroups=[],
            countries=["PT"],
            languages=["pt"],
            prevention_level="secondary",
        ),
        hidden_de=factories.programme(
            author,
            title="Quiet Harbour",
            summary="A members-only helpline pilot for parents worried about safety.",
            target_groups=["parents"],
            target_subgroups=[],
            countries=["DE"],
            languages=["de"],
            prevention_level="primary",
            visibility="members",
        ),
    )
    session.flush()
    return made


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(body: dict[str, Any]) -> set[int]:
    return {item["id"] for item in body["results"]}


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


# --- visibility --------------------------------------------------------------------------


def test_anonymous_callers_never_see_members_only_programmes(
    client: PortalClient, db_session: Session
) -> None:
    made = catalogue(db_session)
    body = ok(client.get(API))
    assert ids(body) == {made.parents_de.id, made.schools_pt.id}
    assert body["total"] == 2
    assert body["type"] == "programme"
    # Nor in the counts: DE only has the public programme, parents only one.
    assert body["facets"]["countries"] == {"DE": 1, "PT": 2}
    assert body["facets"]["target_groups"] == {"parents": 1, "schools": 1}
    # Not even when the text names it.
    found = ok(client.get(API, params={"q": "Quiet Harbour"}))
    assert found["total"] == 0
    assert found["results"] == []


def test_members_see_members_only_programmes_with_a_token_or_a_session(
    client: PortalClient, db_session: Session
) -> None:
    made = catalogue(db_session)
    reader = factories.member()
    with_token = ok(client.get(API, headers=bearer(db_session, reader)))
    assert ids(with_token) == {made.parents_de.id, made.schools_pt.id, made.hidden_de.id}
    assert with_token["total"] == 3
    assert with_token["facets"]["countries"] == {"DE": 2, "PT": 2}

    client.sign_in_as(db_session, reader)
    in_browser = ok(client.get(API, params={"q": "harbour"}))
    assert ids(in_browser) == {made.hidden_de.id}


def test_an_invalid_token_is_refused_not_treated_as_anonymous(
    client: PortalClient, db_session: Session
) -> None:
    catalogue(db_session)
    response = client.get(API, headers={"Authorization": "Bearer pnp_nonsense"})
    problem(response, 401)


def test_members_and_organisations_are_for_members_only(
    client: PortalClient, db_session: Session
) -> None:
    factories.member(full_name="Ana Ribeiro", country="PT")
    factories.organisation(name="Instituto Aurora", country="PT")
    # Committed: a refused request rolls back what the session has not committed.
    db_session.commit()
    for kind in ("member", "organisation"):
        body = problem(client.get(API, params={"type": kind}), 401)
        assert "members" in body["detail"]

    lapsed = factories.member(
        status="lapsed", membership_expires_on=date.today() - timedelta(days=1)
    )
    problem(client.get(API, params={"type": "member"}, headers=bearer(db_session, lapsed)), 403)

    reader = factories.member()
    headers = bearer(db_session, reader)
    people = ok(client.get(API, params={"type": "member", "q": "ribeiro"}, headers=headers))
    assert [item["name"] for item in people["results"]] == ["Ana Ribeiro"]
    person = people["results"][0]
    assert person["type"] == "member"
    assert person["country"] == "PT"
    assert person["url"] == f"/directory/{person['id']}"

    places = ok(client.get(API, params={"type": "organisation", "q": "aurora"}, headers=headers))
    assert [(item["name"], item["country"]) for item in places["results"]] == [
        ("Instituto Aurora", "PT")
    ]
    assert places["facets"]["countries"]["PT"] >= 1


def test_a_members_country_hidden_from_members_is_not_in_the_result(
    client: PortalClient, db_session: Session
) -> None:
    factories.member(
        full_name="Jonas Hidden", country="LT", profile_visibility={"country": "coordinators"}
    )
    reader = factories.member()
    db_session.flush()
    body = ok(
        client.get(API, params={"type": "member", "q": "jonas"}, headers=bearer(db_session, reader))
    )
    assert [item["name"] for item in body["results"]] == ["Jonas Hidden"]
    assert body["results"][0]["country"] is None
    assert "LT" not in body["facets"].get("countries", {})


# --- filters and facets ------------------------------------------------------------------


def test_filters_combine_and_codes_within_a_field_are_alternatives(
    client: PortalClient, db_session: Session
) -> None:
    made = catalogue(db_session)
    reader_headers = bearer(db_session, factories.member())

    both = ok(client.get(API, params={"target_group": "parents", "country": "DE"}))
    assert ids(both) == {made.parents_de.id}
    assert both["query"]["filters"] == {"target_groups": ["parents"], "countries": ["DE"]}

    either = ok(client.get(API, params=[("country", "DE"), ("country", "PT")]))
    assert ids(either) == {made.parents_de.id, made.schools_pt.id}
    commas = ok(client.get(API, params={"countries": "de,pt", "prevention_level": "secondary"}))
    assert ids(commas) == {made.schools_pt.id}

    member_view = ok(
        client.get(
            API, params={"target_groups": "parents", "language": "DE"}, headers=reader_headers
        )
    )
    assert ids(member_view) == {made.parents_de.id, made.hidden_de.id}
    assert member_view["query"]["filters"] == {"target_groups": ["parents"], "languages": ["de"]}

    text_and_filter = ok(client.get(API, params={"q": "safety", "country": "PT"}))
    assert ids(text_and_filter) == {made.parents_de.id, made.schools_pt.id}


def test_facet_counts_follow_the_other_filters_on_a_known_set(
    client: PortalClient, db_session: Session
) -> None:
    catalogue(db_session)
    headers = bearer(db_session, factories.member())
    body = ok(client.get(API, params={"country": "DE"}, headers=headers))
    assert body["total"] == 2
    # The country field's own counts ignore its own filter...
    assert body["facets"]["countries"] == {"DE": 2, "PT": 2}
    # ...the other fields count within it.
    assert body["facets"]["target_groups"] == {"parents": 2}
    assert body["facets"]["prevention_level"] == {"primary": 2}
    assert body["facets"]["rating"] == {"not_rated": 2}
    assert set(body["facets"]) >= {"target_groups", "countries", "languages", "rating"}


def test_an_unknown_code_matches_nothing_and_an_unknown_parameter_is_ignored(
    client: PortalClient, db_session: Session
) -> None:
    catalogue(db_session)
    assert ok(client.get(API, params={"country": "XX"}))["total"] == 0
    assert ok(client.get(API, params={"target_group": "<script>"}))["total"] == 0
    assert ok(client.get(API, params={"colour": "blue"}))["total"] == 2


# --- the shape of a result ---------------------------------------------------------------


def test_a_programme_result_has_plain_text_highlights_and_its_fields(
    client: PortalClient, db_session: Session
) -> None:
    made = catalogue(db_session)
    body = ok(client.get(API, params={"q": "boundaries"}))
    assert body["query"]["q"] == "boundaries"
    assert body["query"]["sort"] == "relevance"
    [item] = body["results"]
    assert item == {
        "type": "programme",
        "id": made.schools_pt.id,
        "title": "Clear Limits at School",
        "snippet": "Lessons on body safety and boundaries for pupils in primary schools.",
        "highlights": ["boundaries"],
        "url": f"/programmes/{made.schools_pt.id}",
        "target_groups": ["schools"],
        "countries": ["PT"],
        "languages": ["pt"],
        "prevention_level": "secondary",
        "rating": {"level": "not_rated", "label": "Not yet rated"},
    }


def test_markup_in_a_summary_comes_back_as_plain_text(
    client: PortalClient, db_session: Session
) -> None:
    factories.programme(title="Tagged", summary="Use <b>bold</b> & care with groomers.")
    db_session.flush()
    [item] = ok(client.get(API, params={"q": "groomers"}))["results"]
    assert item["snippet"] == "Use <b>bold</b> & care with groomers."
    assert "<mark>" not in item["snippet"]
    assert item["highlights"] == ["groomers"]


def test_an_evaluation_result_lists_only_programmes_the_caller_may_see(
    client: PortalClient, db_session: Session
) -> None:
    made = catalogue(db_session)
    researcher = factories.member(member_type="researcher")
    evaluation = evidence_service.create(
        db_session,
        researcher,
        evaluation_content(
            made.parents_de,
            programme_ids=[made.parents_de.id, made.hidden_de.id],
            title="A trial of family evening sessions",
        ),
    )
    db_session.flush()
    body = ok(client.get(API, params={"type": "evaluation", "q": "trial"}))
    assert body["type"] == "evaluation"
    [item] = body["results"]
    assert item["id"] == evaluation.id
    assert item["url"] == f"/evaluations/{evaluation.id}"
    assert (item["year"], item["design"], item["country"]) == (2021, "rct", "DE")
    assert item["programme_ids"] == [made.parents_de.id]
    assert body["facets"]["design"] == {"rct": 1}

    member_view = ok(
        client.get(
            API,
            params={"type": "evaluation", "q": "trial"},
            headers=bearer(db_session, factories.member()),
        )
    )
    assert member_view["results"][0]["programme_ids"] == sorted(
        [made.parents_de.id, made.hidden_de.id]
    )


# --- paging and bad input ----------------------------------------------------------------


def test_per_page_is_capped_and_a_page_beyond_the_last_is_empty(
    client: PortalClient, db_session: Session
) -> None:
    catalogue(db_session)
    capped = ok(client.get(API, params={"per_page": 1000}))
    assert capped["per_page"] == 100
    assert capped["query"]["per_page"] == 100

    first = ok(client.get(API, params={"per_page": 1, "sort": "newest"}))
    second = ok(client.get(API, params={"per_page": 1, "page": 2, "sort": "newest"}))
    assert (first["pages"], first["total"], len(first["results"])) == (2, 2, 1)
    assert ids(first) != ids(second)

    beyond = ok(client.get(API, params={"page": 7}))
    assert beyond["results"] == []
    assert beyond["total"] == 2
    assert beyond["page"] == 7
    assert beyond["facets"]["countries"] == {"DE": 1, "PT": 2}

    far = ok(client.get(API, params={"page": 10**30}))
    assert far["results"] == []
    assert far["total"] == 2


def test_a_query_over_500_characters_is_cut_and_says_so(
    client: PortalClient, db_session: Session
) -> None:
    catalogue(db_session)
    body = ok(client.get(API, params={"q": "safety " * 100}))
    assert body["truncated"] is True
    assert len(body["query"]["q"]) <= 500
    assert body["total"] == 2
    assert ok(client.get(API, params={"q": "safety"}))["truncated"] is False


@pytest.mark.parametrize(
    "text",
    [
        '"',
        '"safe families',
        "-safety",
        "safe*",
        "*",
        "(safety",
        "safety)",
        "[parents]",
        "{x}",
        "safety NEAR parents",
        "NEAR(safety parents)",
        "safety OR parents",
        "safety AND NOT parents",
        "title:safe",
        "^safe",
        "a'b",
        "%_\\",
        "\x00",
        "ß😀 ǅ ﬁ",
        "' OR 1=1 --",
        "   ",
    ],
)
def test_operator_characters_never_cause_an_error(
    client: PortalClient, db_session: Session, text: str
) -> None:
    catalogue(db_session)
    for kind in ("programme", "evaluation"):
        body = ok(client.get(API, params={"q": text, "type": kind}))
        assert body["total"] >= 0


def test_invalid_parameters_are_named_in_a_problem(
    client: PortalClient, db_session: Session
) -> None:
    for params, name in (
        ({"type": "everything"}, "type"),
        ({"sort": "best"}, "sort"),
        ({"page": "two"}, "page"),
        ({"page": 0}, "page"),
        ({"per_page": 0}, "per_page"),
    ):
        body = problem(client.get(API, params=params), 422)
        assert [error["loc"] for error in body["errors"]] == [["query", name]]


def test_the_openapi_document_describes_the_answer_and_the_cap(client: PortalClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/search"]["get"]
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert {"q", "type", "target_group", "country", "language", "prevention_level", "rating"} <= (
        set(parameters)
    )
    assert "capped" in parameters["per_page"]["description"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/SearchPage"}
    page = document["components"]["schemas"]["SearchPage"]
    assert {"query", "type", "total", "results", "facets", "truncated", "pages"} <= set(
        page["properties"]
    )
    assert {"401", "403", "422"} <= set(operation["responses"])


TEXT = st.text(
    alphabet=st.characters(exclude_categories=["Cs"]),  # surrogates cannot be sent
    max_size=600,
)
PARAMETER_NAMES = st.sampled_from(
    ["q", "target_group", "country", "language", "rating", "design", "year", "sort", "page"]
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    kind=st.sampled_from(["programme", "evaluation"]),
    pairs=st.lists(st.tuples(PARAMETER_NAMES, TEXT), max_size=4),
)
def test_no_string_in_any_parameter_causes_a_server_error(
    client: PortalClient, db_session: Session, kind: str, pairs: list[tuple[str, str]]
) -> None:
    if not db_session.info.get("fuzz_seeded"):
        catalogue(db_session)
        db_session.commit()
        db_session.info["fuzz_seeded"] = True
    response = client.get(API, params=[("type", kind), *pairs])
    # 422 only for a sort or page that is not one of the documented values.
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert {error["loc"][1] for error in response.json()["errors"]} <= {"sort", "page"}
    else:
        body = response.json()
        assert body["total"] >= len(body["results"])


def test_a_page_of_results_takes_a_few_queries(client: PortalClient, db_session: Session) -> None:
    made = catalogue(db_session)
    evidence_service.create(
        db_session, factories.member(member_type="researcher"), evaluation_content(made.parents_de)
    )
    db_session.commit()
    client.get(API)  # the facet engine loads its snapshot once per process
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = db_session.get_bind().engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        for params in ({"q": "safety", "per_page": 100}, {"type": "evaluation"}):
            statements.clear()
            ok(client.get(API, params=params))
            # The change counter, the text match (on PostgreSQL the query is built in one
            # statement and run in another), the records, their terms or their programmes.
            assert len(statements) <= 5, statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
