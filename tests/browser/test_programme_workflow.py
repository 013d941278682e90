"""Writing and reviewing a programme in a real browser.

A member describes a programme (the form tells them about a bad e-mail address and a
reversed age range as they type), saves and submits it; the national coordinator finds it in
the review queue and requests changes; the member is told by e-mail. Every page passes axe,
and the form works without JavaScript too.
"""

from __future__ import annotations

import re
import uuid

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    axe_violations,
    live_env_python,
    mail_text,
    portal_cli,
    screenshot,
    wait_until_settled,
)
from tests.factories import TEST_TOTP_SECRET
from tests.smtp import Mailbox

pytestmark = pytest.mark.browser

PASSWORD = "a long programme workflow password"


def _unique(name: str) -> str:
    return f"{name}.{uuid.uuid4().hex[:8]}@example.org"


def _member(live_env: dict[str, str], email: str, name: str) -> None:
    portal_cli(
        live_env, "users", "create", email, "--country", "PT", "--name", name,
        stdin=PASSWORD + "\n",
    )  # fmt: skip


def _coordinator(live_env: dict[str, str], email: str, country: str) -> None:
    """A national coordinator of ``country`` with two-factor authentication on."""
    portal_cli(
        live_env, "users", "create", email, "--role", "coordinator", "--country", country,
        "--name", "Paula Reviewer", stdin=PASSWORD + "\n",
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


def _sign_in(page: Page, base_url: str, email: str, target: str) -> None:
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: not url.endswith("/sign-in"))
    if "/sign-in/two-factor" in page.url:
        page.get_by_label("Code").fill(pyotp.TOTP(TEST_TOTP_SECRET).now())
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/sign-in" not in url)
    # A full load: signing in rotates the CSRF token that htmx requests carry.
    page.goto(base_url + target)


def _fill_required(page: Page, title: str) -> None:
    page.locator("#title").fill(title)
    page.get_by_label("Summary in plain language").fill(
        "Evening groups where parents learn to talk with their children about body safety."
    )
    page.locator("#target_groups-parents").check()
    page.locator("#countries-PT").check()
    page.locator("#countries-DE").check()
    page.locator("#languages-pt").check()


