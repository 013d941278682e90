"""The applications API: public applying, coordinators' list and decisions, as problem JSON."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.applications.models import Application
from app.auth import api_tokens
from app.members.models import Member
from tests.applications.helpers import outbox, submit
from tests.conftest import PortalClient
from tests.factories import coordinator, member, organisation

VALID_BODY: dict[str, Any] = {
    "name": "Maria Example",
    "email": "maria@example.org",
    "country": "PT",
    "organisation_name": "Example Helpline",
    "organisation_type": "ngo",
    "member_type": "practitioner",
    "expertise": ["helplines"],
    "languages": ["pt", "en"],
    "motivation": "I run a helpline and would like to share what we learn.",
    "privacy_consent": True,
}


def body(**overrides: Any) -> dict[str, Any]:
    return {**VALID_BODY, **overrides}


def post_application(client: PortalClient, payload: dict[str, Any]) -> Any:
    """POST as a browser page would: with the session's CSRF token."""
    token = client.csrf_token("/apply")
    return client.post("/api/v1/applications", json=payload, headers={"X-CSRF-Token": token})


def bearer(session: Session, holder: Member, scope: str = "coordinate") -> dict[str, str]:
    _token, secret = api_tokens.create(session, holder, name="tests", scope=scope)
    session.commit()
    return {"Authorization": f"Bearer {secret}"}


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    return problem


# Applying


def test_anyone_applies_and_gets_the_id_and_status(
    client: PortalClient, db_session: Session
) -> None:
    response = post_application(client, body())

    assert response.status_code == 201
    application = db_session.scalars(select(Application)).one()
    assert response.json() == {"id": application.id, "status": "submitted"}
    assert application.proposed_organisation_name == "Example Helpline"
    assert [mail.recipient for mail in outbox(db_session)] == ["maria@example.org"]


def test_an_existing_organisation_is_chosen_by_id(
    client: PortalClient, db_session: Session
) -> None:
    employer = organisation(country="PT")
    db_session.commit()

    response = post_application(
        client,
        body(organisation_name=None, organisation_type=None, organisation_id=employer.id),
    )

    assert response.status_code == 201
    assert db_session.scalars(select(Application)).one().organisation_id == employer.id


