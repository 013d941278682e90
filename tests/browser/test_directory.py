"""The directory, the profile and personal data in a real browser, with axe on every page."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

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

PASSWORD = "a long directory test password"


def new_member(live_env: dict[str, str], name: str, country: str = "PT") -> str:
    """A member created with the portal command; returns the (unique) e-mail address."""
    email = f"{name.split()[0].lower()}.{uuid.uuid4().hex[:8]}@example.org"
    portal_cli(
        live_env, "users", "create", email, "--name", name, "--country", country,
        "--member-type", "researcher", stdin=PASSWORD + "\n",
    )  # fmt: skip
    return email


def sign_in_as(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


def test_a_field_hidden_from_members_is_not_shown_to_another_member(
    page: Page, live_server: str, live_env: dict[str, str]
) -> None:
    name = f"Hiding Hanna {uuid.uuid4().hex[:6]}"
    hider = new_member(live_env, name)
    viewer = new_member(live_env, "Viewing Viktor", country="DE")

    sign_in_as(page, live_server, hider)
    page.goto(f"{live_server}/account/profile")
    expect(page.locator("h1")).to_have_text("My profile")
    assert axe_violations(page) == []
    page.get_by_label("Join an organisation").select_option(label="Demo Helpline Foundation")
    page.get_by_label("Online safety").check()
    page.locator("#visibility_country-coordinators").check()
    page.get_by_role("button", name="Save my profile").click()
    expect(page.get_by_role("status")).to_contain_text("Your profile has been saved.")
    expect(page.locator("#visibility_country-coordinators")).to_be_checked()
    assert axe_violations(page) == []
    screenshot(page, "account-profile")
    page.get_by_role("button", name="Sign out").click()
    # Signed out only once the header says so: a sign-in page loaded before that would
    # carry the old session's form token.
    expect(page.locator(".site-header")).to_contain_text("Sign in")

    sign_in_as(page, live_server, viewer)
    page.goto(f"{live_server}/directory")
    expect(page.locator("h1")).to_have_text("Directory")
    assert axe_violations(page) == []
    page.get_by_role("link", name=name).click()
    expect(page.locator("h1")).to_have_text(name)
    profile = page.locator(".member-profile")
    expect(profile).to_contain_text("Researcher")
    expect(profile).to_contain_text("Demo Helpline Foundation")
    expect(profile).to_contain_text("Online safety")
    expect(profile).not_to_contain_text("Country")
    expect(profile).not_to_contain_text("Portugal")
    expect(page.locator("main")).not_to_contain_text(hider)
    assert axe_violations(page) == []
    screenshot(page, "directory-profile")


def test_the_directory_search_updates_as_you_type(
    page: Page, live_server: str, live_env: dict[str, str]
) -> None:
    marker = uuid.uuid4().hex[:6]
    wanted = f"Searchable Selma {marker}"
    new_member(live_env, wanted)
    viewer = new_member(live_env, "Typing Tom")
    sign_in_as(page, live_server, viewer)
    page.goto(f"{live_server}/directory")
    page.evaluate("window.notReloaded = true")

    page.get_by_label("Name").press_sequentially(f"selma {marker}", delay=30)

    results = page.locator("#directory-results")
    expect(results.get_by_role("link")).to_have_count(1)
    expect(results.get_by_role("link")).to_have_text(wanted)
    expect(results).to_contain_text("1 member found")
    expect(page).to_have_url(re.compile(r"/directory\?q=selma"))
    assert page.evaluate("window.notReloaded") is True

    page.get_by_label("Country").select_option("SE")
    expect(results).to_contain_text("No member matches this search.")
    expect(page).to_have_url(re.compile(r"country=SE"))
    assert page.evaluate("window.notReloaded") is True
    assert axe_violations(page) == []
    screenshot(page, "directory-search")


def test_the_directory_search_works_without_javascript(
    no_js_page: Page, live_server: str, live_env: dict[str, str]
) -> None:
    marker = uuid.uuid4().hex[:6]
    wanted = f"Plain Paola {marker}"
    new_member(live_env, wanted)
    viewer = new_member(live_env, "Plain Viewer")
    page = no_js_page
    sign_in_as(page, live_server, viewer)
    page.goto(f"{live_server}/directory")

    page.get_by_label("Name").fill(marker)
    page.get_by_role("button", name="Search").click()

    expect(page).to_have_url(re.compile(rf"q={marker}"))
    expect(page.locator("#directory-results").get_by_role("link")).to_have_text(wanted)


def test_a_member_downloads_their_data_and_deletes_the_account(
    page: Page, live_server: str, live_env: dict[str, str], mailbox: Mailbox, tmp_path: Path
) -> None:
    email = new_member(live_env, "Leaving Lea")
    sign_in_as(page, live_server, email)

    page.goto(f"{live_server}/account/data")
    expect(page.locator("h1")).to_have_text("My data")
    assert axe_violations(page) == []
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download my data").click()
    download = download_info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    data = json.loads(target.read_text())
    assert download.suggested_filename.endswith(".json")
    assert data["member"]["email"] == email
    assert data["member"]["full_name"] == "Leaving Lea"
    assert data["sessions"]

    page.get_by_role("link", name="Delete my account").click()
    expect(page.locator("h1")).to_have_text("Delete my account")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Delete my account").click()
    expect(page.locator("#confirm-error")).to_be_visible()
    expect(page.locator("#password-error")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Your current password").fill(PASSWORD)
    page.get_by_label("I understand").check()
    page.get_by_role("button", name="Delete my account").click()

    page.wait_for_url(f"{live_server}/")
    expect(page.get_by_role("link", name="Sign in", exact=True)).to_be_visible()
    message = mailbox.wait_for(email, "was deleted")
    assert "Hello Leaving Lea," in mail_text(message)
    page.goto(f"{live_server}/account/profile")
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))


def test_api_tokens_are_created_shown_once_and_revoked(
    page: Page, live_server: str, live_env: dict[str, str]
) -> None:
    email = new_member(live_env, "Token Tina")
    sign_in_as(page, live_server, email)

    page.goto(f"{live_server}/account/tokens")
    expect(page.locator("h1")).to_have_text("API tokens")
    assert axe_violations(page) == []
    page.get_by_label("Name").fill("Nightly export")
    page.get_by_label("Read: see your profile and the directory.").check()
    page.get_by_role("button", name="Create the token").click()

    secret = page.locator("#new-token-secret").input_value()
    assert secret.startswith("pnp_")
    expect(page.locator("#new-token")).to_contain_text("shown only this once")
    assert axe_violations(page) == []
    screenshot(page, "account-tokens-created")
    api = page.request.get(
        f"{live_server}/api/v1/me", headers={"Authorization": f"Bearer {secret}"}
    )
    assert api.json()["email"] == email

    page.goto(f"{live_server}/account/tokens")
    expect(page.locator("main")).not_to_contain_text(secret)
    page.get_by_role("button", name="Revoke Nightly export").click()
    expect(page.get_by_role("status")).to_contain_text("has been revoked")
    revoked = page.request.get(
        f"{live_server}/api/v1/me", headers={"Authorization": f"Bearer {secret}"}
    )
    assert revoked.status == 401
