"""Two-factor authentication: the second sign-in step, enrolment, recovery codes, turning off."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import httpx
import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import totp
from app.auth.models import RecoveryCode, SignInAttempt
from app.config import get_settings
from app.db import utcnow
from app.members.models import Member
from tests.auth.support import (
    code_at,
    live_sessions,
    read_cookie_session,
    write_cookie_session,
)
from tests.conftest import PortalClient
from tests.factories import DEFAULT_PASSWORD, TEST_TOTP_SECRET, coordinator, member

WRONG_CODE = "This code is not correct or has already been used."


def _two_factor_member(**overrides: object) -> Member:
    values: dict[str, object] = {
        "email": "second@example.org",
        "full_name": "Second Factor",
        "totp_secret": TEST_TOTP_SECRET,
        "totp_enabled_at": utcnow(),
    }
    values.update(overrides)
    return member(**values)


def _password_step(
    client: PortalClient, email: str = "second@example.org", next: str = "/"
) -> httpx.Response:
    return client.post_form(
        "/sign-in",
        {"email": email, "password": DEFAULT_PASSWORD, "next": next},
        follow_redirects=False,
    )


def _code_step(client: PortalClient, code: str) -> httpx.Response:
    return client.post_form("/sign-in/two-factor", {"code": code}, follow_redirects=False)


def _sign_out(client: PortalClient) -> None:
    client.post("/sign-out", data={"csrf_token": client.csrf_token("/")})


def test_the_password_alone_only_marks_the_sign_in_as_pending(
    client: PortalClient, db_session: Session
) -> None:
    signed_in = _two_factor_member()

    response = _password_step(client, next="/about")

    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in/two-factor"
    assert live_sessions(db_session, signed_in.id) == []
    pending = read_cookie_session(client)["pending_sign_in"]
    assert set(pending) == {"member_id", "started_at", "next"}
    assert pending["member_id"] == signed_in.id
    assert "Second Factor" not in client.get("/").text
    page = client.get("/sign-in/two-factor")
    assert page.status_code == 200
    assert '<label for="code">Code</label>' in page.text


def test_a_correct_code_completes_the_sign_in(client: PortalClient, db_session: Session) -> None:
    signed_in = _two_factor_member()
    _password_step(client, next="/about")

    response = _code_step(client, code_at())

    assert response.status_code == 303
    assert response.headers["location"] == "/about"
    assert "Second Factor" in client.get("/").text
    assert len(live_sessions(db_session, signed_in.id)) == 1
    assert "pending_sign_in" not in read_cookie_session(client)


def test_a_wrong_code_is_refused_at_the_field(client: PortalClient, db_session: Session) -> None:
    signed_in = _two_factor_member()
    _password_step(client)
    right = code_at()
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    response = _code_step(client, wrong)

    assert response.status_code == 422
    assert WRONG_CODE in response.text
    assert 'id="code-error"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert live_sessions(db_session, signed_in.id) == []
    failures = db_session.scalars(
        select(SignInAttempt).where(SignInAttempt.email == "second@example.org")
    ).all()
    assert [attempt.succeeded for attempt in failures] == [False]


def test_the_same_code_does_not_work_twice(client: PortalClient) -> None:
    _two_factor_member()
    code = code_at()
    _password_step(client)
    assert _code_step(client, code).status_code == 303
    _sign_out(client)

    _password_step(client)
    response = _code_step(client, code)

    assert response.status_code == 422
    assert WRONG_CODE in response.text


def test_an_earlier_code_is_refused_after_a_later_one(client: PortalClient) -> None:
    _two_factor_member()
    _password_step(client)
    assert _code_step(client, code_at(0)).status_code == 303
    _sign_out(client)

    _password_step(client)

    assert _code_step(client, code_at(-1)).status_code == 422
    assert _code_step(client, code_at(1)).status_code == 303


def test_a_recovery_code_works_once(client: PortalClient, db_session: Session) -> None:
    signed_in = _two_factor_member()
    codes = totp.create_recovery_codes(db_session, signed_in)
    _password_step(client)

    response = _code_step(client, codes[3].upper())

    assert response.status_code == 303
    assert response.headers["location"] == "/account/security/two-factor"
    page = client.get("/account/security/two-factor").text
    assert "You signed in with a recovery code" in page
    assert "Recovery codes left: 9" in page
    _sign_out(client)

    _password_step(client)
    again = _code_step(client, codes[3])

    assert again.status_code == 422
    assert WRONG_CODE in again.text


def test_the_pending_sign_in_expires_after_five_minutes(client: PortalClient) -> None:
    _two_factor_member()
    _password_step(client)
    data = read_cookie_session(client)
    data["pending_sign_in"]["started_at"] = (utcnow() - timedelta(minutes=5, seconds=5)).timestamp()
    write_cookie_session(client, data)

    response = _code_step(client, code_at())

    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in"
    assert "The sign-in took too long. Please sign in again." in client.get("/sign-in").text


def test_the_two_factor_page_without_a_password_first_goes_to_sign_in(
    client: PortalClient,
) -> None:
    response = client.get("/sign-in/two-factor", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in"


def test_wrong_codes_are_rate_limited(client: PortalClient) -> None:
    _two_factor_member()
    _password_step(client)
    limit = get_settings().sign_in_attempts_per_account

    statuses = [_code_step(client, "000000").status_code for _ in range(limit)]
    response = _code_step(client, code_at())

    assert statuses == [422] * limit
    assert response.status_code == 429
    assert "Too many unsuccessful attempts to sign in." in response.text


# Enrolment


def _secret_on_page(html: str) -> str:
    match = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', html)
    assert match, "no secret on the page"
    return match.group(1).replace(" ", "")


def test_enrolment_shows_a_qr_code_and_the_secret_in_groups(
    client: PortalClient, db_session: Session
) -> None:
    enrolling = member(email="enrol@example.org")
    client.sign_in_as(db_session, enrolling)

    html = client.get("/account/security/two-factor").text

    secret = _secret_on_page(html)
    db_session.refresh(enrolling)
    assert enrolling.totp_secret == secret
    assert enrolling.totp_enabled_at is None
    assert re.search(r'<code id="totp-secret">([A-Z2-7]{4} ){7}[A-Z2-7]{4}</code>', html)
    assert 'src="data:image/svg+xml;' in html
    assert "otpauth://totp/" in html
    # Reloading keeps the same secret, so a scanned code stays valid.
    assert _secret_on_page(client.get("/account/security/two-factor").text) == secret


def test_confirming_enrolment_turns_it_on_and_shows_ten_recovery_codes_once(
    client: PortalClient, db_session: Session
) -> None:
    enrolling = member(email="enrol2@example.org")
    client.sign_in_as(db_session, enrolling)
    secret = _secret_on_page(client.get("/account/security/two-factor").text)

    wrong = client.post_form("/account/security/two-factor", {"code": "123456"})
    assert wrong.status_code == 422
    assert "This code is not correct." in wrong.text

    response = client.post_form("/account/security/two-factor", {"code": pyotp.TOTP(secret).now()})

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", response.text)
    assert len(codes) == 10
    db_session.refresh(enrolling)
    assert enrolling.totp_enabled_at is not None
    stored = db_session.scalars(
        select(RecoveryCode.code_hash).where(RecoveryCode.member_id == enrolling.id)
    ).all()
    assert sorted(stored) == sorted(
        hashlib.sha256(code.replace("-", "").encode()).hexdigest() for code in codes
    )
    page = client.get("/account/security/two-factor").text
    assert codes[0] not in page
    assert "You have 10 unused recovery codes." in page


def test_the_code_that_confirmed_enrolment_cannot_sign_in(
    client: PortalClient, db_session: Session
) -> None:
    enrolling = member(email="enrol3@example.org")
    client.sign_in_as(db_session, enrolling)
    secret = _secret_on_page(client.get("/account/security/two-factor").text)
    code = pyotp.TOTP(secret).now()
    client.post_form("/account/security/two-factor", {"code": code})
    _sign_out(client)

    _password_step(client, email="enrol3@example.org")

    assert _code_step(client, code).status_code == 422


def test_new_recovery_codes_need_the_password_and_replace_the_old(
    client: PortalClient, db_session: Session
) -> None:
    signed_in = _two_factor_member()
    old_codes = totp.create_recovery_codes(db_session, signed_in)
    client.sign_in_as(db_session, signed_in)

    wrong = client.post_form(
        "/account/security/two-factor/recovery-codes", {"password": "not my password"}
    )
    assert wrong.status_code == 422
    assert "Your current password is not correct." in wrong.text

    response = client.post_form(
        "/account/security/two-factor/recovery-codes", {"password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 200
    new_codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", response.text)
    assert len(new_codes) == 10
    assert not totp.use_recovery_code(db_session, signed_in, old_codes[0])
    assert totp.use_recovery_code(db_session, signed_in, new_codes[0])


def test_a_member_turns_two_factor_off_with_a_code(
    client: PortalClient, db_session: Session
) -> None:
    signed_in = _two_factor_member()
    totp.create_recovery_codes(db_session, signed_in)
    client.sign_in_as(db_session, signed_in)

    refused = client.post_form("/account/security/two-factor/disable", {"disable_code": "000000"})
    assert refused.status_code == 422
    response = client.post_form(
        "/account/security/two-factor/disable", {"disable_code": code_at()}, follow_redirects=False
    )

    assert response.status_code == 303
    db_session.refresh(signed_in)
    assert signed_in.totp_enabled_at is None
    assert signed_in.totp_secret is None
    assert (
        db_session.scalars(select(RecoveryCode).where(RecoveryCode.member_id == signed_in.id)).all()
        == []
    )
    assert "Two-factor authentication is off." in client.get("/account/security").text


def test_a_coordinator_cannot_turn_two_factor_off(
    client: PortalClient, db_session: Session
) -> None:
    signed_in = coordinator(["DE"])
    client.sign_in_as(db_session, signed_in)

    page = client.get("/account/security/two-factor").text
    assert "/account/security/two-factor/disable" not in page
    response = client.post_form("/account/security/two-factor/disable", {"disable_code": code_at()})

    assert response.status_code == 403
    assert "Coordinators and administrators must keep two-factor authentication on." in (
        response.text
    )
    db_session.refresh(signed_in)
    assert signed_in.totp_enabled_at is not None


def test_an_admin_signs_in_with_password_and_code(
    client: PortalClient, db_session: Session
) -> None:
    coordinator(network=True, role="admin", email="chief@example.org", full_name="Chief Admin")

    first = _password_step(client, email="chief@example.org")
    second = _code_step(client, code_at())

    assert first.headers["location"] == "/sign-in/two-factor"
    assert second.headers["location"] == "/"
    assert "Chief Admin" in client.get("/").text


# A coordinator who has not turned two-factor authentication on yet


def test_a_coordinator_without_two_factor_cannot_use_the_coordinator_api(
    client: PortalClient, db_session: Session
) -> None:
    without = coordinator(["PT"], totp_secret=None, totp_enabled_at=None)
    client.sign_in_as(db_session, without)

    listed = client.get("/api/v1/applications")
    decided = client.post("/api/v1/applications/1/decision", json={"decision": "approve"})

    assert listed.status_code == 403
    assert decided.status_code == 403


def test_a_coordinator_without_two_factor_sees_only_what_members_see(
    client: PortalClient, db_session: Session
) -> None:
    hidden = member(
        email="hidden@example.org",
        country="PT",
        profile_visibility={"country": "coordinators"},
    )
    without = coordinator(["PT"], totp_secret=None, totp_enabled_at=None)
    client.sign_in_as(db_session, without)

    profile = client.get(f"/directory/{hidden.id}").text
    listed = client.get("/api/v1/members").text

    assert "Portugal" not in profile
    assert "hidden@example.org" not in profile
    assert "hidden@example.org" not in listed