def test_a_client_without_cookies_applies(app: FastAPI, db_session: Session) -> None:
    from app.db import get_session

    def session_override() -> Any:
        yield db_session
        db_session.commit()

    app.dependency_overrides[get_session] = session_override
    try:
        with PortalClient(app, base_url="http://testserver") as bare:
            response = bare.post("/api/v1/applications", json=body())
    finally:
        app.dependency_overrides.clear()

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "maria@"}, "email"),
        ({"country": "XX"}, "country"),
        ({"member_type": "spy"}, "member_type"),
        ({"expertise": ["astrology"]}, "expertise"),
        ({"languages": []}, "languages"),
        ({"motivation": ""}, "motivation"),
        ({"motivation": "x" * 5001}, "motivation"),
        ({"privacy_consent": False}, "privacy_consent"),
        ({"organisation_type": "club"}, "organisation_type"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(
    client: PortalClient, db_session: Session, changes: dict[str, Any], field: str
) -> None:
    response = post_application(client, body(**changes))

    problem = assert_problem(response, 422)
    assert ["body", field] in [error["loc"][:2] for error in problem["errors"]]
    assert db_session.scalars(select(Application)).all() == []


def test_an_organisation_is_required(client: PortalClient) -> None:
    response = post_application(client, body(organisation_name=None, organisation_type=None))

    problem = assert_problem(response, 422)
    assert "organisation_id or organisation_name" in problem["errors"][0]["msg"]


def test_a_missing_field_is_a_problem(client: PortalClient) -> None:
    payload = body()
    del payload["motivation"]

    problem = assert_problem(post_application(client, payload), 422)

    assert problem["errors"][0]["loc"] == ["body", "motivation"]


def test_the_email_of_a_member_is_a_conflict(client: PortalClient, db_session: Session) -> None:
    member(email="maria@example.org")
    db_session.commit()

    problem = assert_problem(post_application(client, body(email="MARIA@example.org")), 409)

    assert "A member already uses this e-mail address" in problem["detail"]
    assert db_session.scalars(select(Application)).all() == []


def test_the_email_of_an_open_application_is_a_conflict(
    client: PortalClient, db_session: Session
) -> None:
    submit(db_session)
    db_session.commit()

    problem = assert_problem(post_application(client, body()), 409)

    assert "already being reviewed" in problem["detail"]


# Listing


def test_listing_needs_a_coordinator(client: PortalClient, db_session: Session) -> None:
    plain = member()
    headers = bearer(db_session, plain, scope="read")

    assert_problem(client.get("/api/v1/applications"), 401)
    client.cookies.clear()
    assert_problem(client.get("/api/v1/applications", headers=headers), 403)


def test_a_coordinator_lists_the_applications_of_their_countries(
    client: PortalClient, db_session: Session
) -> None:
    first, _secret = submit(db_session, email="a@example.org")
    submit(db_session, email="b@example.org", country="DE")
    second, _secret = submit(db_session, email="c@example.org")
    headers = bearer(db_session, coordinator(["PT"]))

    response = client.get("/api/v1/applications", headers=headers)

    assert response.status_code == 200
    listed = response.json()
    assert [item["id"] for item in listed["items"]] == [first.id, second.id]
    assert (listed["total"], listed["page"], listed["per_page"]) == (2, 1, 25)
    item = listed["items"][0]
    assert item["email"] == "a@example.org"
    assert item["organisation_name"] == "Example Helpline"
    assert item["expertise"] == ["helplines", "online_safety"]
    assert item["status"] == "submitted"


def test_the_list_filters_and_pages(client: PortalClient, db_session: Session) -> None:
    for index in range(3):
        submit(db_session, email=f"p{index}@example.org")
    submit(db_session, email="de@example.org", country="DE")
    headers = bearer(db_session, coordinator(network=True))

    german = client.get("/api/v1/applications?country=de", headers=headers).json()
    assert [item["email"] for item in german["items"]] == ["de@example.org"]
    page = client.get("/api/v1/applications?per_page=2&page=2", headers=headers).json()
    assert page["total"] == 4
    assert [item["email"] for item in page["items"]] == ["p2@example.org", "de@example.org"]
    assert client.get("/api/v1/applications?status=approved", headers=headers).json() == {
        "items": [],
        "page": 1,
        "per_page": 25,
        "total": 0,
    }
    problem = assert_problem(client.get("/api/v1/applications?per_page=500", headers=headers), 422)
    assert problem["errors"][0]["loc"] == ["query", "per_page"]


def test_a_browser_session_of_a_coordinator_may_list(
    client: PortalClient, db_session: Session
) -> None:
    submit(db_session)
    client.sign_in_as(db_session, coordinator(["PT"]))

    assert client.get("/api/v1/applications").json()["total"] == 1


# Deciding


def test_a_coordinator_approves_through_the_api(client: PortalClient, db_session: Session) -> None:
    application, _secret = submit(db_session)
    headers = bearer(db_session, coordinator(["PT"]))

    response = client.post(
        f"/api/v1/applications/{application.id}/decision",
        json={"decision": "approve"},
        headers=headers,
    )

    assert response.status_code == 200
    decided = response.json()
    assert decided["status"] == "approved"
    assert decided["member_id"] is not None
    assert decided["organisation_name"] == "Example Helpline"
    assert "Welcome" in outbox(db_session, to="maria@example.org")[-1].subject


def test_reject_and_request_info_need_a_message(client: PortalClient, db_session: Session) -> None:
    application, _secret = submit(db_session)
    headers = bearer(db_session, coordinator(["PT"]))

    for decision in ("reject", "request_info"):
        response = client.post(
            f"/api/v1/applications/{application.id}/decision",
            json={"decision": decision, "message": " "},
            headers=headers,
        )
        problem = assert_problem(response, 422)
        assert "a message is required" in problem["errors"][0]["msg"]
    unknown = client.post(
        f"/api/v1/applications/{application.id}/decision",
        json={"decision": "maybe"},
        headers=headers,
    )
    assert assert_problem(unknown, 422)["errors"][0]["loc"] == ["body", "decision"]


def test_a_coordinator_of_another_country_gets_403(
    client: PortalClient, db_session: Session
) -> None:
    application, _secret = submit(db_session)
    headers = bearer(db_session, coordinator(["DE"]))

    response = client.post(
        f"/api/v1/applications/{application.id}/decision",
        json={"decision": "reject", "message": "No."},
        headers=headers,
    )

    assert_problem(response, 403)
    db_session.refresh(application)
    assert application.status == "submitted"


def test_the_second_decision_is_a_conflict_and_sends_no_mail(
    client: PortalClient, db_session: Session
) -> None:
    application, _secret = submit(db_session)
    first = bearer(db_session, coordinator(["PT"], full_name="Carla First"))
    second = bearer(db_session, coordinator(network=True))
    url = f"/api/v1/applications/{application.id}/decision"

    assert client.post(url, json={"decision": "reject", "message": "No."}, headers=first).is_success
    mails = len(outbox(db_session, to="maria@example.org"))
    response = client.post(url, json={"decision": "approve"}, headers=second)

    problem = assert_problem(response, 409)
    assert "already decided by Carla First at" in problem["detail"]
    assert len(outbox(db_session, to="maria@example.org")) == mails == 2


def test_deciding_an_unknown_application_is_404(client: PortalClient, db_session: Session) -> None:
    headers = bearer(db_session, coordinator(network=True))

    response = client.post(
        "/api/v1/applications/4242/decision", json={"decision": "approve"}, headers=headers
    )

    assert_problem(response, 404)


def test_a_read_token_of_a_coordinator_may_not_decide(
    client: PortalClient, db_session: Session
) -> None:
    application, _secret = submit(db_session)
    headers = bearer(db_session, coordinator(["PT"]), scope="write")

    response = client.post(
        f"/api/v1/applications/{application.id}/decision",
        json={"decision": "approve"},
        headers=headers,
    )

    assert_problem(response, 403)


# Documentation


def test_the_openapi_schema_documents_the_endpoints(client: PortalClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]

    create = paths["/api/v1/applications"]["post"]
    assert create["tags"] == ["applications"]
    assert "201" in create["responses"]
    assert "409" in create["responses"]
    assert "422" in create["responses"]
    assert paths["/api/v1/applications"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ] == {"$ref": "#/components/schemas/ApplicationList"}
    decision = paths["/api/v1/applications/{application_id}/decision"]["post"]
    assert {"403", "404", "409", "422"} <= set(decision["responses"])
    components = schema["components"]["schemas"]
    assert {"ApplicationCreate", "ApplicationCreated", "DecisionIn", "Problem"} <= set(components)
    assert "privacy_consent" in components["ApplicationCreate"]["required"]
