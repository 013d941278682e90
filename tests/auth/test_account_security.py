"""The security page: password, e-mail address and its confirmation, sessions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.auth.models import AccountToken, UserSession
from app.auth.passwords import verify_password
from app.db import utcnow
from app.members.models import Member
from tests.auth.support import link_in, live_sessions, mails_to
from tests.conftest import PortalClient
from tests.factories import DEFAULT_PASSWORD, member

NEW_PASSWORD = "quiet orchard bicycle lamp"


@pytest.fixture
def other_browser(client: PortalClient) -> Iterator[PortalClient]:
    """A second browser of the same member, on the same test database."""
    with PortalClient(client.app, base_url="http://testserver") as second:
        yield second


def _signed_in(client: PortalClient, session: Session, **overrides: object) -> Member:
    values: dict[str, object] = {"email": "secure@example.org", "full_name": "Secure Member"}
    values.update(overrides)
    signed_in: Member = member(**values)
    client.sign_in_as(session, signed_in)
    return signed_in


def test_the_security_page_needs_a_signed_in_member(client: PortalClient) -> None:
    response = client.get("/account/security", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Faccount%2Fsecurity"


def test_the_page_lists_the_sessions_and_the_two_factor_status(
    client: PortalClient, db_session: Session, other_browser: PortalClient
) -> None:
    signed_in = _signed_in(client, db_session)
    other_browser.sign_in_as(db_session, signed_in)
    db_session.execute(
        update(UserSession)
        .where(UserSession.member_id == signed_in.id)
        .values(
            user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 "
            "Firefox/128.0"
        )
    )

    html = client.get("/account/security").text

    assert '<nav class="account-nav"' in html
    assert html.count("<td>Firefox on Windows") == 2
    assert "This browser" in html
    assert html.count('/end">') == 1  # only the other browser can be ended here
    assert "Sign out everywhere" in html
    assert "Set up two-factor authentication" in html
    assert "Not confirmed" not in html


def test_the_page_needs_at_most_three_queries_beyond_the_session(
    client: PortalClient, db_session: Session
) -> None:
    from sqlalchemy import event

    _signed_in(client, db_session)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    engine = db_session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get("/account/security").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    selects = [statement for statement in statements if statement.lstrip().startswith("SELECT")]
    assert len(selects) <= 3, selects


def test_changing_the_password_needs_the_current_one(
    client: PortalClient, db_session: Session
) -> None:
    signed_in = _signed_in(client, db_session)

    response = client.post_form(
        "/account/security/password",
        {"current_password": "not the password", "new_password": NEW_PASSWORD},
    )

    assert response.status_code == 422
    assert 'id="current_password-error"' in response.text
    assert "Your current password is not correct." in response.text
    db_session.refresh(signed_in)
    assert verify_password(signed_in.password_hash, DEFAULT_PASSWORD)


def test_changing_the_password_applies_the_policy(
    client: PortalClient, db_session: Session
) -> None:
    _signed_in(client, db_session)

    response = client.post_form(
        "/account/security/password",
        {"current_password": DEFAULT_PASSWORD, "new_password": "1q2w3e4r5t6y"},
    )

    assert response.status_code == 422
    assert 'id="new_password-error"' in response.text
    assert "commonly used or leaked passwords" in response.text


def test_changing_the_password_ends_the_other_sessions_only(
    client: PortalClient, db_session: Session, other_browser: PortalClient
) -> None:
    signed_in = _signed_in(client, db_session)
    other_browser.sign_in_as(db_session, signed_in)
    assert "Secure Member" in other_browser.get("/").text

    response = client.post_form(
        "/account/security/password",
        {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert "Every other browser where you were signed in has been signed out." in (
        client.get("/account/security").text
    )
    assert "Secure Member" not in other_browser.get("/").text
    assert len(live_sessions(db_session, signed_in.id)) == 1
    db_session.refresh(signed_in)
    assert verify_password(signed_in.password_hash, NEW_PASSWORD)
    assert mails_to(db_session, "secure@example.org")[-1].subject == "Your password was changed"


def test_a_session_ended_from_another_browser_no_longer_works(
    client: PortalClient, db_session: Session, other_browser: PortalClient
) -> None:
    signed_in = _signed_in(client, db_session)
    other_browser.sign_in_as(db_session, signed_in)
    other_id = max(row.id for row in live_sessions(db_session, signed_in.id))

    response = client.post_form(
        f"/account/security/sessions/{other_id}/end", {}, follow_redirects=False
    )

    assert response.status_code == 303
    assert "That session has been signed out." in client.get("/account/security").text
    assert "Secure Member" not in other_browser.get("/").text
    assert other_browser.get("/account/security", follow_redirects=False).status_code == 303
    assert "Secure Member" in client.get("/").text


def test_a_member_cannot_end_someone_elses_session(
    client: PortalClient, db_session: Session, other_browser: PortalClient
) -> None:
    _signed_in(client, db_session)
    stranger = member(email="stranger@example.org", full_name="Somebody Else")
    other_browser.sign_in_as(db_session, stranger)
    stranger_session = live_sessions(db_session, stranger.id)[0]

    client.post_form(f"/account/security/sessions/{stranger_session.id}/end", {})

    assert "Somebody Else" in other_browser.get("/").text


def test_sign_out_everywhere_ends_every_session_and_goes_home(
    client: PortalClient, db_session: Session, other_browser: PortalClient
) -> None:
    signed_in = _signed_in(client, db_session)
    other_browser.sign_in_as(db_session, signed_in)

    response = client.post_form("/account/security/sign-out-everywhere", {}, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert live_sessions(db_session, signed_in.id) == []
    assert "Secure Member" not in client.get("/").text
    assert "Secure Member" not in other_browser.get("/").text


def test_sign_out_needs_a_post_with_the_csrf_token(
    client: PortalClient, db_session: Session
) -> None:
    _signed_in(client, db_session)

    assert client.get("/sign-out").status_code == 405
    refused = client.post("/sign-out", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    assert "Secure Member" in client.get("/").text


# E-mail address


def test_an_unconfirmed_member_sends_a_verification_link_and_confirms(
    client: PortalClient, db_session: Session
) -> None:
    signed_in = _signed_in(client, db_session, email_verified_at=None)
    page = client.get("/account/security").text
    assert "Not confirmed" in page
    assert "Send verification link" in page

    sent = client.post_form("/account/security/verify-email", {})
    assert "We have sent a link to secure@example.org." in sent.text
    mail = mails_to(db_session, "secure@example.org")[-1]
    assert mail.subject == "Confirm your e-mail address"
    link = link_in(mail)
    assert link.startswith("/account/verify-email/")

    confirm_page = client.get(link)
    assert confirm_page.status_code == 200
    db_session.refresh(signed_in)
    assert signed_in.email_verified_at is None  # opening the page changes nothing
    response = client.post_form(link, {}, follow_redirects=False)

    assert response.headers["location"] == "/account/security"
    assert "your e-mail address is confirmed" in client.get("/account/security").text
    db_session.refresh(signed_in)
    assert signed_in.email_verified_at is not None
    assert client.get(link).status_code == 400


def test_the_verification_link_works_without_being_signed_in(
    client: PortalClient, db_session: Session, other_browser: PortalClient
) -> None:
    signed_in = _signed_in(client, db_session, email_verified_at=None)
    client.post_form("/account/security/verify-email", {})
    link = link_in(mails_to(db_session, "secure@example.org")[-1])

    response = other_browser.post_form(link, {}, follow_redirects=False)

    assert response.headers["location"] == "/sign-in?next=/account/security"
    db_session.refresh(signed_in)
    assert signed_in.email_verified_at is not None


def test_changing_the_address_switches_only_when_the_new_one_confirms(
    client: PortalClient, db_session: Session
) -> None:
    signed_in = _signed_in(client, db_session)

    response = client.post_form(
        "/account/security/email",
        {"new_email": "Moved@Example.org", "email_password": DEFAULT_PASSWORD},
        follow_redirects=False,
    )

    assert response.status_code == 303
    page = client.get("/account/security").text
    assert "We have sent a link to moved@example.org." in page
    assert "A link to confirm your new address moved@example.org was sent" in page
    db_session.refresh(signed_in)
    assert signed_in.email == "secure@example.org"
    mail = mails_to(db_session, "moved@example.org")[-1]
    assert mail.subject == "Confirm your new e-mail address"

    confirmed = client.post_form(link_in(mail), {})

    assert "Your e-mail address is now moved@example.org." in confirmed.text
    db_session.refresh(signed_in)
    assert signed_in.email == "moved@example.org"
    assert signed_in.email_verified_at is not None
    notice = mails_to(db_session, "secure@example.org")[-1]
    assert notice.subject == "The e-mail address of your account was changed"
    assert "from secure@example.org to moved@example.org" in notice.body_text


def test_changing_the_address_needs_the_password(client: PortalClient, db_session: Session) -> None:
    _signed_in(client, db_session)

    response = client.post_form(
        "/account/security/email",
        {"new_email": "moved@example.org", "email_password": "wrong password"},
    )

    assert response.status_code == 422
    assert 'id="email_password-error"' in response.text
    assert 'value="moved@example.org"' in response.text
    assert mails_to(db_session, "moved@example.org") == []


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("taken@example.org", "Another account already uses this e-mail address."),
        ("secure@example.org", "This is already your e-mail address."),
        ("not an address", "Enter an e-mail address such as name@example.org."),
    ],
)
def test_an_unusable_new_address_is_refused_at_the_field(
    client: PortalClient, db_session: Session, address: str, message: str
) -> None:
    _signed_in(client, db_session)
    member(email="taken@example.org")

    response = client.post_form(
        "/account/security/email", {"new_email": address, "email_password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 422
    assert 'id="new_email-error"' in response.text
    assert message in response.text


def test_an_address_taken_before_the_link_is_opened_is_not_switched(
    client: PortalClient, db_session: Session
) -> None:
    signed_in = _signed_in(client, db_session)
    client.post_form(
        "/account/security/email",
        {"new_email": "contested@example.org", "email_password": DEFAULT_PASSWORD},
    )
    link = link_in(mails_to(db_session, "contested@example.org")[-1])
    member(email="contested@example.org")

    response = client.post_form(link, {})

    assert response.status_code == 409
    db_session.refresh(signed_in)
    assert signed_in.email == "secure@example.org"


def test_links_sent_to_the_old_address_stop_working_after_a_change(
    client: PortalClient, db_session: Session
) -> None:
    signed_in = _signed_in(client, db_session)
    client.post_form("/password-reset", {"email": "secure@example.org"})
    reset_link = link_in(mails_to(db_session, "secure@example.org")[-1])
    client.post_form(
        "/account/security/email",
        {"new_email": "fresh@example.org", "email_password": DEFAULT_PASSWORD},
    )
    client.post_form(link_in(mails_to(db_session, "fresh@example.org")[-1]), {})

    assert client.get(reset_link).status_code == 400
    tokens = db_session.scalars(
        select(AccountToken).where(
            AccountToken.member_id == signed_in.id, AccountToken.used_at.is_(None)
        )
    ).all()
    assert tokens == []


def test_an_expired_address_link_offers_a_new_one(
    client: PortalClient, db_session: Session
) -> None:
    signed_in = _signed_in(client, db_session, email_verified_at=None)
    client.post_form("/account/security/verify-email", {})
    link = link_in(mails_to(db_session, "secure@example.org")[-1])
    db_session.execute(
        update(AccountToken)
        .where(AccountToken.member_id == signed_in.id)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )

    response = client.get(link)

    assert response.status_code == 400
    assert "This link has expired" in response.text
    assert 'href="/account/security"' in response.text
