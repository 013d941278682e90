"""The organisations API: a public list and detail, creation by coordinators."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.auth import api_tokens
from app.members.models import Member
from app.organisations import api as organisations_api
from app.organisations.models import Organisation
from tests.conftest import PortalClient
from tests.factories import coordinator, member, organisation


def bearer(session: Session, holder: Member, scope: str) -> dict[str, str]:
    _token, secret = api_tokens.create(session, holder, name="tests", scope=scope)
    session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_anyone_lists_organisations_with_filters_and_pages(
    client: PortalClient, db_session: Session
) -> None:
    helpline = organisation(
        name="Helpline Lisboa", country="PT", organisation_type="ngo", website="https://h.example"
    )
    organisation(name="Berlin Institute", country="DE", organisation_type="university")
    for number in range(3):
        organisation(name=f"Zeta Paged {number}", country="PT")

    everything = client.get("/api/v1/organisations").json()
    by_name = client.get("/api/v1/organisations", params={"q": "lisboa"}).json()
    by_country = client.get("/api/v1/organisations", params={"country": "de"}).json()
    paged = client.get(
        "/api/v1/organisations", params={"q": "zeta", "page": 2, "per_page": 2}
    ).json()

    assert everything["total"] == 5
    assert by_name["items"] == [
        {
            "id": helpline.id,
            "name": "Helpline Lisboa",
            "country": "PT",
            "type": "ngo",
            "website": "https://h.example",
        }
    ]
    assert [item["name"] for item in by_country["items"]] == ["Berlin Institute"]
    assert paged["total"] == 3
    assert (paged["page"], paged["per_page"]) == (2, 2)
    assert [item["name"] for item in paged["items"]] == ["Zeta Paged 2"]


def test_one_organisation_and_a_missing_one(client: PortalClient, db_session: Session) -> None:
    found = organisation(name="Helpline Lisboa", country="PT")
    db_session.commit()

    response = client.get(f"/api/v1/organisations/{found.id}")
    missing = client.get("/api/v1/organisations/999999")

    assert response.status_code == 200
    assert response.json()["name"] == "Helpline Lisboa"
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


def test_a_coordinator_creates_an_organisation(client: PortalClient, db_session: Session) -> None:
    headers = bearer(db_session, coordinator(["PT"], full_name="Paula"), "coordinate")

    response = client.post(
        "/api/v1/organisations",
        json={
            "name": "Helpline Lisboa",
            "country": "pt",
            "type": "ngo",
            "website": "https://h.example",
        },
        headers=headers,
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["country"] == "PT"
    created = db_session.get(Organisation, body["id"])
    assert created is not None
    assert created.name == "Helpline Lisboa"
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "organisation.create")
    ).one()
    assert event.actor_label == "Paula"


def test_the_same_name_in_the_same_country_is_a_conflict(
    client: PortalClient, db_session: Session
) -> None:
    existing = organisation(name="Helpline Lisboa", country="PT")
    headers = bearer(db_session, coordinator(network=True), "coordinate")

    conflict = client.post(
        "/api/v1/organisations",
        json={"name": "helpline lisboa", "country": "PT", "type": "ngo"},
        headers=headers,
    )
    elsewhere = client.post(
        "/api/v1/organisations",
        json={"name": "Helpline Lisboa", "country": "ES", "type": "ngo"},
        headers=headers,
    )

    assert conflict.status_code == 409
    assert conflict.headers["content-type"].startswith("application/problem+json")
    assert conflict.json()["existing_id"] == existing.id
    assert elsewhere.status_code == 201


def test_bad_input_is_a_422_problem(client: PortalClient, db_session: Session) -> None:
    headers = bearer(db_session, coordinator(network=True), "coordinate")

    for body in (
        {"name": "", "country": "PT", "type": "ngo"},
        {"name": "X", "country": "ZZ", "type": "ngo"},
        {"name": "X", "country": "PT", "type": "club"},
        {"name": "X", "country": "PT", "type": "ngo", "website": "javascript:alert(1)"},
        {"name": "X", "country": "PT"},
    ):
        response = client.post("/api/v1/organisations", json=body, headers=headers)
        assert response.status_code == 422, body
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"]


def test_only_coordinators_create_organisations(client: PortalClient, db_session: Session) -> None:
    body = {"name": "New", "country": "PT", "type": "ngo"}
    unknown_token = client.post(
        "/api/v1/organisations", json=body, headers={"Authorization": "Bearer not-a-token"}
    )
    as_member = client.post(
        "/api/v1/organisations", json=body, headers=bearer(db_session, member(), "write")
    )
    write_scope = client.post(
        "/api/v1/organisations",
        json=body,
        headers=bearer(db_session, coordinator(network=True), "write"),
    )

    assert unknown_token.status_code == 401
    assert as_member.status_code == 403
    assert write_scope.status_code == 403
    assert db_session.scalars(select(Organisation).where(Organisation.name == "New")).all() == []


def test_a_coordinator_creates_one_from_the_browser_session(
    client: PortalClient, db_session: Session
) -> None:
    client.sign_in_as(db_session, coordinator(["PT"]))

    response = client.post(
        "/api/v1/organisations",
        json={"name": "From The Browser", "country": "PT", "type": "other"},
        headers={"X-CSRF-Token": client.csrf_token("/")},
    )

    assert response.status_code == 201
    assert response.json()["type"] == "other"


def test_the_api_is_documented() -> None:
    # This router alone, so the check does not depend on the other routers' schemas.
    documented = FastAPI()
    documented.include_router(organisations_api.router)
    schema = documented.openapi()

    operations = schema["paths"]["/api/v1/organisations"]
    assert operations["get"]["tags"] == ["organisations"]
    assert "201" in operations["post"]["responses"]
    assert "409" in operations["post"]["responses"]
    assert "/api/v1/organisations/{organisation_id}" in schema["paths"]
    assert set(schema["components"]["schemas"]["OrganisationOut"]["properties"]) == {
        "id",
        "name",
        "country",
        "type",
        "website",
    }


def test_an_organisation_id_too_large_to_exist_is_404(
    client: PortalClient, db_session: Session
) -> None:
    response = client.get("/api/v1/organisations/99999999999999999999999")

    assert response.status_code == 404
