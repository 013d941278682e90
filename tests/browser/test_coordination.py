"""Coordination in a real browser: members, suspension and reinstatement, the audit log.

A national coordinator signs in with two factors, suspends and reinstates a member with a
reason, and reads both in the audit log; every page of the coordination area passes axe.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyotp
import pytest
from playwright.sync_api import Page, expect

from app.config import PROJECT_ROOT
from tests.browser.conftest import (
    axe_violations,
    live_env_python,
    mail_text,
    portal_cli,
    screenshot,
)
from tests.factories import TEST_TOTP_SECRET
from tests.ports import free_port
from tests.smtp import Mailbox

pytestmark = pytest.mark.browser

COORDINATOR_EMAIL = "coordination.pt@example.org"
COORDINATOR_PASSWORD = "a long coordination test password"
# A second coordinator: each test signs in with a one-time code, and a code works only once.
SECOND_COORDINATOR_EMAIL = "coordination.pt2@example.org"
ADMIN_EMAIL = "coordination.admin@example.org"
TARGET_EMAIL = "coordination.target@example.org"
TARGET_NAME = "Tomás Target"
LAPSED_EMAIL = "coordination.lapsed@example.org"


def _make_coordinator(env: dict[str, str], email: str, *, countries: list[str]) -> None:
    """Two-factor authentication on (with the tests' fixed secret) and country scope set."""
    live_env_python(
        env,
        f"""
from datetime import UTC, datetime
from sqlalchemy import select
from app.config import get_settings
from app.db import build_engine, make_session_factory
from app.members.models import CoordinatorCountry, Member

engine = build_engine(get_settings().database_url)
with make_session_factory(engine)() as session, session.begin():
    member = session.scalars(select(Member).where(Member.email == {email!r})).one()
    member.totp_secret = {TEST_TOTP_SECRET!r}
    member.totp_enabled_at = datetime.now(UTC)
    for code in {countries!r}:
        session.add(CoordinatorCountry(member_id=member.id, country=code))
engine.dispose()
""",
    )


@pytest.fixture(scope="module")
def portal(live_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A portal of this module's own (its own database and port), sending mail to ``mailbox``.

    Migrated to "heads": while the membership work is in progress, its migrations are parallel.
    """
    directory = tmp_path_factory.mktemp("coordination-live")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **live_env,
        "PORTAL_DATABASE_URL": f"sqlite:///{directory / 'portal.db'}",
        "PORTAL_MAIL_DIR": str(directory / "mail"),
        "PORTAL_UPLOAD_DIR": str(directory / "uploads"),
        "PORTAL_BASE_URL": base_url,
        "PORTAL_PORT": str(port),
        "LIVE_DIRECTORY": str(directory),
    }
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "heads"],
        env=env,
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    portal_cli(env, "demo-data")
    for email, arguments in (
        (COORDINATOR_EMAIL, ["--role", "coordinator", "--country", "PT", "--name", "Paula PT"]),
        (SECOND_COORDINATOR_EMAIL, ["--role", "coordinator", "--country", "PT"]),
        (ADMIN_EMAIL, ["--role", "admin", "--country", "BE", "--name", "Ada Admin"]),
        (TARGET_EMAIL, ["--country", "PT", "--name", TARGET_NAME]),
        (LAPSED_EMAIL, ["--country", "PT", "--name", "Lia Lapsed"]),
    ):
        portal_cli(env, "users", "create", email, *arguments, stdin=COORDINATOR_PASSWORD + "\n")
    _make_coordinator(env, COORDINATOR_EMAIL, countries=["PT"])
    _make_coordinator(env, SECOND_COORDINATOR_EMAIL, countries=["PT"])
    _make_coordinator(env, ADMIN_EMAIL, countries=[])
    live_env_python(
        env,
        f"""
from datetime import date, timedelta
from sqlalchemy import update
from app.config import get_settings
from app.db import build_engine
from app.members.models import Member

engine = build_engine(get_settings().database_url)
with engine.begin() as connection:
    connection.execute(
        update(Member)
        .where(Member.email == {LAPSED_EMAIL!r})
        .values(membership_expires_on=date.today() - timedelta(days=1))
    )
engine.dispose()
""",
    )
    assert "1 lapsed" in portal_cli(env, "memberships", "sweep")
    log = (directory / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait_until_up(base_url, server, directory / "server.log")
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def _wait_until_up(base_url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).is_success:
                return
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail("the portal did not start: " + log.read_text())
        time.sleep(0.1)


def _sign_in(page: Page, base_url: str, email: str, *, two_factor: bool, target: str) -> None:
    page.goto(f"{base_url}/sign-in?next={target}")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(COORDINATOR_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if two_factor:
        page.wait_for_url(f"{base_url}/sign-in/two-factor")
        page.locator('input[name="code"]').fill(pyotp.TOTP(TEST_TOTP_SECRET).now())
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}{target}")
    # Signing in rotates the CSRF token, but a boosted navigation keeps <body>'s hx-headers
    # (the old token), so htmx-sent forms would be refused until a full page load.
    page.goto(f"{base_url}{target}")


def test_a_coordinator_suspends_and_reinstates_a_member_and_reads_the_audit_log(
    page: Page, portal: str, mailbox: Mailbox
) -> None:
    _sign_in(page, portal, COORDINATOR_EMAIL, two_factor=True, target="/coordinate/members")
    expect(page.locator("h1")).to_have_text("Members")
    assert axe_violations(page) == []

    page.get_by_label("Name or e-mail").fill("tomás")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    page.get_by_role("link", name=TARGET_NAME).click()
    expect(page.locator("h1")).to_have_text(TARGET_NAME)
    expect(page.get_by_text(TARGET_EMAIL).first).to_be_visible()
    assert axe_violations(page) == []

    # No reason: the message is at the field, and the page still passes axe.
    page.get_by_role("button", name="Suspend this member").click()
    expect(page.locator("#suspend_reason-error")).to_be_visible()
    expect(page.locator("#suspend_reason")).to_have_attribute("aria-invalid", "true")
    assert axe_violations(page) == []

    page.get_by_label("Reason for the suspension").fill("Shared a members-only report")
    page.get_by_role("button", name="Suspend this member").click()
    expect(page.locator(".notice--success")).to_contain_text("is suspended")
    expect(page.locator(".definition-list")).to_contain_text("Suspended")
    assert axe_violations(page) == []
    suspended = mailbox.wait_for(TARGET_EMAIL, "suspended")
    assert "Shared a members-only report" in mail_text(suspended)

    page.get_by_label("Reason for reinstating").fill("Took the report down and apologised")
    page.get_by_role("button", name="Reinstate this member").click()
    expect(page.locator(".notice--success")).to_contain_text("is reinstated")
    expect(page.locator(".definition-list")).to_contain_text("Active")
    mailbox.wait_for(TARGET_EMAIL, "reinstated")
    screenshot(page, "coordination-member")

    page.get_by_role("link", name="Audit log").first.click()
    expect(page.locator("h1")).to_have_text("Audit log")
    rows = page.locator("tbody tr")
    expect(rows.nth(0)).to_contain_text("Reinstated a member")
    expect(rows.nth(0)).to_contain_text("Took the report down and apologised")
    expect(rows.nth(0)).to_contain_text("Paula PT")
    expect(rows.nth(1)).to_contain_text("Suspended a member")
    expect(rows.nth(1)).to_contain_text("Shared a members-only report")
    expect(rows.nth(1)).to_contain_text(re.compile(r"Status:\s*Active\s*→.*Suspended"))
    assert axe_violations(page) == []

    page.get_by_label("Action").select_option("member.suspend")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    assert axe_violations(page) == []
    screenshot(page, "coordination-audit")


COORDINATOR_PAGES = [
    ("/coordinate/invite", "Invite a member"),
    ("/coordinate/organisations", "Organisations"),
    ("/coordinate/organisations/new", "Add an organisation"),
    ("/coordinate/organisations/merge", "Merge duplicate organisations"),
    ("/account/membership", "Membership"),
]


def test_the_other_coordination_pages_pass_axe(page: Page, portal: str) -> None:
    _sign_in(page, portal, SECOND_COORDINATOR_EMAIL, two_factor=True, target="/coordinate/invite")
    for path, heading in COORDINATOR_PAGES:
        page.goto(portal + path)
        expect(page.locator("h1")).to_have_text(heading)
        assert axe_violations(page) == [], path

    # An invitation with an address already in use: the message is at the field.
    page.goto(portal + "/coordinate/invite")
    page.get_by_label("E-mail address").fill(TARGET_EMAIL)
    page.get_by_label("Full name").fill("Someone Else")
    page.get_by_label("Country").select_option("PT")
    page.get_by_label("Member type").select_option("practitioner")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator("#email-error")).to_contain_text("already exists")
    assert axe_violations(page) == []

    # An organisation's edit form, and the merge confirmation step.
    page.goto(portal + "/coordinate/organisations?country=PT")
    page.locator("tbody a").first.click()
    expect(page.locator("h1")).to_contain_text("Edit")
    assert axe_violations(page) == []
    page.goto(portal + "/coordinate/organisations/merge")
    page.get_by_label("The duplicate (it will be deleted)").select_option(index=1)
    page.get_by_label("The organisation to keep").select_option(index=2)
    page.get_by_role("button", name="Show what moves").click()
    expect(page.locator("h2")).to_have_text("Check what moves")
    assert axe_violations(page) == []


def test_an_admin_sees_the_role_form_and_it_passes_axe(page: Page, portal: str) -> None:
    _sign_in(page, portal, ADMIN_EMAIL, two_factor=True, target="/coordinate/members")
    page.get_by_label("Name or e-mail").fill("lia")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="Lia Lapsed").click()

    expect(page.get_by_role("heading", name="Coordinator role")).to_be_visible()
    assert axe_violations(page) == []


def test_a_lapsed_member_renews_in_one_click(page: Page, portal: str, mailbox: Mailbox) -> None:
    _sign_in(page, portal, LAPSED_EMAIL, two_factor=False, target="/account/membership")
    expect(page.locator(".notice--warning")).to_contain_text("Your membership has lapsed")
    assert axe_violations(page) == []

    page.get_by_role("button", name="Renew my membership").click()

    expect(page.locator(".notice--success")).to_contain_text("renewed until")
    expect(page.locator(".definition-list")).to_contain_text("Active")
    assert axe_violations(page) == []
    mailbox.wait_for(LAPSED_EMAIL, "renewed")
