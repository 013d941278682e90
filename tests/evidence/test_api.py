"""The evidence API: evaluations (list, create, read, edit, review, unpublish) and a
programme's evidence (rating, pooled effects), for every kind of caller, with bad input."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, get_args

import pytest
from sqlalchemy.orm import Session

from app.auth import api_tokens
from app.evidence import service
from app.evidence.models import RATING_LEVELS, Evaluation
from app.evidence.schemas import RatingLevel
from app.main import _error_location
from app.members.models import Member
from app.programmes.models import Programme
from tests import factories
from tests.conftest import PortalClient

Headers = dict[str, str]


def bearer(session: Session, holder: Member, scope: str = "write") -> Headers:
    _token, secret = api_tokens.create(session, holder, name="tests", scope=scope)
    session.commit()
    return {"Authorization": f"Bearer {secret}"}


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def errors_at(response: Any) -> dict[tuple[Any, ...], str]:
    return {tuple(error["loc"]): error["msg"] for error in assert_problem(response, 422)["errors"]}


def outcome(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "Self-reported sexual offending",
        "kind": "abuse_or_offending",
        "measure": "risk_ratio",
        "input_kind": "effect",
        "estimate": 0.6,
        "ci_low": 0.4,
        "ci_high": 0.9,
        "n_treatment": 120,
        "n_control": 118,
        "lower_is_better": True,
    }
    values.update(overrides)
    return values


def body_for(evaluated: Programme, **overrides: Any) -> dict[str, Any]:
    """A valid evaluation as JSON types: a rigorous German trial with a favourable outcome."""
    values: dict[str, Any] = {
        "programme_ids": [evaluated.id],
        "title": "A randomised trial of Safe Families",
        "authors": ["Weber, Anna", "Costa, Rui"],
        "year": 2021,
        "venue": "Journal of Prevention Studies",
        "doi": "https://doi.org/10.1234/JPS.2021.77",
        "design": "rct",
        "country": "DE",
        "sample_size": 238,
        "follow_up_months": 12,
        "risk_of_bias": "low",
        "outcomes": [outcome()],
    }
    values.update(overrides)
    return values


def create(session: Session, author: Member, programme: Programme, **overrides: Any) -> Evaluation:
    """An evaluation made through the service (published at once by researchers)."""
    content = body_for(programme, **overrides)
    publish = content.pop("publish", True)
    evaluation = service.create(session, author, content, publish=publish)
    # Committed: a refused request rolls back what the test set up and did not commit.
    session.commit()
    return evaluation


def edit_token(session: Session, evaluation: Evaluation) -> str:
    return service.version_token(service.editable_base(session, evaluation))


@pytest.fixture
def programme(db_session: Session) -> Programme:
    """A published programme in Germany and Portugal with a manual."""
    created = factories.programme()
    db_session.commit()
    return created


# --- creating ----------------------------------------------------------------------------


def test_who_may_add_an_evaluation_and_what_becomes_of_it(
    client: PortalClient, db_session: Session, programme: Programme
) -> None:
    practitioner = factories.member(member_type="practitioner")
    researcher = factories.member(member_type="researcher")
    lapsed = factories.member(
        member_type="researcher",
        status="lapsed",
        membership_expires_on=date.today() - timedelta(days=1),
    )
    here = factories.coordinator(["DE"])
    elsewhere = factories.coordinator(["FR"])
    body = body_for(programme)
    db_session.commit()  # a refused request rolls back what was not committed

    assert_problem(client.post("/api/v1/evaluations", json=body), 401)
    reader = bearer(db_session, researcher, "read")
    assert_problem(client.post("/api/v1/evaluations", json=body, headers=reader), 403)
    assert_problem(
        client.post("/api/v1/evaluations", json=body, headers=bearer(db_session, lapsed)), 403
    )

    statuses = {}
    for name, member in (
        ("practitioner", practitioner),
        ("researcher", researcher),
        ("coordinator here", here),
        ("coordinator elsewhere", elsewhere),
    ):
        response = client.post("/api/v1/evaluations", json=body, headers=bearer(db_session, member))
        assert response.status_code == 201, response.text
        created = response.json()
        assert response.headers["Location"] == f"/api/v1/evaluations/{created['id']}"
        assert response.headers["ETag"] == f'"{created["revision"]}"'
        statuses[name] = created["status"]
    assert statuses == {
        "practitioner": "submitted",
        "researcher": "published",
        "coordinator here": "published",
        "coordinator elsewhere": "published",
    }


def test_a_created_evaluation_comes_back_with_its_fields_and_outcomes(
    client: PortalClient, db_session: Session, programme: Programme
) -> None:
    researcher = factories.member(member_type="researcher")
    body = body_for(programme, url="https://example.org/study", abstract="What we found.")

    response = client.post("/api/v1/evaluations", json=body, headers=bearer(db_session, researcher))

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "published"
    assert created["programme_ids"] == [programme.id]
    assert created["authors"] == ["Weber, Anna", "Costa, Rui"]
    assert created["doi"] == "10.1234/jps.2021.77"
    assert (created["design"], created["country"], created["risk_of_bias"]) == ("rct", "DE", "low")
    assert (created["sample_size"], created["follow_up_months"]) == (238, 12)
    assert created["visibility"] == "public"
    assert created["url"] == "https://example.org/study"
    assert created["version"] == 1
    assert [version["state"] for version in created["versions"]] == ["published"]
    assert created["working_version"] is None
    [result] = created["outcomes"]
    assert result["estimate"] == pytest.approx(0.6)
    assert (result["ci_low"], result["ci_high"]) == (0.4, 0.9)
    assert result["direction"] == "favourable"
    assert result["computation"] is None
    assert result["input_kind"] == "effect"


def test_publish_false_keeps_a_draft_only_its_author_sees(
    client: PortalClient, db_session: Session, programme: Programme
) -> None:
    researcher = factories.member(member_type="researcher")
    headers = bearer(db_session, researcher)

    response = client.post(
        "/api/v1/evaluations", json={**body_for(programme), "publish": False}, headers=headers
    )

    assert response.status_code == 201, response.text
    draft = response.json()
    assert draft["status"] == "draft"
    assert draft["working_version"]["state"] == "draft"
    assert draft["title"] == "A randomised trial of Safe Families"
    path = f"/api/v1/evaluations/{draft['id']}"
    assert_problem(client.get(path), 404)
    assert_problem(client.get(path, headers=bearer(db_session, factories.member())), 404)
    assert client.get(path, headers=headers).status_code == 200
    assert client.get("/api/v1/evaluations", headers=headers).json()["total"] == 0


def test_group_statistics_are_turned_into_an_effect_with_its_formula(
    client: PortalClient, db_session: Session, programme: Programme
) -> None:
    researcher = factories.member(member_type="researcher")
    continuous = outcome(
        name="Protective parenting",
        kind="risk_or_protective_factor",
        measure="smd",
        input_kind="continuous",
        estimate=None,
        ci_low=None,
        ci_high=None,
        mean_t=12.5,
        sd_t=4.0,
        mean_c=10.0,
        sd_c=4.2,
        n_treatment=60,
        n_control=58,
        lower_is_better=False,
    )
    zero_events = outcome(
        input_kind="binary",
        estimate=None,
        ci_low=None,
        ci_high=None,
        events_t=0,
        n_treatment=50,
        events_c=6,
        n_control=50,
    )

    response = client.post(
        "/api/v1/evaluations",
        json=body_for(programme, outcomes=[continuous, zero_events]),
        headers=bearer(db_session, researcher),
    )

    assert response.status_code == 201, response.text
    hedges, ratio = response.json()["outcomes"]
    assert hedges["estimate"] == pytest.approx(0.60588, abs=1e-4)
    assert hedges["ci_low"] < hedges["estimate"] < hedges["ci_high"]
    assert hedges["computation"].startswith("Hedges' g from means and standard deviations")
    assert (hedges["mean_t"], hedges["sd_c"], hedges["n_control"]) == (12.5, 4.2, 58)
    assert ratio["measure"] == "risk_ratio"
    assert ratio["estimate"] < 1
    assert (ratio["events_t"], ratio["events_c"]) == (0, 6)
    assert "continuity correction of 0.5" in ratio["computation"]
    assert "zero events" in ratio["computation"]
    # The same computation text on the listed evaluation.
    listed = client.get("/api/v1/evaluations").json()["items"][0]["outcomes"]
    assert listed[1]["computation"] == ratio["computation"]


# --- bad input ---------------------------------------------------------------------------


def post_as_researcher(
    client: PortalClient, db_session: Session, evaluated: Programme, **overrides: Any
) -> Any:
    researcher = factories.member(member_type="researcher")
    return client.post(
        "/api/v1/evaluations",
        json=body_for(evaluated, **overrides),
        headers=bearer(db_session, researcher),
    )


def test_a_ci_that_does_not_contain_its_estimate_is_refused_at_the_estimate(
    client: PortalClient, db_session: Session, programme: Programme
) -> None:
    response = post_as_researcher(
        client,
        db_session,
        programme,
        outcomes=[outcome(), outcome(measure="smd", estimate=0.9, ci_low=0.1, ci_high=0.5)],
    )

    errors = errors_at(response)
    assert list(errors) == [("body", "outcomes", 1, "estimate")]
    assert errors["body", "outcomes", 1, "estimate"] == (
        "The confidence interval must contain the estimate."
    )
    first = post_as_researcher(
        client,
        db_session,
        programme,
        outcomes=[outcome(measure="smd", estimate=0.9, ci_low=0.1, ci_high=0.5)],
    )
    assert list(errors_at(first)) == [("body", "outcomes", 0, "estimate")]


def test_a_ratio_at_or_below_zero_is_refused(
    client: PortalClient, db_session: Session, programme: Programme
) -> None:
    response = post_as_researcher(
        client,
        db_session,
        programme,
        outcomes=[outcome(measure="odds_ratio", estimate=0, ci_low=-0.2, ci_high=0.9)],
    )

    errors = errors_at(response)
    assert errors["body", "outcomes", 0, "estimate"] == "A ratio must be greater than zero."
    assert errors["body", "outcomes", 0, "ci_low"] == "A ratio must be greater than zero."


def test_negative_sample_size_future_year_and_a_non_doi_are_refused_at_their_fields(
    client: PortalClient, db_session: Session, programme: Programme
) -> None:
    response = post_as_researcher(
        client,
        db_session,
        programme,
        sample_size=-5,
        year=date.today().year + 1,
        doi="not-a-doi",
    )

    errors = errors_at(response)
    assert set(errors) == {("body", "sample_size"), ("body", "year"), ("body", "doi")}
    assert errors["body", "sample_size"] == "The sample size cannot be negative."
    assert "cannot be from the future" in errors["body", "year"]
    assert "10.1000/xyz123" in errors["body", "doi"]
    assert db_session.query(Evaluation).count() == 0


def test_unknown_codes_and_wrong_types_are_refused_with_what_is_allowed(
    client: PortalClient, db_session: Session, programme: Programme
) -> None:
    codes = post_as_researcher(
        client,
        db_session,
        programme,
        design="anecdote",
        outcomes=[outcome(kind="mood")],
    )
    errors = errors_at(codes)
    assert "rct" in errors["body", "design"]
    assert "quasi_experimental" in errors["body", "design"]
    assert "abuse_or_offending" in errors["body", "outcomes", 0, "kind"]

    types = post_as_researcher(
        client, db_session, programme, authors="Weber", outcomes=[outcome(estimate="lots")]
    )
    assert {("body", "authors"), ("body", "outcomes", 0, "estimate")} <= set(errors_at(types))
    extra = post_as_researcher(client, db_session, programme, programme="Safe Families")
    assert ("body", "programme") in errors_at(extra)
    missing = post_as_researcher(client, db_session, programme, programme_ids=[])
    assert "programme" in errors_at(missing)["body", "programme_ids"]
    unknown = post_as_researcher(client, db_session, programme, programme_ids=[2_147_483_647])
    assert "2147483647" in errors_at(unknown)["body", "programme_ids"]


def test_field_keys_with_dots_become_locations() -> None:
    assert _error_location("outcomes.0.ci_low") == ["outcomes", 0, "ci_low"]
    assert _error_location("outcomes.12.name") == ["outcomes", 12, "name"]
    assert _error_location("sample_size") == ["sample_size"]


# --- reading -----------------------------------------------------------------------------


def test_members_only_evaluations_are_invisible_to_anonymous_callers(
    client: PortalClient, db_session: Session, programme: Programme
) -> None:
    researcher = factories.member(member_type="researcher")
    create(db_session, researcher, programme, title="Open trial")
    hidden = create(db_session, researcher, programme, title="Closed trial", visibility="members")
    create(db_session, factories.member(), programme, title="Waiting trial")  # submitted
    lapsed = bearer(
        db_session,
        factories.member(status="lapsed", membership_expires_on=date.today() - timedelta(days=1)),
        "read",
    )
    db_session.commit()

    def titles(headers: Headers | None = None) -> tuple[list[str], int]:
        response = client.get("/api/v1/evaluations", headers=headers or {})
        assert response.status_code == 200, response.text
        page = response.json()
        return sorted(item["title"] for item in page["items"]), page["total"]

    assert titles() == (["Open trial"], 1)
    assert titles(lapsed) == (["Open trial"], 1)
    assert titles(bearer(db_session, factories.member(), "read")) == (
        ["Closed trial", "Open trial"],
        2,
    )
    assert_problem(client.get(f"/api/v1/evaluations/{hidden.id}"), 404)
    assert_problem(client.get(f"/api/v1/evaluations/{hidden.id}", headers=lapsed), 404)
    client.sign_in_as(db_session, factories.member())
    db_session.commit()
    assert client.get(f"/api/v1/evaluations/{hidden.id}").status_code == 200


def test_filters_sorting_and_pages(
    client: PortalClient, db_session: Session, programme: Programme
) -> None:
    other = factories.programme(title="School Safety", countries=["FR"], languages=["fr"])
    researcher = factories.member(member_type="researcher")
    create(db_session, researcher, programme, title="Alpha trial", year=2019)
    create(
        db_session,
        researcher,
        programme,
        title="Beta interviews",
        year=2022,
        design="qualitative",
        risk_of_bias="not_assessed",
        country="PT",
        authors=["Silva, Maria"],
        outcomes=[outcome(kind="knowledge_or_attitude", measure="smd", **SMD_FAVOURABLE)],
    )
    create(
        db_session,
        researcher,
        other,
        title="Gamma study",
        year=2024,
        design="quasi_experimental",
        risk_of_bias="some_concerns",
        country="FR",
    )

    def found(params: Any) -> list[str]:
        response = client.get("/api/v1/evaluations", params=params)
        assert response.status_code == 200, response.text
        return [item["title"] for item in response.json()["items"]]

    assert found({}) == ["Gamma study", "Beta interviews", "Alpha trial"]
    assert found({"sort": "oldest"}) == ["Alpha trial", "Beta interviews", "Gamma study"]
    assert found({"sort": "title"}) == ["Alpha trial", "Beta interviews", "Gamma study"]
    assert found({"design": "rct,qualitative", "sort": "title"}) == [
        "Alpha trial",
        "Beta interviews",
    ]
    assert found([("risk_of_bias", "low"), ("risk_of_bias", "some_concerns")]) == [
        "Gamma study",
        "Alpha trial",
    ]
    assert found({"country": "pt"}) == ["Beta interviews"]
    assert found({"year": 2019}) == ["Alpha trial"]
    assert found({"year_from": 2020, "year_to": 2023}) == ["Beta interviews"]
    assert found({"outcome_kind": "knowledge_or_attitude"}) == ["Beta interviews"]
    assert found({"programme_id": other.id}) == ["Gamma study"]
    assert found({"q": "silva"}) == ["Beta interviews"]
    assert found({"q": "alpha"}) == ["Alpha trial"]

    paged = client.get("/api/v1/evaluations", params={"per_page": 2, "page": 2}).json()
    assert [item["title"] for item in paged["items"]] == ["Alpha trial"]
    assert (paged["total"], paged["page"], paged["per_page"]) == (3, 2, 2)
    assert client.get("/api/v1/evaluations", params={"per_page": 500}).json()["per_page"] == 100
    item = client.get("/api/v1/evaluations", params={"q": "gamma"}).json()["items"][0]
    assert item["programme_ids"] == [other.id]
    assert item["outcomes"][0]["direction"] == "favourable"


SMD_FAVOURABLE = {"estimate": 0.4, "ci_low": 0.1, "ci_high": 0.7, "lower_is_better": False}


def test_unknown_filter_codes_are_refused_naming_the_parameter(client: PortalClient) -> None:
    design = errors_at(client.get("/api/v1/evaluations", params={"design": "rct,anecdote"}))
    assert list(design) == [("query", "design")]
    assert "anecdote" in design["query", "design"]
    assert "cluster_rct" in design["query", "design"]
    risk = errors_at(client.get("/api/v1/evaluations", params={"risk_of_bias": "tiny"}))
    assert "some_concerns" in risk["query", "risk_of_bias"]
    kind = errors_at(client.get("/api/v1/evaluations", params={"outcome_kind": "mood"}))
    assert "abuse_or_offending" in kind["query", "outcome_kind"]
    country = errors_at(client.get("/api/v1/evaluations", params={"country": "XX"}))
    assert "DE" in country["query", "country"]
    assert ("query", "sort") in errors_at(client.get("/api/v1/evaluations?sort=best"))
    assert ("query", "year") in errors_at(client.get("/api/v1/evaluations?year=20215"))
    assert ("query", "programme_id") in errors_at(
        client.get("/api/v1/evaluations?programme_id=99999999999")
    )


def test_who_sees_a_submitted_evaluation_and_who_gets_its_revision(
    client: PortalClient, db_session: Session, programme: Programme
) -> None:
    practitioner = factories.member(member_type="practitioner")
    evaluation = create(db_session, practitioner, programme)
    assert evaluation.status == "submitted"
    path = f"/api/v1/evaluations/{evaluation.id}"
    researcher = factories.member(member_type="researcher")
    here = factories.coordinator(["DE"])
    elsewhere = factories.coordinator(["FR"])
    db_session.commit()

    assert_problem(client.get(path), 404)
    assert_problem(client.get(path, headers=bearer(db_session, researcher, "read")), 404)
    assert_problem(client.get(path, headers=bearer(db_session, elsewhere, "read")), 404)
    for reader in (practitioner, here):
        response = client.get(path, headers=bearer(db_session, reader, "read"))
        assert response.status_code == 200, response.text
        seen = response.json()
        assert seen["status"] == "submitted"
        assert seen["revision"] == edit_token(db_session, evaluation)
        assert response.headers["ETag"] == f'"{seen["revision"]}"'
        assert seen["working_version"]["state"] == "submitted"
        assert [version["state"] for version in seen["versions"]] == ["submitted"]


def test_published_evaluations_show_no_revision_to_readers(
    client: PortalClient, db_session: Session, programme: Programme
) -> None:
    researcher = factories.member(member_type="researcher")
    evaluation = create(db_session, researcher, programme)
    path = f"/api/v1/evaluations/{evaluation.id}"

    for headers in (
        {},
        bearer(db_session, factories.member(), "read"),
        bearer(db_session, factories.coordinator(["FR"]), "coordinate"),
    ):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["revision"] is None
        assert "ETag" not in response.headers
    for editor in (researcher, factories.coordinator(["DE"])):
        seen = client.get(path, headers=bearer(db_session, editor, "read"))
        assert seen.json()["revision"] == edit_token(db_session, evaluation)
    assert_problem(client.get("/api/v1/evaluations/99999999"), 404)
    assert_problem(client.get("/api/v1/evaluations/99999999999999999999"), 404)


# --- editing -----------------------------------------------------------------------------


def test_an_edit_needs_the_revision_and_a_stale_one_is_refused(
    client: PortalClient, db_session: Session, programme: Programme
) -> None:
    researcher = factories.member(member_type="researcher")
    evaluation = create(db_session, researcher, programme)
    path = f"/api/v1/evaluations/{evaluation.id}"
    headers = bearer(db_session, researcher)
    read = client.get(path, headers=headers)
    etag = read.headers["ETag"]

    missing = client.patch(path, json={"follow_up_months": 24}, headers=headers)
    assert_problem(missing, 428)
    nothing = client.patch(path, json={}, headers={**headers, "If-Match": etag})
    assert_problem(nothing, 422)

    saved = client.patch(path, json={"follow_up_months": 24}, headers={**headers, "If-Match": etag})
    assert saved.status_code == 200, saved.text
    edited = saved.json()
    assert (edited["follow_up_months"], edited["version"], edited["status"]) == (24, 2, "published")
    assert [version["state"] for version in edited["versions"]] == ["published", "superseded"]
    assert edited["title"] == "A randomised trial of Safe Families"
    assert saved.headers["ETag"] != etag

    stale = client.patch(path, json={"sample_size": 300}, headers={**headers, "If-Match": etag})
    problem = assert_problem(stale, 409)
    assert problem["revision"] == edited["revision"]
    assert problem["fields"] == ["sample_size"]
    assert stale.headers["ETag"] == f'"{edited["revision"]}"'
    again = client.patch(
        path, json={"sample_size": 300, "revision": problem["revision"]}, headers=headers
    )
    assert again.status_code == 200, again.text
    assert again.json()["sample_size"] == 300


def test_who_may_edit(client: PortalClient, db_session: Session, programme: Programme) -> None:
    researcher = factories.member(member_type="researcher")
    evaluation = create(db_session, researcher, programme)
    path = f"/api/v1/evaluations/{evaluation.id}"

    def patch(headers: Headers, **fields: Any) -> Any:
        token = edit_token(db_session, evaluation)
        return client.patch(path, json={**fields, "revision": token}, headers=headers)

    assert_problem(patch({}, venue="Elsewhere"), 401)
    assert_problem(patch(bearer(db_session, researcher, "read"), venue="Elsewhere"), 403)
    for stranger in (
        factories.member(),
        factories.member(member_type="researcher"),
        factories.coordinator(["FR"]),
    ):
        assert_problem(patch(bearer(db_session, stranger), venue="Elsewhere"), 403)
    coordinator = patch(bearer(db_session, factories.coordinator(["DE"])), venue="Coordinated")
    assert coordinator.status_code == 200, coordinator.text
    assert coordinator.json()["venue"] == "Coordinated"
    author = patch(bearer(db_session, researcher), venue="Authored")
    assert author.json()["venue"] == "Authored"
    assert_problem(
        client.patch("/api/v1/evaluations/99999999", json={"venue": "x"}, headers={}), 401
    )


def test_a_practitioners_edit_waits_for_review_and_invalid_edits_say_where(
    client: PortalClient, db_session: Session, programme: Programme
) -> None:
    practitioner = factories.member(member_type="practitioner")
    evaluation = create(db_session, practitioner, programme)
    service.review(db_session, factories.coordinator(["DE"]), evaluation, "approve", "")
    path = f"/api/v1/evaluations/{evaluation.id}"
    headers = bearer(db_session, practitioner)
    token = edit_token(db_session, evaluation)

    invalid = client.patch(
        path,
        json={"revision": token, "outcomes": [outcome(ci_low=0.95, ci_high=0.99)]},
        headers=headers,
    )
    assert list(errors_at(invalid)) == [("body", "outcomes", 0, "estimate")]

    response = client.patch(
        path, json={"revision": token, "title": "A longer follow-up"}, headers=headers
    )
    assert response.status_code == 200, response.text
    seen = response.json()
    assert (seen["status"], seen["title"], seen["version"]) == (
        "published",
        "A randomised trial of Safe Families",
        1,
    )
    assert seen["working_version"]["state"] == "submitted"
    assert seen["working_version"]["content"]["title"] == "A longer follow-up"
    assert seen["working_version"]["content"]["outcomes"][0]["direction"] == "favourable"
    public = client.get(path).json()
    assert public["title"] == "A randomised trial of Safe Families"
    assert public["working_version"] is None
    assert [version["state"] for version in public["versions"]] == ["published"]

    draft = client.patch(
        path,
        json={"revision": seen["revision"], "abstract": "Kept aside.", "publish": False},
        headers=headers,
    )
    assert draft.json()["working_version"]["state"] == "draft"
    published = client.patch(
        path, json={"revision": draft.json()["revision"]}, headers=headers
    ).json()
    assert published["working_version"]["state"] == "submitted"


# --- review and unpublishing -------------------------------------------------------------


def test_a_coordinator_of_the_country_reviews_a_submission(
    client: PortalClient, db_session: Session, programme: Programme
) -> None:
    practitioner = factories.member(member_type="practitioner")
    evaluation = create(db_session, practitioner, programme)
    path = f"/api/v1/evaluations/{evaluation.id}/review"
    here = factories.coordinator(["DE"])
    approve = {"decision": "approve"}
    db_session.commit()

    assert_problem(client.post(path, json=approve), 401)
    assert_problem(client.post(path, json=approve, headers=bearer(db_session, practitioner)), 403)
    assert_problem(
        client.post(path, json=approve, headers=bearer(db_session, factories.member())), 403
    )
    assert_problem(client.post(path, json=approve, headers=bearer(db_session, here, "write")), 403)
    elsewhere = bearer(db_session, factories.coordinator(["FR"]), "coordinate")
    assert_problem(client.post(path, json=approve, headers=elsewhere), 404)
    coordinate = bearer(db_session, here, "coordinate")
    no_reason = client.post(path, json={"decision": "reject"}, headers=coordinate)
    assert list(errors_at(no_reason)) == [("body", "comment")]
    assert ("body", "decision") in errors_at(
        client.post(path, json={"decision": "maybe"}, headers=coordinate)
    )

    approved = client.post(path, json=approve, headers=coordinate)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "published"
    assert approved.json()["versions"][0]["state"] == "published"
    assert_problem(client.post(path, json=approve, headers=coordinate), 409)
    assert client.get(f"/api/v1/evaluations/{evaluation.id}").status_code == 200


def test_a_rejection_reaches_the_author_with_its_reason(
    client: PortalClient, db_session: Session, programme: Programme
) -> None:
    practitioner = factories.member(member_type="practitioner")
    evaluation = create(db_session, practitioner, programme)
    coordinate = bearer(db_session, factories.coordinator(network=True), "coordinate")

    response = client.post(
        f"/api/v1/evaluations/{evaluation.id}/review",
        json={"decision": "reject", "comment": "This is a conference abstract."},
        headers=coordinate,
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "rejected"
    seen = client.get(
        f"/api/v1/evaluations/{evaluation.id}", headers=bearer(db_session, practitioner, "read")
    ).json()
    assert seen["versions"][0]["decision_comment"] == "This is a conference abstract."


def test_a_coordinator_unpublishes_with_a_reason(
    client: PortalClient, db_session: Session, programme: Programme
) -> None:
    researcher = factories.member(member_type="researcher")
    evaluation = create(db_session, researcher, programme)
    path = f"/api/v1/evaluations/{evaluation.id}/unpublish"
    reason = {"reason": "Retracted by the journal."}
    coordinate = bearer(db_session, factories.coordinator(["PT"]), "coordinate")

    assert_problem(client.post(path, json=reason), 401)
    assert_problem(client.post(path, json=reason, headers=bearer(db_session, researcher)), 403)
    elsewhere = bearer(db_session, factories.coordinator(["FR"]), "coordinate")
    assert_problem(client.post(path, json=reason, headers=elsewhere), 403)
    assert list(errors_at(client.post(path, json={"reason": " "}, headers=coordinate))) == [
        ("body", "reason")
    ]
    assert ("body", "reason") in errors_at(client.post(path, json={}, headers=coordinate))

    response = client.post(path, json=reason, headers=coordinate)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["unpublish_reason"]) == (
        "unpublished",
        "Retracted by the journal.",
    )
    assert_problem(client.post(path, json=reason, headers=coordinate), 409)
    assert_problem(client.get(f"/api/v1/evaluations/{evaluation.id}"), 404)
    assert client.get("/api/v1/evaluations").json()["total"] == 0


# --- a programme's evidence --------------------------------------------------------------


def test_two_rigorous_trials_posted_by_a_researcher_make_the_programme_effective(
    client: PortalClient, db_session: Session, programme: Programme
) -> None:
    path = f"/api/v1/programmes/{programme.id}/evidence"
    before = client.get(path)
    assert before.status_code == 200, before.text
    unrated = before.json()
    assert (unrated["rating"]["level"], unrated["rating"]["label"]) == (
        "not_rated",
        "Not yet rated",
    )
    assert unrated["rating"]["raise_by"]
    assert (unrated["pooled"], unrated["evaluations"]) == ([], [])

    headers = bearer(db_session, factories.member(member_type="researcher"))
    first = client.post(
        "/api/v1/evaluations",
        json=body_for(programme, title="First trial", follow_up_months=12),
        headers=headers,
    )
    second = client.post(
        "/api/v1/evaluations",
        json=body_for(
            programme,
            title="Second trial",
            doi=None,
            year=2023,
            follow_up_months=6,
            outcomes=[outcome(estimate=0.7, ci_low=0.55, ci_high=0.88)],
        ),
        headers=headers,
    )
    assert (first.status_code, second.status_code) == (201, 201)
    ids = {first.json()["id"], second.json()["id"]}

    evidence = client.get(path).json()
    rating = evidence["rating"]
    assert (rating["level"], rating["label"], rating["rule"]) == (
        "effective",
        "Effective",
        "effective_two_rigorous",
    )
    assert rating["computed_level"] == "effective"
    assert rating["overridden"] is False
    assert rating["justification"] is None
    assert rating["reviewed_on"] == date.today().isoformat()
    assert rating["due_for_review"] is False
    assert rating["raise_by"] == []
    assert rating["reasons"]
    assert ids <= {number for reason in rating["reasons"] for number in reason["evaluation_ids"]}
    [pooled] = evidence["pooled"]
    assert (pooled["kind"], pooled["measure"], pooled["studies"]) == (
        "abuse_or_offending",
        "risk_ratio",
        2,
    )
    assert pooled["ci_low"] < pooled["estimate"] < pooled["ci_high"] < 1
    assert pooled["tau2"] >= 0
    assert 0 <= pooled["i2"] <= 1
    assert pooled["lower_is_better"] is True
    assert [item["title"] for item in evidence["evaluations"]] == ["Second trial", "First trial"]
    assert evidence["evaluations"][0]["programme_ids"] == [programme.id]
    assert evidence["registry_ratings"] == []


def test_evidence_shows_an_override_and_hides_members_only_studies(
    client: PortalClient, db_session: Session, programme: Programme
) -> None:
    researcher = factories.member(member_type="researcher")
    create(db_session, researcher, programme, title="Open trial")
    create(db_session, researcher, programme, title="Closed trial", visibility="members")
    from app.evidence import ratings

    ratings.override(
        db_session,
        factories.coordinator(network=True),
        programme.id,
        "promising",
        "Both trials were run by the programme's developers.",
    )
    db_session.commit()
    path = f"/api/v1/programmes/{programme.id}/evidence"

    anonymous = client.get(path).json()
    member = client.get(path, headers=bearer(db_session, factories.member(), "read")).json()

    for seen in (anonymous, member):
        assert seen["rating"]["level"] == "promising"
        assert seen["rating"]["computed_level"] == "effective"
        assert seen["rating"]["overridden"] is True
        assert seen["rating"]["justification"].startswith("Both trials")
    assert [item["title"] for item in anonymous["evaluations"]] == ["Open trial"]
    assert anonymous["pooled"] == []
    assert sorted(item["title"] for item in member["evaluations"]) == [
        "Closed trial",
        "Open trial",
    ]
    assert member["pooled"][0]["studies"] == 2
    assert "Closed trial" not in str(anonymous)


def test_evidence_of_a_hidden_or_unknown_programme_is_not_found(
    client: PortalClient, db_session: Session
) -> None:
    hidden = factories.programme(visibility="members")
    draft = factories.programme(state="draft")
    db_session.commit()
    path = f"/api/v1/programmes/{hidden.id}/evidence"

    assert_problem(client.get(path), 404)
    assert client.get(path, headers=bearer(db_session, factories.member(), "read")).status_code == (
        200
    )
    assert_problem(client.get(f"/api/v1/programmes/{draft.id}/evidence"), 404)
    assert_problem(client.get("/api/v1/programmes/99999999/evidence"), 404)


# --- documentation -----------------------------------------------------------------------

ROUTES = [
    ("get", "/api/v1/evaluations", {"200", "401", "422"}),
    ("post", "/api/v1/evaluations", {"201", "401", "403", "422"}),
    ("get", "/api/v1/evaluations/{evaluation_id}", {"200", "401", "404", "422"}),
    (
        "patch",
        "/api/v1/evaluations/{evaluation_id}",
        {"200", "401", "403", "404", "409", "422", "428"},
    ),
    (
        "post",
        "/api/v1/evaluations/{evaluation_id}/review",
        {"200", "401", "403", "404", "409", "422"},
    ),
    (
        "post",
        "/api/v1/evaluations/{evaluation_id}/unpublish",
        {"200", "401", "403", "404", "409", "422"},
    ),
    ("get", "/api/v1/programmes/{programme_id}/evidence", {"200", "401", "404", "422"}),
]


@pytest.mark.parametrize(("method", "path", "statuses"), ROUTES)
def test_every_route_is_documented(
    client: PortalClient, method: str, path: str, statuses: set[str]
) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"][path][method]

    assert operation["summary"]
    assert operation["description"]
    assert operation["tags"] == ["evidence"]
    assert set(operation["responses"]) == statuses
    success = next(code for code in statuses if code.startswith("2"))
    assert "$ref" in str(operation["responses"][success]["content"])


def test_the_documented_models_name_the_codes(client: PortalClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    components = schema["components"]["schemas"]
    create_op = schema["paths"]["/api/v1/evaluations"]["post"]
    list_op = schema["paths"]["/api/v1/evaluations"]["get"]

    invalid = create_op["responses"]["422"]["content"]["application/problem+json"]["schema"]
    assert invalid["$ref"] == "#/components/schemas/ValidationProblem"
    assert "Location" in create_op["responses"]["201"]["headers"]
    design = components["EvaluationIn"]["properties"]["design"]
    assert "rct" in design["enum"]
    assert "risk_ratio" in components["OutcomeIn"]["properties"]["measure"]["enum"]
    assert "revision" in components["StaleEvaluationProblem"]["properties"]
    parameters = {parameter["name"] for parameter in list_op["parameters"]}
    assert {
        "design",
        "risk_of_bias",
        "country",
        "year",
        "year_from",
        "year_to",
        "outcome_kind",
        "programme_id",
        "q",
        "sort",
        "page",
        "per_page",
    } <= parameters
    levels = components["RatingOut"]["properties"]["level"]["enum"]
    assert tuple(levels) == RATING_LEVELS
    assert get_args(RatingLevel) == RATING_LEVELS


# --- every endpoint for every kind of caller ---------------------------------------------

ROLES = (
    "anonymous",
    "read token",
    "write token",
    "researcher",
    "coordinator here",
    "coordinator elsewhere",
)


def role_headers(session: Session, role: str) -> Headers:
    """Headers of a caller: a practitioner with a read or write token, a researcher with a
    write token, a coordinator of Germany or of France with a coordinate token."""
    if role == "anonymous":
        return {}
    if role == "read token":
        return bearer(session, factories.member(member_type="practitioner"), "read")
    if role == "write token":
        return bearer(session, factories.member(member_type="practitioner"), "write")
    if role == "researcher":
        return bearer(session, factories.member(member_type="researcher"), "write")
    countries = ["DE"] if role == "coordinator here" else ["FR"]
    return bearer(session, factories.coordinator(countries), "coordinate")


# Expected status (and, for reading, what is seen) per role. "here" coordinates Germany,
# the study's country; "elsewhere" coordinates France only.
MATRIX: dict[str, dict[str, Any]] = {
    "list": {
        "anonymous": 1,
        "read token": 2,
        "write token": 2,
        "researcher": 2,
        "coordinator here": 2,
        "coordinator elsewhere": 2,
    },
    "read members-only": {
        "anonymous": 404,
        "read token": 200,
        "write token": 200,
        "researcher": 200,
        "coordinator here": 200,
        "coordinator elsewhere": 200,
    },
    "read submitted": {
        "anonymous": 404,
        "read token": 404,
        "write token": 404,
        "researcher": 404,
        "coordinator here": 200,
        "coordinator elsewhere": 404,
    },
    "create": {
        "anonymous": 401,
        "read token": 403,
        "write token": "submitted",
        "researcher": "published",
        "coordinator here": "published",
        "coordinator elsewhere": "published",
    },
    "edit": {
        "anonymous": 401,
        "read token": 403,
        "write token": 403,
        "researcher": 403,
        "coordinator here": 200,
        "coordinator elsewhere": 403,
    },
    "review": {
        "anonymous": 401,
        "read token": 403,
        "write token": 403,
        "researcher": 403,
        "coordinator here": 200,
        "coordinator elsewhere": 404,
    },
    "unpublish": {
        "anonymous": 401,
        "read token": 403,
        "write token": 403,
        "researcher": 403,
        "coordinator here": 200,
        "coordinator elsewhere": 403,
    },
    "evidence": {
        "anonymous": 1,
        "read token": 2,
        "write token": 2,
        "researcher": 2,
        "coordinator here": 2,
        "coordinator elsewhere": 2,
    },
}


@pytest.mark.parametrize("role", ROLES)
def test_every_endpoint_for_every_caller(
    client: PortalClient, db_session: Session, programme: Programme, role: str
) -> None:
    author = factories.member(member_type="researcher")
    public = create(db_session, author, programme, title="Open trial")
    hidden = create(db_session, author, programme, title="Closed trial", visibility="members")
    submitted = create(db_session, factories.member(), programme, title="Waiting trial")
    headers = role_headers(db_session, role)
    seen: dict[str, Any] = {}

    listed = client.get("/api/v1/evaluations", headers=headers)
    seen["list"] = listed.json()["total"]
    seen["read members-only"] = client.get(
        f"/api/v1/evaluations/{hidden.id}", headers=headers
    ).status_code
    seen["read submitted"] = client.get(
        f"/api/v1/evaluations/{submitted.id}", headers=headers
    ).status_code
    created = client.post("/api/v1/evaluations", json=body_for(programme), headers=headers)
    seen["create"] = created.json()["status"] if created.status_code == 201 else created.status_code
    seen["edit"] = client.patch(
        f"/api/v1/evaluations/{public.id}",
        json={"venue": "Edited", "revision": edit_token(db_session, public)},
        headers=headers,
    ).status_code
    seen["review"] = client.post(
        f"/api/v1/evaluations/{submitted.id}/review", json={"decision": "approve"}, headers=headers
    ).status_code
    seen["unpublish"] = client.post(
        f"/api/v1/evaluations/{hidden.id}/unpublish",
        json={"reason": "Duplicate of another record."},
        headers=headers,
    ).status_code
    # The evidence as it stands after what this caller did (approval, unpublishing).
    evidence = client.get(f"/api/v1/programmes/{programme.id}/evidence", headers=headers)
    assert evidence.status_code == 200, evidence.text
    titles = {item["title"] for item in evidence.json()["evaluations"]}
    assert "Open trial" in titles
    seen["evidence"] = len(titles & {"Open trial", "Closed trial"})

    expected = {name: statuses[role] for name, statuses in MATRIX.items()}
    if role == "coordinator here":
        expected["evidence"] = 1  # the members-only trial was just unpublished
    assert seen == expected
