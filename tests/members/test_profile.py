"""The member's own profile, the download of their data, and deleting the account."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.applications.models import Application, ApplicationMessage
from app.audit.models import AuditEvent
from app.auth import api_tokens, sessions
from app.auth.models import (
    AccountToken,
    ApiToken,
    OidcIdentity,
    RecoveryCode,
    SignInAttempt,
    UserSession,
)
from app.db import utcnow
from app.kit.tokens import hash_token
from app.members.models import Member, MemberExpertise, MemberLanguage, member_organisation
from app.outbox.models import OutboxMessage
from tests.conftest import PortalClient
from tests.factories import DEFAULT_PASSWORD, TEST_TOTP_SECRET, coordinator, member, organisation


def profile_form(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "full_name": "Ana Example",
        "country": "PT",
        "organisations": [],
        "expertise": [],
        "languages": [],
        "bio": "",
    }
    values.update(overrides)
    return values


def post_profile(client: PortalClient, data: dict[str, Any]) -> Any:
    token = client.csrf_token("/account/profile")
    return client.post(
        "/account/profile", data={"csrf_token": token, **data}, follow_redirects=False
    )


def load(db_session: Session, member_id: int) -> Member:
    db_session.expire_all()
    found = db_session.get(Member, member_id)
    assert found is not None
    return found


# The profile form


def test_the_profile_needs_a_signed_in_member(client: PortalClient) -> None:
    response = client.get("/account/profile", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in")


def test_lapsed_members_can_edit_their_profile(client: PortalClient, db_session: Session) -> None:
    lapsed = member(status="lapsed", membership_expires_on=date.today() - timedelta(days=1))
    client.sign_in_as(db_session, lapsed)

    assert client.get("/account/profile").status_code == 200


def test_the_profile_form_shows_type_and_role_read_only(
    client: PortalClient, db_session: Session
) -> None:
    org = organisation(name="Current Org")
    own = member(member_type="researcher", role="member", organisations=[org])
    client.sign_in_as(db_session, own)

    html = client.get("/account/profile").text

    assert "Researcher" in html
    assert "Member" in html
    assert 'name="member_type"' not in html
    assert 'name="role"' not in html
    assert f'name="organisations" value="{org.id}" checked' in html
    assert '<a href="/account/profile" aria-current="page">Profile</a>' in html


def test_a_member_saves_every_field_of_the_profile(
    client: PortalClient, db_session: Session
) -> None:
    first, second, third = (organisation(name=f"Org {n}") for n in (1, 2, 3))
    own = member(full_name="Old Name", country="DE", organisations=[first, second])
    client.sign_in_as(db_session, own)

    response = post_profile(
        client,
        profile_form(
            full_name="  New Name ",
            country="pt",
            # Leaves the first organisation, keeps the second, joins the third.
            organisations=[str(second.id)],
            add_organisation=str(third.id),
            expertise=["helplines", "policy"],
            languages=["pt", "en"],
            bio="I run a helpline.\r\n\r\nAsk me about training.",
            visibility_country="coordinators",
            visibility_bio="coordinators",
        ),
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/account/profile?saved=1"
    saved = load(db_session, own.id)
    db_session.refresh(saved, ["organisations", "expertise", "languages"])
    assert saved.full_name == "New Name"
    assert saved.country == "PT"
    assert sorted(item.id for item in saved.organisations) == sorted([second.id, third.id])
    assert sorted(item.area for item in saved.expertise) == ["helplines", "policy"]
    assert sorted(item.language for item in saved.languages) == ["en", "pt"]
    assert saved.bio == "I run a helpline.\n\nAsk me about training."
    assert saved.field_visibility("country") == "coordinators"
    assert saved.field_visibility("bio") == "coordinators"
    assert saved.field_visibility("expertise") == "members"
    assert "Your profile has been saved." in client.get("/account/profile?saved=1").text


def test_saving_again_keeps_unchanged_expertise_and_languages(
    client: PortalClient, db_session: Session
) -> None:
    org = organisation()
    own = member(
        organisations=[org],
        expertise=[MemberExpertise(area="policy")],
        languages=[MemberLanguage(language="de")],
    )
    client.sign_in_as(db_session, own)

    response = post_profile(
        client,
        profile_form(
            organisations=[str(org.id)],
            expertise=["policy", "training"],
            languages=["de"],
        ),
    )

    assert response.status_code == 303
    saved = load(db_session, own.id)
    db_session.refresh(saved, ["expertise", "languages"])
    assert sorted(item.area for item in saved.expertise) == ["policy", "training"]
    assert [item.language for item in saved.languages] == ["de"]


def test_errors_are_shown_at_each_field_and_the_input_is_kept(
    client: PortalClient, db_session: Session
) -> None:
    org = organisation(name="Kept Org")
    own = member(full_name="Unchanged Name", organisations=[org])
    client.sign_in_as(db_session, own)
    db_session.commit()

    response = post_profile(
        client,
        profile_form(
            full_name="",
            country="XX",
            organisations=[],
            expertise=["helplines"],
            bio="b" * 2001,
            visibility_country="everyone",
        ),
    )
    html = response.text

    assert response.status_code == 422
    assert 'id="full_name-error">Enter your full name.' in html
    assert 'id="country-error">Choose your country.' in html
    assert 'id="organisations-error">Choose at least one organisation you belong to.' in html
    assert 'id="bio-error">Write at most 2000 characters (you wrote 2001).' in html
    assert 'id="visibility_country-error"' in html
    assert 'aria-describedby="full_name-error"' in html
    assert 'aria-invalid="true"' in html
    # What was typed comes back: the bio, the ticked expertise, the unticked organisation.
    assert "b" * 2001 in html
    assert 'value="helplines" checked' in html
    assert f'name="organisations" value="{org.id}" >' in html
    assert load(db_session, own.id).full_name == "Unchanged Name"


def test_an_unknown_organisation_is_refused(client: PortalClient, db_session: Session) -> None:
    own = member()
    organisation()
    client.sign_in_as(db_session, own)
    db_session.commit()

    response = post_profile(client, profile_form(organisations=["999999"]))

    assert response.status_code == 422
    assert "Choose organisations from the list." in response.text


def test_the_profile_page_needs_few_queries(client: PortalClient, db_session: Session) -> None:
    from tests.directory.test_directory import counting_queries

    orgs = [organisation() for _ in range(5)]
    own = member(
        organisations=orgs,
        expertise=[MemberExpertise(area="policy"), MemberExpertise(area="training")],
        languages=[MemberLanguage(language="de")],
    )
    client.sign_in_as(db_session, own)
    connection = db_session.connection()

    with counting_queries(connection) as statements:
        assert client.get("/account/profile").status_code == 200

    # The session, every organisation (the member's flagged), expertise, languages.
    assert len(statements) <= 4, "\n".join(s[:90] for s in statements)


# Download of the member's data


@pytest.fixture
def rich_member(db_session: Session) -> Member:
    """A member with something in every kind of record the portal keeps."""
    org = organisation(name="Export Org")
    own = member(
        email="export.me@example.org",
        full_name="Export Me",
        organisations=[org],
        expertise=[MemberExpertise(area="helplines")],
        languages=[MemberLanguage(language="fr")],
        bio="My bio.",
        profile_visibility={"bio": "coordinators"},
        totp_secret=TEST_TOTP_SECRET,
        totp_enabled_at=utcnow(),
    )
    now = utcnow()
    db_session.add_all(
        [
            SignInAttempt(email=own.email, ip_address="192.0.2.7", succeeded=False),
            OidcIdentity(member_id=own.id, provider="orcid", subject="0000-0001", email=own.email),
            RecoveryCode(member_id=own.id, code_hash=hash_token("recovery-code-secret")),
            AccountToken(
                member_id=own.id,
                token_hash=hash_token("account-link-secret"),
                purpose="verify_email",
                expires_at=now + timedelta(days=1),
            ),
        ]
    )
    application = Application(
        full_name="Export Me",
        email=own.email,
        country="FR",
        member_type="practitioner",
        expertise=["helplines"],
        languages=["fr"],
        motivation="I want to join.",
        privacy_notice_version="1",
        privacy_consented_at=now,
        status="approved",
        access_token_hash=hash_token("application-access-secret"),
        member_id=own.id,
    )
    db_session.add(application)
    db_session.flush()
    db_session.add_all(
        [
            ApplicationMessage(application_id=application.id, kind="info_request", body="Why?"),
            ApplicationMessage(application_id=application.id, kind="answer", body="Because."),
            AuditEvent(
                actor_id=None,
                actor_label="A Coordinator",
                action="member.change_type",
                subject_type="member",
                subject_id=own.id,
                before={"member_type": "other"},
                after={"member_type": "practitioner"},
            ),
        ]
    )
    db_session.flush()
    return own


def test_the_data_page_explains_and_offers_the_download(
    client: PortalClient, db_session: Session
) -> None:
    client.sign_in_as(db_session, member())

    html = client.get("/account/data").text

    assert "<h1>My data</h1>" in html
    assert 'href="/account/data/export"' in html
    assert 'href="/account/delete"' in html


def test_the_export_holds_everything_about_the_member(
    client: PortalClient, db_session: Session, rich_member: Member
) -> None:
    client.sign_in_as(db_session, rich_member)
    secret_token = api_tokens.create(db_session, rich_member, name="Script", scope="read")[1]

    response = client.get("/account/data/export")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    data = response.json()
    account = data["member"]
    assert account["email"] == "export.me@example.org"
    assert account["full_name"] == "Export Me"
    assert account["bio"] == "My bio."
    assert account["profile_visibility"]["bio"] == "coordinators"
    assert account["profile_visibility"]["country"] == "members"
    assert [item["name"] for item in account["organisations"]] == ["Export Org"]
    assert account["expertise"] == ["helplines"]
    assert account["languages"] == ["fr"]
    assert account["role"] == "member"
    assert account["coordinator_countries"] == []
    assert account["membership_expires_on"] is not None
    assert account["two_factor_enabled"] is True
    assert data["sessions"][0]["ip_address"] == "testclient"
    assert data["sessions"][0]["user_agent"] == "tests"
    assert data["sign_in_attempts"][0]["ip_address"] == "192.0.2.7"
    assert data["linked_identities"][0]["subject"] == "0000-0001"
    assert data["api_tokens"][0]["name"] == "Script"
    assert data["api_tokens"][0]["prefix"] == secret_token[:12]
    assert data["api_tokens"][0]["scope"] == "read"
    assert data["recovery_codes"] == {"total": 1, "unused": 1}
    application = data["applications"][0]
    assert application["motivation"] == "I want to join."
    assert [message["body"] for message in application["messages"]] == ["Why?", "Because."]
    assert data["audit_events"][0]["action"] == "member.change_type"


def test_the_export_holds_no_secrets(
    client: PortalClient, db_session: Session, rich_member: Member
) -> None:
    client.sign_in_as(db_session, rich_member)
    secret_token = api_tokens.create(db_session, rich_member, name="Script", scope="read")[1]
    stored = db_session.get(Member, rich_member.id)
    assert stored is not None
    assert stored.password_hash

    text = client.get("/account/data/export").text

    for secret in (
        stored.password_hash,
        TEST_TOTP_SECRET,
        secret_token,
        hash_token(secret_token),
        hash_token("recovery-code-secret"),
        hash_token("account-link-secret"),
        hash_token("application-access-secret"),
    ):
        assert secret not in text
    assert "token_hash" not in text
    assert "password_hash" not in text
    assert "totp_secret" not in text
    assert "access_token_hash" not in text


def test_the_export_needs_a_signed_in_member(client: PortalClient) -> None:
    response = client.get("/account/data/export", follow_redirects=False)

    assert response.status_code == 303


# Deleting the account


def post_delete(client: PortalClient, data: dict[str, str]) -> Any:
    token = client.csrf_token("/account/delete")
    return client.post(
        "/account/delete", data={"csrf_token": token, **data}, follow_redirects=False
    )


def test_deleting_needs_the_password_and_the_confirmation(
    client: PortalClient, db_session: Session
) -> None:
    own = member(full_name="Careful Carl")
    client.sign_in_as(db_session, own)
    db_session.commit()

    missing = post_delete(client, {"password": ""})
    wrong = post_delete(client, {"password": "not the password", "confirm": "yes"})

    assert missing.status_code == 422
    assert 'id="password-error">Enter your current password.' in missing.text
    assert 'id="confirm-error">' in missing.text
    assert wrong.status_code == 422
    assert 'id="password-error">The password is not correct.' in wrong.text
    assert load(db_session, own.id).status == "active"


def test_a_member_without_password_confirms_with_the_email_address(
    client: PortalClient, db_session: Session
) -> None:
    own = member(email="sso.only@example.org", password_hash=None)
    client.sign_in_as(db_session, own)
    db_session.commit()

    page = client.get("/account/delete").text
    wrong = post_delete(client, {"email": "someone@example.org", "confirm": "yes"})
    right = post_delete(client, {"email": " SSO.Only@example.org ", "confirm": "yes"})

    assert 'name="password"' not in page
    assert 'name="email"' in page
    assert wrong.status_code == 422
    assert 'id="email-error"' in wrong.text
    assert 'value="someone@example.org"' in wrong.text
    assert right.status_code == 303
    assert load(db_session, own.id).status == "erased"


def test_erasure_removes_personal_data_and_ends_sessions(
    client: PortalClient, db_session: Session, rich_member: Member
) -> None:
    member_id = rich_member.id
    api_tokens.create(db_session, rich_member, name="Script", scope="read")
    other_browser = sessions.start(
        db_session, rich_member, ip_address="198.51.100.1", user_agent="x"
    )
    db_session.add(
        OutboxMessage(recipient=rich_member.email, subject="Reminder", body_text="Hello Export Me")
    )
    client.sign_in_as(db_session, rich_member)
    db_session.commit()

    response = post_delete(client, {"password": DEFAULT_PASSWORD, "confirm": "yes"})

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    erased = load(db_session, member_id)
    assert erased.status == "erased"
    assert erased.full_name == "Former member"
    assert erased.email == f"erased-{member_id}@erased.invalid"
    assert erased.password_hash is None
    assert erased.totp_secret is None
    assert erased.totp_enabled_at is None
    assert erased.bio is None
    assert erased.country is None
    assert erased.profile_visibility == {}

    def count(model: Any, *conditions: Any) -> int:
        return db_session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0

    for model in (MemberExpertise, MemberLanguage, RecoveryCode, OidcIdentity, ApiToken):
        assert count(model, model.member_id == member_id) == 0, model
    assert count(AccountToken, AccountToken.member_id == member_id) == 0
    assert count(member_organisation, member_organisation.c.member_id == member_id) == 0
    assert count(SignInAttempt, SignInAttempt.email == "export.me@example.org") == 0
    # Every session has ended and no longer says where it came from.
    assert (
        count(UserSession, UserSession.member_id == member_id, UserSession.revoked_at.is_(None))
        == 0
    )
    assert (
        count(UserSession, UserSession.ip_address.is_not(None), UserSession.member_id == member_id)
        == 0
    )
    assert sessions.resolve(db_session, other_browser) is None
    # The application is anonymised, its thread too.
    application = db_session.scalars(
        select(Application).where(Application.member_id == member_id)
    ).one()
    assert application.full_name == "Former member"
    assert application.email == f"erased-{member_id}@erased.invalid"
    assert application.motivation == "[erased]"
    bodies = db_session.scalars(
        select(ApplicationMessage.body).where(ApplicationMessage.application_id == application.id)
    ).all()
    assert set(bodies) == {"[erased]"}
    # Only the confirmation is left for the old address.
    mails = db_session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient == "export.me@example.org")
    ).all()
    assert [mail.subject for mail in mails] == [
        "Your account on the prevention network portal was deleted"
    ]
    assert "Hello Export Me," in mails[0].body_text
    # The audit entry says what happened, without personal data.
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "member.erase")).one()
    assert event.subject_id == member_id
    assert event.actor_label == "Former member"
    recorded = json.dumps([event.before, event.after, event.subject_label, event.actor_label])
    assert "Export Me" not in recorded
    assert "export.me" not in recorded
    # Signed out: this browser is back to a visitor.
    follow = client.get("/account/profile", follow_redirects=False)
    assert follow.status_code == 303
    assert follow.headers["location"].startswith("/sign-in")


def test_after_erasure_the_old_credentials_no_longer_sign_in(
    client: PortalClient, db_session: Session
) -> None:
    own = member(email="gone@example.org")
    client.sign_in_as(db_session, own)
    db_session.commit()
    post_delete(client, {"password": DEFAULT_PASSWORD, "confirm": "yes"})

    response = client.post_form(
        "/sign-in", {"email": "gone@example.org", "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 422


def test_an_erased_coordinator_loses_the_role(client: PortalClient, db_session: Session) -> None:
    own = coordinator(["PT"])
    client.sign_in_as(db_session, own)
    db_session.commit()

    response = post_delete(client, {"password": DEFAULT_PASSWORD, "confirm": "yes"})

    assert response.status_code == 303
    erased = load(db_session, own.id)
    db_session.refresh(erased, ["coordinator_countries"])
    assert erased.role == "member"
    assert erased.coordinator_countries == []
