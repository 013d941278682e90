"""Signing in and out with e-mail and password."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.members.models import Member
from tests.conftest import PortalClient
from tests.factories import DEFAULT_PASSWORD, member


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