def test_a_member_writes_and_submits_and_a_coordinator_requests_changes(
    page: Page, live_server: str, live_env: dict[str, str], mailbox: Mailbox
) -> None:
    member_email = _unique("programme.author")
    coordinator_email = _unique("programme.reviewer")
    title = f"Talking Families {uuid.uuid4().hex[:6]}"
    _member(live_env, member_email, "Marta Maintainer")
    _coordinator(live_env, coordinator_email, "PT")

    _sign_in(page, live_server, member_email, "/programmes/new")
    expect(page.locator("h1")).to_have_text("Describe a programme")
    assert axe_violations(page) == []
    screenshot(page, "programme-form")

    # Validation as you type, without a page load: a marker on the page survives.
    page.evaluate("() => { document.body.dataset.samePage = 'yes'; }")
    page.get_by_label("Contact e-mail").fill("marta@")
    expect(page.locator("#contact_email-error")).to_have_text(
        "Enter an e-mail address such as name@example.org."
    )
    page.get_by_label("Youngest participants (age)").fill("15")
    page.get_by_label("Oldest participants (age)").fill("10")
    expect(page.locator("#age_max-error")).to_have_text(
        "The oldest age cannot be below the youngest."
    )
    page.locator("#target_groups-parents").check()
    page.locator("#target_groups-parents").uncheck()
    expect(page.locator("#target_groups-error")).to_have_text("Choose at least one target group.")
    assert page.evaluate("() => document.body.dataset.samePage") == "yes"
    wait_until_settled(page)
    screenshot(page, "programme-form-live-errors")
    assert axe_violations(page) == []

    # Fixing the values clears the messages, also the one of the related field.
    page.get_by_label("Contact e-mail").fill("marta@example.org")
    expect(page.locator("#contact_email-error")).to_be_empty()
    page.get_by_label("Youngest participants (age)").fill("4")
    expect(page.locator("#age_max-error")).to_be_empty()
    page.get_by_label("Oldest participants (age)").fill("12")

    _fill_required(page, title)
    page.locator("#description").fill("## How it works\n\nSix **weekly** sessions.")
    page.get_by_label("Face to face", exact=True).check()
    page.locator("#translations-0-language").select_option("pt")
    page.locator("#translations-0-title").fill("Famílias que falam")
    page.get_by_role("button", name="Save the draft").click()

    page.wait_for_url(re.compile(r"/programmes/\d+/review$"))
    programme_path = page.url.removeprefix(live_server).removesuffix("/review")
    expect(page.locator(".notice--success")).to_contain_text("Your draft is saved")
    expect(page.locator("h1")).to_have_text(title)
    expect(page.locator("#status")).to_contain_text("Draft")
    assert axe_violations(page) == []

    page.get_by_label("A note for the coordinators (optional)").fill("First version, thanks!")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".notice--success")).to_contain_text("Submitted")
    expect(page.locator("#thread")).to_contain_text("First version, thanks!")
    expect(page.locator("#status")).to_contain_text("Waiting for review")
    assert axe_violations(page) == []
    screenshot(page, "programme-review-submitted")

    page.goto(live_server + "/programmes/mine")
    expect(page.locator("#my-programmes")).to_contain_text(title)
    expect(page.locator("#my-programmes")).to_contain_text("Waiting for review")
    assert axe_violations(page) == []
    screenshot(page, "programme-mine")

    page.context.clear_cookies()
    _sign_in(page, live_server, coordinator_email, "/coordinate")
    page.get_by_role("link", name="Programmes to review").click()
    expect(page.locator("h1")).to_have_text("Programmes to review")
    row = page.locator("#queue tbody tr", has_text=title)
    expect(row).to_contain_text("Marta Maintainer")
    expect(row).to_contain_text("new programme")
    assert axe_violations(page) == []
    screenshot(page, "programme-queue")

    row.get_by_role("link", name=title).click()
    page.wait_for_url(f"{live_server}{programme_path}/review")
    expect(page.locator("#changes")).to_contain_text("Famílias que falam")
    assert axe_violations(page) == []

    # A request for changes needs a comment: the message is at the field.
    page.get_by_label("Request changes").check()
    page.get_by_role("button", name="Send the decision").click()
    expect(page.locator("#comment-error")).to_contain_text("Tell the maintainers")
    expect(page.get_by_label("Request changes")).to_be_checked()
    assert axe_violations(page) == []
    page.get_by_label("Comment to the maintainers").fill("Please name the provider.")
    page.get_by_role("button", name="Send the decision").click()
    expect(page.locator(".notice--success")).to_contain_text("Changes requested")
    expect(page.locator("#status")).to_contain_text("Changes requested")
    expect(page.locator("#thread")).to_contain_text("Please name the provider.")
    assert axe_violations(page) == []
    screenshot(page, "programme-review-changes-requested")

    message = mailbox.wait_for(member_email, "Changes requested")
    assert "Please name the provider." in mail_text(message)

    # The member edits the version sent back and submits it again.
    page.context.clear_cookies()
    _sign_in(page, live_server, member_email, f"{programme_path}/review")
    expect(page.locator("#thread")).to_contain_text("Please name the provider.")
    page.get_by_role("link", name="Edit this version").click()
    expect(page.locator("h1")).to_have_text(f"Edit “{title}”")
    expect(page.locator("#title")).to_have_value(title)
    expect(page.locator("#countries-PT")).to_be_checked()
    assert axe_violations(page) == []
    page.get_by_label("Provider (if not listed)").fill("Association of Talking Families")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(f"{live_server}{programme_path}/review")
    expect(page.locator("#changes")).to_contain_text("Association of Talking Families")
    expect(page.locator("#changes-title")).to_contain_text("Changes since version 1")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator("#status")).to_contain_text("Waiting for review")
    assert axe_violations(page) == []
    screenshot(page, "programme-review-resubmitted")


def test_the_form_works_without_javascript(
    no_js_page: Page, live_server: str, live_env: dict[str, str]
) -> None:
    page = no_js_page
    email = _unique("programme.nojs")
    title = f"Quiet Helpline {uuid.uuid4().hex[:6]}"
    _member(live_env, email, "Nora Nojs")
    _sign_in(page, live_server, email, "/programmes/new")

    page.locator("#title").fill(title)
    page.get_by_label("Contact e-mail").fill("not-an-address")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.locator("#error-summary")).to_contain_text("Choose at least one target group.")
    expect(page.locator("#contact_email-error")).to_contain_text("Enter an e-mail address")
    expect(page.locator("#title")).to_have_value(title)
    expect(page.get_by_label("Contact e-mail")).to_have_value("not-an-address")
    # (axe needs JavaScript: it runs on the same form in the test above.)
    screenshot(page, "programme-form-errors-no-js")

    page.get_by_label("Contact e-mail").fill("")
    _fill_required(page, title)
    page.get_by_role("button", name="Save the draft").click()
    expect(page.locator(".notice--success")).to_contain_text("Your draft is saved")
    expect(page.locator("h1")).to_have_text(title)
