"""Password reset by a single-use link that expires, and the first password after approval."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.auth import account_tokens
from app.auth.models import AccountToken
from app.auth.passwords import verify_password
from app.config import get_settings
from app.db import utcnow
from app.members.models import Member
from tests.auth.support import code_at, link_in, live_sessions, mails_to
from tests.conftest import PortalClient
from tests.factories import DEFAULT_PASSWORD, TEST_TOTP_SECRET, member

NEW_PASSWORD = "violet harbour morning tram"
SAME_ANSWER = "If an account with this address exists, we have sent it a link"


def _request_reset(client: PortalClient, email: str) -> str:
    response = client.post_form("/password-reset", {"email": email})
    assert response.status_code == 200
    assert response.url.path == "/password-reset/sent"
    return response.text


def test_the_answer_is_the_same_whether_the_account_exists_or_not(
    client: PortalClient, db_session: Session
) -> None:
    member(email="exists@example.org")

    known = _request_reset(client, "Exists@example.org")
    unknown = _request_reset(client, "nobody@example.org")

    assert SAME_ANSWER in known
    assert known == unknown
    assert len(mails_to(db_session, "exists@example.org")) == 1
    assert mails_to(db_session, "nobody@example.org") == []


def test_no_mail_for_a_member_who_may_not_sign_in(
    client: PortalClient, db_session: Session
) -> None:
    member(email="suspended.reset@example.org", status="suspended")

    _request_reset(client, "suspended.reset@example.org")

    assert mails_to(db_session, "suspended.reset@example.org") == []


def test_an_empty_address_gets_a_message_at_the_field(client: PortalClient) -> None:
    response = client.post_form("/password-reset", {"email": " "})

    assert response.status_code == 422
    assert 'id="email-error"' in response.text


def test_a_second_request_within_a_minute_sends_no_second_mail(
    client: PortalClient, db_session: Session
) -> None:
    member(email="twice@example.org")

    _request_reset(client, "twice@example.org")
    _request_reset(client, "twice@example.org")

    assert len(mails_to(db_session, "twice@example.org")) == 1


def test_the_link_sets_a_new_password_and_ends_every_session(
    client: PortalClient, db_session: Session
) -> None:
    resetting: Member = member(email="reset@example.org", email_verified_at=None)
    other_browser = PortalClient(client.app, base_url="http://testserver")
    other_browser.sign_in_as(db_session, resetting)
    assert len(live_sessions(db_session, resetting.id)) == 1
    _request_reset(client, "reset@example.org")
    mail = mails_to(db_session, "reset@example.org")[0]
    assert mail.subject == "Reset your password for the prevention network portal"
    hours = get_settings().password_reset_hours
    assert f"The link works once and for {hours} hours." in mail.body_text
    link = link_in(mail)
    assert link.startswith("/password-reset/")

    form = client.get(link)
    assert form.status_code == 200
    assert "reset@example.org" in form.text
    response = client.post_form(link, {"password": NEW_PASSWORD}, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in"
    assert "Your password has been changed. Sign in with your new password." in (
        client.get("/sign-in").text
    )
    db_session.refresh(resetting)
    assert verify_password(resetting.password_hash, NEW_PASSWORD)
    assert resetting.password_changed_at is not None
    assert resetting.email_verified_at is not None
    assert live_sessions(db_session, resetting.id) == []
    changed = mails_to(db_session, "reset@example.org")[-1]
    assert changed.subject == "Your password was changed"
    signed_in = client.post_form(
        "/sign-in",
        {"email": "reset@example.org", "password": NEW_PASSWORD},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303


def test_the_new_password_must_meet_the_policy(client: PortalClient, db_session: Session) -> None:
    member(email="policy@example.org")
    _request_reset(client, "policy@example.org")
    link = link_in(mails_to(db_session, "policy@example.org")[0])

    for password, message in [
        ("short", "Choose a password of at least 12 characters."),
        ("QWERTY123456", "This password is on a list of commonly used or leaked passwords"),
        ("policy@example.org", "Your password must not be your e-mail address."),
    ]:
        response = client.post_form(link, {"password": password})
        assert response.status_code == 422
        assert message in response.text
        assert 'id="password-error"' in response.text
        assert 'aria-describedby="password-hint password-error"' in response.text

    # The link still works after refused attempts.
    assert (
        client.post_form(link, {"password": NEW_PASSWORD}, follow_redirects=False).status_code
        == 303
    )


def test_a_used_link_explains_itself_and_offers_a_new_one(
    client: PortalClient, db_session: Session
) -> None:
    member(email="used@example.org")
    _request_reset(client, "used@example.org")
    link = link_in(mails_to(db_session, "used@example.org")[0])
    client.post_form(link, {"password": NEW_PASSWORD})

    for response in (
        client.get(link),
        client.post_form(link, {"password": "another long password"}),
    ):
        assert response.status_code == 400
        assert "This link has already been used" in response.text
        assert 'href="/password-reset"' in response.text
        assert "Get a new link" in response.text


def test_an_expired_link_explains_itself(client: PortalClient, db_session: Session) -> None:
    expiring = member(email="expired@example.org")
    _request_reset(client, "expired@example.org")
    link = link_in(mails_to(db_session, "expired@example.org")[0])
    db_session.execute(
        update(AccountToken)
        .where(AccountToken.member_id == expiring.id)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )

    response = client.get(link)

    assert response.status_code == 400
    assert "This link has expired" in response.text
    assert "limited time" in response.text
    assert client.post_form(link, {"password": NEW_PASSWORD}).status_code == 400
    db_session.refresh(expiring)
    assert verify_password(expiring.password_hash, DEFAULT_PASSWORD)


def test_a_made_up_link_is_not_valid(client: PortalClient) -> None:
    response = client.get("/password-reset/made-up-secret")

    assert response.status_code == 400
    assert "This link is not valid" in response.text


def test_a_reset_lifts_the_sign_in_pause_of_the_account(
    client: PortalClient, db_session: Session
) -> None:
    member(email="paused@example.org")
    for _ in range(get_settings().sign_in_attempts_per_account):
        client.post_form("/sign-in", {"email": "paused@example.org", "password": "wrong guess 1"})
    _request_reset(client, "paused@example.org")
    link = link_in(mails_to(db_session, "paused@example.org")[0])
    client.post_form(link, {"password": NEW_PASSWORD})

    response = client.post_form(
        "/sign-in",
        {"email": "paused@example.org", "password": NEW_PASSWORD},
        follow_redirects=False,
    )

    assert response.status_code == 303


# The first password, after approval or invitation


def _set_password_link(session: Session, newcomer: Member) -> str:
    secret = account_tokens.issue(session, newcomer, "set_password", timedelta(days=14))
    return "/account/set-password/" + secret


def test_a_new_member_sets_a_password_and_is_signed_in(
    client: PortalClient, db_session: Session
) -> None:
    newcomer = member(
        email="newcomer@example.org",
        full_name="New Comer",
        password_hash=None,
        email_verified_at=None,
    )
    link = _set_password_link(db_session, newcomer)

    form = client.get(link)
    assert form.status_code == 200
    assert "Welcome to the network, New Comer." in form.text
    refused = client.post_form(link, {"password": "too short"})
    assert refused.status_code == 422
    response = client.post_form(link, {"password": NEW_PASSWORD}, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/account/security"
    page = client.get("/account/security").text
    assert "New Comer" in page
    assert "Your password is set and you are signed in." in page
    db_session.refresh(newcomer)
    assert newcomer.email_verified_at is not None
    assert verify_password(newcomer.password_hash, NEW_PASSWORD)
    assert client.get(link).status_code == 400


def test_setting_the_password_goes_through_two_factor_when_it_is_on(
    client: PortalClient, db_session: Session
) -> None:
    newcomer = member(
        email="newcomer2@example.org",
        password_hash=None,
        totp_secret=TEST_TOTP_SECRET,
        totp_enabled_at=utcnow(),
    )
    link = _set_password_link(db_session, newcomer)

    response = client.post_form(link, {"password": NEW_PASSWORD}, follow_redirects=False)

    assert response.headers["location"] == "/sign-in/two-factor"
    done = client.post_form("/sign-in/two-factor", {"code": code_at()}, follow_redirects=False)
    assert done.headers["location"] == "/account/security"


@pytest.mark.parametrize("problem", ["expired", "used"])
def test_an_expired_or_used_set_password_link_points_to_a_new_one(
    client: PortalClient, db_session: Session, problem: str
) -> None:
    newcomer = member(email=f"late.{problem}@example.org", password_hash=None)
    link = _set_password_link(db_session, newcomer)
    column = AccountToken.expires_at if problem == "expired" else AccountToken.used_at
    db_session.execute(
        update(AccountToken)
        .where(AccountToken.member_id == newcomer.id)
        .values({column: utcnow() - timedelta(seconds=1)})
    )

    response = client.get(link)

    assert response.status_code == 400
    assert 'href="/password-reset"' in response.text
    assert "Get a new link" in response.text
    tokens = db_session.scalars(select(AccountToken).where(AccountToken.member_id == newcomer.id))
    assert len(list(tokens)) == 1
