"""The members API: /api/v1/me, /api/v1/members and /api/v1/members/{id}."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from app.auth import api_tokens
from app.members.models import Member, MemberExpertise, MemberLanguage
from tests.conftest import PortalClient
from tests.factories import coordinator, member, organisation


def bearer(session: Session, owner: Member, scope: str = "read") -> dict[str, str]:
    secret = api_tokens.create(session, owner, name="Tests", scope=scope)[1]
    session.commit()
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def private_member(db_session: Session) -> Member:
    """A member in Portugal who shows country and bio to coordinators only."""
    org = organisation(name="Private Org", country="PT")
    hidden = member(
        full_name="Private Paula",
        email="paula@example.org",
        country="PT",
        member_type="researcher",
        bio="Works on helplines.",
        organisations=[org],
        expertise=[MemberExpertise(area="helplines")],
        languages=[MemberLanguage(language="pt")],
        profile_visibility={"country": "coordinators", "bio": "coordinators"},
    )
    db_session.commit()
    return hidden


# Who may call


def test_anonymous_callers_get_a_401_problem(client: PortalClient) -> None:
    for path in ("/api/v1/me", "/api/v1/members", "/api/v1/members/1"):
        response = client.get(path)

        assert response.status_code == 401, path
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 401
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_unknown_and_revoked_tokens_get_401(client: PortalClient, db_session: Session) -> None:
    owner = member()
    token, secret = api_tokens.create(db_session, owner, name="Soon revoked", scope="read")
    db_session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/members", headers=headers).status_code == 200

    api_tokens.revoke(db_session, owner.id, token.id)
    db_session.commit()

    assert client.get("/api/v1/members", headers=headers).status_code == 401
    unknown = {"Authorization": "Bearer pnp_not-a-real-token"}
    assert client.get("/api/v1/me", headers=unknown).status_code == 401


def test_a_suspended_members_token_gets_401(client: PortalClient, db_session: Session) -> None:
    suspended = member()
    headers = bearer(db_session, suspended)
    suspended.status = "suspended"
    db_session.commit()

    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.get("/api/v1/members", headers=headers).status_code == 401


def test_lapsed_members_see_themselves_but_not_the_directory(
    client: PortalClient, db_session: Session
) -> None:
    lapsed = member(status="lapsed", membership_expires_on=date.today() - timedelta(days=1))
    headers = bearer(db_session, lapsed)

    me = client.get("/api/v1/me", headers=headers)
    members = client.get("/api/v1/members", headers=headers)

    assert me.status_code == 200
    assert me.json()["status"] == "lapsed"
    assert members.status_code == 403
    assert members.headers["content-type"] == "application/problem+json"


def test_a_read_token_works_on_get_and_records_its_use(
    client: PortalClient, db_session: Session
) -> None:
    owner = member()
    token, secret = api_tokens.create(db_session, owner, name="Reader", scope="read")
    db_session.commit()

    response = client.get("/api/v1/members", headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 200
    db_session.refresh(token)
    assert token.last_used_at is not None


def test_the_browser_session_works_too(client: PortalClient, db_session: Session) -> None:
    own = member(full_name="Browser Caller")
    client.sign_in_as(db_session, own)

    assert client.get("/api/v1/me").json()["full_name"] == "Browser Caller"


# /me


def test_me_returns_the_full_own_profile(client: PortalClient, db_session: Session) -> None:
    org = organisation(name="Own Org", country="PT")
    own = member(
        email="me@example.org",
        full_name="Me Myself",
        country="PT",
        organisations=[org],
        expertise=[MemberExpertise(area="policy")],
        languages=[MemberLanguage(language="pt")],
        bio="About me.",
        profile_visibility={"bio": "coordinators"},
    )
    headers = bearer(db_session, own)

    data = client.get("/api/v1/me", headers=headers).json()

    assert data["email"] == "me@example.org"
    assert data["full_name"] == "Me Myself"
    assert data["role"] == "member"
    assert data["status"] == "active"
    assert own.membership_expires_on is not None
    assert data["membership_expires_on"] == own.membership_expires_on.isoformat()
    assert data["organisations"] == [{"id": org.id, "name": "Own Org", "country": "PT"}]
    assert data["expertise"] == ["policy"]
    assert data["languages"] == ["pt"]
    assert data["bio"] == "About me."
    assert data["profile_visibility"]["bio"] == "coordinators"
    assert data["profile_visibility"]["country"] == "members"


# /members and /members/{id}


def test_members_see_only_what_others_show_them(
    client: PortalClient, db_session: Session, private_member: Member
) -> None:
    headers = bearer(db_session, member())

    listed = client.get("/api/v1/members?q=paula", headers=headers).json()
    single = client.get(f"/api/v1/members/{private_member.id}", headers=headers).json()

    assert listed["total"] == 1
    for data in (listed["items"][0], single):
        assert data["full_name"] == "Private Paula"
        assert data["member_type"] == "researcher"
        assert data["organisations"][0]["name"] == "Private Org"
        assert data["expertise"] == ["helplines"]
        assert data["languages"] == ["pt"]
        assert data["country"] is None
        assert data["bio"] is None
        assert data["email"] is None


def test_email_addresses_never_appear_in_member_json(
    client: PortalClient, db_session: Session, private_member: Member
) -> None:
    headers = bearer(db_session, member())

    for path in ("/api/v1/members", f"/api/v1/members/{private_member.id}"):
        assert "paula@example.org" not in client.get(path, headers=headers).text


def test_coordinators_see_hidden_fields_and_email(
    client: PortalClient, db_session: Session, private_member: Member
) -> None:
    headers = bearer(db_session, coordinator(["DE"]))

    data = client.get(f"/api/v1/members/{private_member.id}", headers=headers).json()
    found = client.get("/api/v1/members?country=PT", headers=headers).json()

    assert data["country"] == "PT"
    assert data["bio"] == "Works on helplines."
    assert data["email"] == "paula@example.org"
    assert [item["full_name"] for item in found["items"]] == ["Private Paula"]


def test_a_filter_on_a_hidden_field_does_not_match(
    client: PortalClient, db_session: Session, private_member: Member
) -> None:
    member(full_name="Open Olga", country="PT")
    headers = bearer(db_session, member(country="DE"))

    found = client.get("/api/v1/members?country=PT", headers=headers).json()
    by_type = client.get("/api/v1/members?member_type=researcher", headers=headers).json()

    assert [item["full_name"] for item in found["items"]] == ["Open Olga"]
    assert [item["full_name"] for item in by_type["items"]] == ["Private Paula"]


def test_the_member_sees_own_hidden_fields(
    client: PortalClient, db_session: Session, private_member: Member
) -> None:
    headers = bearer(db_session, private_member)

    data = client.get(f"/api/v1/members/{private_member.id}", headers=headers).json()

    assert data["country"] == "PT"
    assert data["email"] == "paula@example.org"


def test_filters_and_pages(client: PortalClient, db_session: Session) -> None:
    org = organisation(name="Filter Org")
    for number in range(5):
        member(
            full_name=f"Filtered {number}",
            organisations=[org],
            expertise=[MemberExpertise(area="training")],
            languages=[MemberLanguage(language="fr")],
        )
    member(full_name="Filtered Outsider")
    headers = bearer(db_session, member())

    base = "/api/v1/members?q=filtered"
    page = client.get(f"{base}&organisation_id={org.id}&per_page=2&page=3", headers=headers)
    by_expertise = client.get(f"{base}&expertise=training&language=fr", headers=headers).json()

    assert page.json()["total"] == 5
    assert page.json()["pages"] == 3
    assert [item["full_name"] for item in page.json()["items"]] == ["Filtered 4"]
    assert by_expertise["total"] == 5


def test_bad_parameters_get_a_422_problem(client: PortalClient, db_session: Session) -> None:
    headers = bearer(db_session, member())

    for query in ("per_page=101", "page=0", "country=XX", "expertise=juggling"):
        response = client.get(f"/api/v1/members?{query}", headers=headers)

        assert response.status_code == 422, query
        assert response.headers["content-type"] == "application/problem+json"


def test_invisible_members_are_not_found(client: PortalClient, db_session: Session) -> None:
    suspended = member(status="suspended")
    erased = member(status="erased")
    headers = bearer(db_session, member())

    for member_id in (suspended.id, erased.id, 999999):
        response = client.get(f"/api/v1/members/{member_id}", headers=headers)

        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


# OpenAPI


def test_the_api_is_documented_with_its_bearer_scheme(client: PortalClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()

    schemes = schema["components"]["securitySchemes"]
    assert any(item["type"] == "http" and item["scheme"] == "bearer" for item in schemes.values())
    for path in ("/api/v1/me", "/api/v1/members", "/api/v1/members/{member_id}"):
        operation = schema["paths"][path]["get"]
        assert operation["tags"] == ["members"]
        assert operation["security"]
        assert "$ref" in str(operation["responses"]["200"])
    assert {"Me", "MemberOut", "MemberPage"} <= set(schema["components"]["schemas"])


# Numbers beyond what the database stores


TOO_LARGE = "99999999999999999999999"


def test_an_id_or_page_too_large_to_exist_is_not_a_server_error(
    client: PortalClient, db_session: Session
) -> None:
    headers = bearer(db_session, member())

    missing = client.get(f"/api/v1/members/{TOO_LARGE}", headers=headers)
    far_page = client.get(f"/api/v1/members?page={TOO_LARGE}", headers=headers)

    assert missing.status_code == 404
    assert far_page.status_code == 200
    assert far_page.json()["items"] == []
