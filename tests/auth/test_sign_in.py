"""Signing in and out with e-mail and password."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import SignInAttempt
from app.config import get_settings
from app.db import utcnow
from app.members.models import Member
from tests.conftest import PortalClient
from tests.factories import DEFAULT_PASSWORD, coordinator, member


def test_sign_in_page_has_a_labelled_form(client: PortalClient) -> None:
    html = client.get("/sign-in").text

    assert '<label for="email">E-mail address</label>' in html
    assert '<label for="password">Password</label>' in html
    assert 'name="csrf_token"' in html


def test_a_member_signs_in_and_out(client: PortalClient, db_session: Session) -> None:
    signed_in: Member = member(email="ana@example.org", full_name="Ana Example")

    response = client.post_form(
        "/sign-in",
        {"email": "  ANA@example.org ", "password": DEFAULT_PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert "Ana Example" in client.get("/").text
    db_session.refresh(signed_in)
    assert signed_in.last_sign_in_at is not None

    token = client.csrf_token("/")
    signed_out = client.post("/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert signed_out.status_code == 303
    assert "Ana Example" not in client.get("/").text


@pytest.mark.parametrize(
    ("email", "password"),
    [("known@example.org", "a wrong password!"), ("unknown@example.org", DEFAULT_PASSWORD)],
)
def test_unknown_email_and_wrong_password_get_the_same_answer(
    client: PortalClient, email: str, password: str
) -> None:
    member(email="known@example.org")

    response = client.post_form("/sign-in", {"email": email, "password": password})

    assert response.status_code == 422
    assert "The e-mail address or password is not correct." in response.text
    assert f'value="{email}"' in response.text


def test_empty_fields_get_a_message_at_each_field(client: PortalClient) -> None:
    response = client.post_form("/sign-in", {"email": "", "password": ""})
    html = response.text

    assert response.status_code == 422
    assert 'id="email-error"' in html
    assert 'aria-describedby="email-error"' in html
    assert "Enter your e-mail address." in html
    assert "Enter your password." in html


def test_a_suspended_member_cannot_sign_in(client: PortalClient) -> None:
    member(email="suspended@example.org", status="suspended")

    response = client.post_form(
        "/sign-in", {"email": "suspended@example.org", "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 422


def test_a_member_suspended_while_signed_in_loses_the_session(
    client: PortalClient, db_session: Session
) -> None:
    signed_in: Member = member(email="later@example.org", full_name="Later Suspended")
    client.post_form("/sign-in", {"email": "later@example.org", "password": DEFAULT_PASSWORD})
    signed_in.status = "suspended"
    db_session.flush()

    assert "Later Suspended" not in client.get("/").text


@pytest.mark.parametrize(
    ("target", "expected"),
    [("/about", "/about"), ("https://evil.example/", "/"), ("//evil.example", "/")],
)
def test_sign_in_returns_only_to_same_site_pages(
    client: PortalClient, target: str, expected: str
) -> None:
    member(email="next@example.org")

    response = client.post_form(
        "/sign-in",
        {"email": "next@example.org", "password": DEFAULT_PASSWORD, "next": target},
        follow_redirects=False,
    )

    assert response.headers["location"] == expected


def test_the_sign_in_page_keeps_a_safe_next(client: PortalClient) -> None:
    assert 'name="next" value="/about"' in client.get("/sign-in?next=/about").text
    assert 'name="next" value="/"' in client.get("/sign-in?next=https://evil.example").text


def test_the_sign_in_page_links_to_reset_and_to_applying(client: PortalClient) -> None:
    html = client.get("/sign-in").text

    assert '<a href="/password-reset">Forgot your password?</a>' in html
    assert '<a href="/apply">Apply to join</a>' in html
    assert "Not a member yet?" in html


PAUSED = "Too many unsuccessful attempts to sign in."


def _fail(client: PortalClient, email: str) -> int:
    response = client.post_form("/sign-in", {"email": email, "password": "not the password!"})
    return response.status_code


def test_the_nth_failure_is_answered_and_the_next_attempt_is_refused(
    client: PortalClient, db_session: Session
) -> None:
    member(email="limited@example.org")
    limit = get_settings().sign_in_attempts_per_account

    assert [_fail(client, "limited@example.org") for _ in range(limit)] == [422] * limit
    # Even the right password is not checked while signing in is paused.
    response = client.post_form(
        "/sign-in", {"email": "Limited@example.org", "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 429
    assert PAUSED in response.text
    assert "please try again in 15 minutes" in response.text
    assert 'value="Limited@example.org"' in response.text
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    assert "Test Member" not in client.get("/").text


def test_an_unknown_e_mail_is_limited_like_a_known_one(client: PortalClient) -> None:
    limit = get_settings().sign_in_attempts_per_account

    statuses = [_fail(client, "nobody@example.org") for _ in range(limit + 1)]

    assert statuses == [422] * limit + [429]


def test_one_address_is_limited_across_accounts(client: PortalClient, db_session: Session) -> None:
    settings = get_settings()
    # The test client's address is "testclient".
    db_session.add_all(
        SignInAttempt(
            email=f"guess{number}@example.org",
            ip_address="testclient",
            succeeded=False,
            attempted_at=utcnow() - timedelta(minutes=1),
        )
        for number in range(settings.sign_in_attempts_per_address - 1)
    )
    db_session.flush()
    member(email="innocent@example.org")

    assert _fail(client, "another.guess@example.org") == 422
    response = client.post_form(
        "/sign-in", {"email": "innocent@example.org", "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 429
    assert PAUSED in response.text


def test_failures_and_successes_are_recorded(client: PortalClient, db_session: Session) -> None:
    member(email="recorded@example.org")

    _fail(client, "recorded@example.org")
    client.post_form("/sign-in", {"email": "recorded@example.org", "password": DEFAULT_PASSWORD})

    attempts = db_session.scalars(
        select(SignInAttempt).where(SignInAttempt.email == "recorded@example.org")
    ).all()
    assert [attempt.succeeded for attempt in attempts] == [False, True]
    assert {attempt.ip_address for attempt in attempts} == {"testclient"}


def test_an_absurdly_long_password_is_simply_wrong(client: PortalClient) -> None:
    member(email="long@example.org")

    response = client.post_form("/sign-in", {"email": "long@example.org", "password": "x" * 5000})

    assert response.status_code == 422
    assert "The e-mail address or password is not correct." in response.text


def test_a_coordinator_without_two_factor_is_sent_to_set_it_up(client: PortalClient) -> None:
    coordinator(["PT"], email="new.coordinator@example.org", totp_secret=None, totp_enabled_at=None)

    response = client.post_form(
        "/sign-in",
        {"email": "new.coordinator@example.org", "password": DEFAULT_PASSWORD, "next": "/about"},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/account/security/two-factor"
    assert client.get("/account/security/two-factor").status_code == 200
