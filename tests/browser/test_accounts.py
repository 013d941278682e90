"""Accounts in a real browser: two-factor enrolment and sign-in, password reset by real mail."""

from __future__ import annotations

import re
import time
import uuid

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    axe_violations,
    mail_text,
    portal_cli,
    screenshot,
)
from tests.smtp import Mailbox

pytestmark = pytest.mark.browser

PASSWORD = "a long accounts test password"
LINK = re.compile(r"http://127\.0\.0\.1:\d+(/\S+)")


def _new_member(live_env: dict[str, str], name: str) -> str:
    email = f"{name.lower().replace(' ', '.')}.{uuid.uuid4().hex[:8]}@example.org"
    portal_cli(live_env, "users", "create", email, "--name", name, stdin=PASSWORD + "\n")
    return email


def _fill_sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_member_turns_on_two_factor_and_signs_in_with_a_code(
    page: Page, live_server: str, live_env: dict[str, str]
) -> None:
    email = _new_member(live_env, "Tess Totp")
    _fill_sign_in(page, live_server, email, PASSWORD)
    expect(page.locator(".site-header")).to_contain_text("Tess Totp")

    page.goto(f"{live_server}/account/security")
    expect(page.locator("h1")).to_have_text("Sign-in and security")
    expect(page.locator("td").filter(has_text="This browser")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "account-security")

    page.get_by_role("link", name="Set up two-factor authentication").click()
    expect(page.locator("h1")).to_have_text("Two-factor authentication")
    expect(page.get_by_role("img", name="QR code")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "account-two-factor-setup")
    secret = (page.locator("#totp-secret").text_content() or "").replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    authenticator = pyotp.TOTP(secret)
    page.get_by_label("6-digit code").fill(authenticator.now())
    page.get_by_role("button", name="Turn on two-factor authentication").click()

    expect(page.locator("h1")).to_have_text("Your recovery codes")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    assert axe_violations(page) == []
    page.get_by_role("link", name="I have saved my recovery codes").click()
    expect(page.locator("#two-factor")).to_contain_text("On")

    page.locator(".site-header").get_by_role("button", name="Sign out").click()
    expect(page.locator(".site-header")).not_to_contain_text("Tess Totp")

    _fill_sign_in(page, live_server, email, PASSWORD)
    page.wait_for_url(f"{live_server}/sign-in/two-factor")
    expect(page.locator("h1")).to_have_text("Two-factor authentication")
    assert axe_violations(page) == []
    screenshot(page, "sign-in-two-factor")
    # The code that turned two-factor on cannot be used again: take the next one.
    page.get_by_label("Code").fill(authenticator.at(time.time() + 30))
    page.get_by_role("button", name="Sign in").click()

    expect(page.locator(".site-header")).to_contain_text("Tess Totp")


def test_a_wrong_code_is_shown_at_the_field(
    page: Page, live_server: str, live_env: dict[str, str]
) -> None:
    email = _new_member(live_env, "Wanda Wrong")
    _fill_sign_in(page, live_server, email, PASSWORD)
    expect(page.locator(".site-header")).to_contain_text("Wanda Wrong")
    page.goto(f"{live_server}/account/security/two-factor")
    page.get_by_role("button", name="Turn on two-factor authentication").click()

    expect(page.locator("#code-error")).to_have_text(
        "Enter the 6-digit code your authenticator app shows."
    )
    expect(page.get_by_label("6-digit code")).to_have_attribute("aria-invalid", "true")
    assert axe_violations(page) == []


def test_a_forgotten_password_is_reset_through_the_mailed_link(
    page: Page, live_server: str, live_env: dict[str, str], mailbox: Mailbox
) -> None:
    email = _new_member(live_env, "Rita Reset")
    page.goto(f"{live_server}/sign-in")
    page.get_by_role("link", name="Forgot your password?").click()

    expect(page.locator("h1")).to_have_text("Reset your password")
    assert axe_violations(page) == []
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Send the link").click()
    expect(page.locator("h1")).to_have_text("Check your e-mail")
    assert axe_violations(page) == []

    text = mail_text(mailbox.wait_for(email, "Reset your password"))
    path = next(path for path in LINK.findall(text) if path.startswith("/password-reset/"))
    page.goto(live_server + path)
    expect(page.locator("h1")).to_have_text("Choose a new password")
    assert axe_violations(page) == []

    page.get_by_label("New password").fill("too short")
    page.get_by_role("button", name="Change my password").click()
    expect(page.locator("#password-error")).to_contain_text("at least 12 characters")
    assert axe_violations(page) == []

    page.get_by_label("New password").fill("marigold tugboat seventeen")
    page.get_by_role("button", name="Change my password").click()
    expect(page.locator(".notice--success")).to_contain_text("Your password has been changed.")
    assert "/sign-in" in page.url
    assert axe_violations(page) == []
    changed = mail_text(mailbox.wait_for(email, "Your password was changed"))
    assert "/password-reset" in changed

    _fill_sign_in(page, live_server, email, "marigold tugboat seventeen")
    expect(page.locator(".site-header")).to_contain_text("Rita Reset")
