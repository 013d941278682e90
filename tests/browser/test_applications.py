"""Applying and vetting in a real browser, with the e-mails the live portal really sends.

A practitioner applies (without JavaScript), the national coordinator asks for information,
the applicant answers through the link in the e-mail, the coordinator approves, and the
approval e-mail brings the link to set a password.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    axe_violations,
    live_env_python,
    mail_text,
    portal_cli,
    screenshot,
)
from tests.factories import TEST_TOTP_SECRET
from tests.smtp import Mailbox

pytestmark = pytest.mark.browser

COORDINATOR_PASSWORD = "a long coordinator test password"
LINK = re.compile(r"http://127\.0\.0\.1:\d+(/\S+)")


def _unique(name: str) -> str:
    return f"{name}.{uuid.uuid4().hex[:8]}@example.org"


def _make_coordinator(live_env: dict[str, str], email: str, country: str) -> None:
    """A national coordinator of ``country`` with two-factor authentication on."""
    portal_cli(
        live_env, "users", "create", email, "--role", "coordinator", "--country", country,
        "--name", "Paula Coordinator", stdin=COORDINATOR_PASSWORD + "\n",
    )  # fmt: skip
    live_env_python(
        live_env,
        "import app.models\n"
        "from sqlalchemy import select\n"
        "from app.config import get_settings\n"
        "from app.db import build_engine, make_session_factory, utcnow\n"
        "from app.members.models import CoordinatorCountry, Member\n"
        "engine = build_engine(get_settings().database_url)\n"
        "with make_session_factory(engine)() as s, s.begin():\n"
        f"    m = s.scalars(select(Member).where(Member.email == {email!r})).one()\n"
        f"    s.add(CoordinatorCountry(member_id=m.id, country={country!r}))\n"
        f"    m.totp_secret = {TEST_TOTP_SECRET!r}\n"
        "    m.totp_enabled_at = utcnow()\n",
    )


def _sign_in_coordinator(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(COORDINATOR_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Signing in has a second step for coordinators (while it is being built, maybe not).
    page.wait_for_url(lambda url: not url.endswith("/sign-in"))
    if "/sign-in/two-factor" in page.url:
        page.get_by_label("Code").fill(pyotp.TOTP(TEST_TOTP_SECRET).now())
        page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".site-header")).to_contain_text("Paula Coordinator")


def _link_in(text: str, path_start: str) -> str:
    for path in LINK.findall(text):
        if path.startswith(path_start):
            return str(path)
    raise AssertionError(f"no link to {path_start} in:\n{text}")


def _fill_application(page: Page, name: str, email: str) -> None:
    page.get_by_label("Full name").fill(name)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Country where you work").select_option("PT")
    page.get_by_label("Name of the organisation").fill("Helpline of Portugal, Browser Test")
    page.get_by_label("Type of organisation").select_option("ngo")
    page.get_by_label("Practitioner", exact=True).check()
    page.get_by_label("Helplines and anonymous support").check()
    page.get_by_label("Portuguese", exact=True).check()
    page.get_by_label("English", exact=True).check()
    page.get_by_label("Why would you like to join?").fill(
        "I answer calls at a helpline and would like to learn from other programmes."
    )
    page.get_by_label("I have read the privacy notice").check()


def test_the_form_shows_errors_at_the_fields_and_passes_axe(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/apply")
    expect(page.locator("h1")).to_have_text("Apply to join the network")
    assert axe_violations(page) == []

    page.get_by_label("Full name").fill("Kept Name")
    page.get_by_role("button", name="Send my application").click()

    expect(page.locator("#email-error")).to_have_text("Enter your e-mail address.")
    expect(page.locator("#motivation-error")).to_be_visible()
    expect(page.locator("#privacy_consent-error")).to_be_visible()
    expect(page.get_by_label("Full name")).to_have_value("Kept Name")
    expect(page.locator("#error-summary")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "apply-errors")


def test_choosing_a_country_brings_its_organisations_first(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/apply")

    page.get_by_label("Country where you work").select_option("PT")

    first_group = page.locator("#organisation_id optgroup").first
    expect(first_group).to_have_attribute("label", "Portugal")
    expect(first_group.locator("option").first).to_have_text(
        "Demo Ministry of Justice, Prevention Unit"
    )
    organisations = page.get_by_label("Organisation", exact=True)
    organisations.select_option(label="Demo Ministry of Justice, Prevention Unit")
    chosen = organisations.input_value()
    page.get_by_label("Country where you work").select_option("DE")

    expect(page.locator("#organisation_id optgroup").first).to_have_attribute("label", "Germany")
    # The chosen organisation stays chosen while the list is rebuilt.
    expect(page.get_by_label("Organisation", exact=True)).to_have_value(chosen)
    assert axe_violations(page) == []


def test_apply_ask_answer_approve(
    page: Page,
    no_js_page: Page,
    live_server: str,
    live_env: dict[str, str],
    mailbox: Mailbox,
) -> None:
    applicant_email = _unique("practitioner")
    coordinator_email = _unique("coordinator.pt")
    _make_coordinator(live_env, coordinator_email, "PT")

    # The practitioner applies without JavaScript.
    applicant = no_js_page
    applicant.goto(f"{live_server}/apply")
    _fill_application(applicant, "Pia Practitioner", applicant_email)
    applicant.get_by_role("button", name="Send my application").click()
    expect(applicant.locator("h1")).to_have_text("Thank you for applying")
    expect(applicant.locator(".notice")).to_contain_text(applicant_email)

    received = mail_text(mailbox.wait_for(applicant_email, "We have received your application"))
    _link_in(received, "/applications/")
    told = mail_text(mailbox.wait_for(coordinator_email, "New application from Pia Practitioner"))
    detail_path = _link_in(told, "/coordinate/applications/")

    # The national coordinator finds it in the queue and asks for information.
    _sign_in_coordinator(page, live_server, coordinator_email)
    page.goto(f"{live_server}/coordinate")
    expect(page.locator("h1")).to_have_text("Coordination")
    assert axe_violations(page) == []
    page.get_by_role("link", name=re.compile("Open the application queue")).click()
    expect(page.locator("h1")).to_have_text("Applications")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Pia Practitioner").click()
    expect(page).to_have_url(f"{live_server}{detail_path}")
    expect(page.locator("h1")).to_have_text("Application from Pia Practitioner")
    assert axe_violations(page) == []
    page.get_by_label("Ask the applicant for more information").check()
    page.get_by_label("Message to the applicant").fill("Which helpline do you work for?")
    page.get_by_role("button", name="Send the decision").click()
    expect(page.locator("#decision-done")).to_contain_text("Your question has been sent")
    expect(page.locator("#application-status")).to_contain_text("Information requested")

    # The applicant answers through the link in the e-mail.
    question = mail_text(mailbox.wait_for(applicant_email, "A question about your application"))
    assert "Which helpline do you work for?" in question
    applicant.goto(live_server + _link_in(question, "/applications/"))
    expect(applicant.locator("h1")).to_have_text("Your application")
    expect(applicant.locator("main")).to_contain_text("Which helpline do you work for?")
    applicant.get_by_label("Answer to the coordinator").fill("The national child helpline.")
    applicant.get_by_role("button", name="Send my answer").click()
    expect(applicant.locator(".notice--success")).to_contain_text("your answer has been sent")
    mailbox.wait_for(applicant_email, "We have received your answer")
    mailbox.wait_for(coordinator_email, "Pia Practitioner has answered")

    # The coordinator approves.
    page.goto(f"{live_server}{detail_path}")
    expect(page.locator("main")).to_contain_text("The national child helpline.")
    page.get_by_label("Approve: create the member account").check()
    page.get_by_role("button", name="Send the decision").click()
    expect(page.locator("#decision-done")).to_contain_text("Approved")
    expect(page.locator("#application-status")).to_contain_text("Approved")
    assert axe_violations(page) == []
    screenshot(page, "application-approved")

    # The approval e-mail brings the link to set a password.
    welcome = mail_text(mailbox.wait_for(applicant_email, "your application is approved"))
    assert "Hello Pia Practitioner," in welcome
    set_password_path = _link_in(welcome, "/account/set-password/")

    # The new member sets a password through the link and is signed in.
    member = applicant
    member.goto(live_server + set_password_path)
    member.get_by_label("Password").fill("the helpline keeps ringing at night")
    member.get_by_role("button", name="Set my password and sign in").click()
    expect(member.locator(".site-header")).to_contain_text("Pia Practitioner")

    # ... turns on two-factor authentication (this part needs no JavaScript either) ...
    member.goto(f"{live_server}/account/security/two-factor")
    secret = (member.locator("#totp-secret").text_content() or "").replace(" ", "")
    authenticator = pyotp.TOTP(secret)
    member.get_by_label("6-digit code").fill(authenticator.now())
    member.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(member.locator("#recovery-codes li")).to_have_count(10)

    # ... signs out and in again with password and code ...
    member.locator(".site-header").get_by_role("button", name="Sign out").click()
    expect(member.locator(".site-header")).to_contain_text("Sign in")
    member.goto(f"{live_server}/sign-in")
    member.get_by_label("E-mail address").fill(applicant_email)
    member.get_by_label("Password").fill("the helpline keeps ringing at night")
    member.get_by_role("button", name="Sign in").click()
    expect(member.locator("h1")).to_have_text("Two-factor authentication")
    member.get_by_label("Code").fill(authenticator.at(time.time() + 30))
    member.get_by_role("button", name="Sign in").click()
    expect(member.locator(".site-header")).to_contain_text("Pia Practitioner")

    # ... hides a profile field from other members ...
    member.goto(f"{live_server}/account/profile")
    expect(member.locator("main")).to_contain_text("Helpline of Portugal")
    member.locator("#visibility_country-coordinators").check()
    member.get_by_role("button", name="Save my profile").click()
    expect(member.locator("#visibility_country-coordinators")).to_be_checked()

    # ... and downloads all their data.
    member.goto(f"{live_server}/account/data")
    with member.expect_download() as download_info:
        member.get_by_role("link", name="Download my data").click()
    exported = json.loads(Path(download_info.value.path()).read_text())
    assert exported["member"]["email"] == applicant_email
    assert exported["member"]["profile_visibility"]["country"] == "coordinators"


def test_the_applicants_page_passes_axe(page: Page, live_server: str, mailbox: Mailbox) -> None:
    email = _unique("axe.applicant")
    page.goto(f"{live_server}/apply")
    _fill_application(page, "Axel Applicant", email)
    page.get_by_role("button", name="Send my application").click()
    expect(page.locator("h1")).to_have_text("Thank you for applying")
    assert axe_violations(page) == []

    received = mail_text(mailbox.wait_for(email, "We have received your application"))
    page.goto(live_server + _link_in(received, "/applications/"))

    expect(page.locator("#application-status")).to_contain_text("Waiting for a coordinator")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Withdraw my application").click()
    expect(page.locator(".notice--success")).to_contain_text("You have withdrawn")
    mailbox.wait_for(email, "You have withdrawn your application")
