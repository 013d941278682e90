"""Curating a vocabulary in a real browser.

A national coordinator signs in with two factors, adds a setting (after a form with
mistakes), changes its labels, retires it and brings it back; every page passes axe, and
the public API follows each change. Without JavaScript the same forms work.
"""

from __future__ import annotations

import uuid

import httpx
import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import axe_violations, live_env_python, portal_cli, screenshot
from tests.factories import TEST_TOTP_SECRET

pytestmark = pytest.mark.browser

PASSWORD = "a long vocabulary test password"


def _make_coordinator(live_env: dict[str, str]) -> str:
    """A new national coordinator of Portugal with two-factor authentication on."""
    email = f"vocabularies.{uuid.uuid4().hex[:8]}@example.org"
    portal_cli(
        live_env, "users", "create", email, "--role", "coordinator", "--country", "PT",
        "--name", "Vera Vocabulary", stdin=PASSWORD + "\n",
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
        "    s.add(CoordinatorCountry(member_id=m.id, country='PT'))\n"
        f"    m.totp_secret = {TEST_TOTP_SECRET!r}\n"
        "    m.totp_enabled_at = utcnow()\n",
    )
    return email


def _sign_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/sign-in?next=/coordinate")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/sign-in/two-factor")
    page.locator('input[name="code"]').fill(pyotp.TOTP(TEST_TOTP_SECRET).now())
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/coordinate")
    # Signing in rotates the CSRF token; a full load gives htmx the new one.
    page.goto(f"{base_url}/coordinate")


def _api_term(base_url: str, code: str) -> dict[str, object] | None:
    response = httpx.get(f"{base_url}/api/v1/vocabularies/settings?include_retired=true")
    response.raise_for_status()
    for term in response.json()["terms"]:
        if term["code"] == code:
            return dict(term)
    return None


def test_a_coordinator_adds_relabels_retires_and_reinstates_a_setting(
    page: Page, live_server: str, live_env: dict[str, str]
) -> None:
    email = _make_coordinator(live_env)
    code = f"youth_club_{uuid.uuid4().hex[:6]}"
    _sign_in(page, live_server, email)

    page.get_by_role("link", name="Vocabularies").click()
    expect(page.locator("h1")).to_have_text("Vocabularies")
    assert axe_violations(page) == []

    page.get_by_role("link", name="Settings", exact=True).click()
    expect(page.locator("h1")).to_have_text("Settings")
    expect(page.locator("#term-school")).to_contain_text("Offered")
    assert axe_violations(page) == []

    # Mistakes: each message is at its field, and what was typed stays.
    page.get_by_label("Code").fill("Youth Club")
    page.get_by_label("Label in English").fill("Youth clubs")
    page.get_by_role("button", name="Add the term").click()
    expect(page.locator("#code-error")).to_contain_text("lower-case letters")
    expect(page.locator("#label_de-error")).to_contain_text("every language")
    expect(page.locator("#label_fr")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Label in English")).to_have_value("Youth clubs")
    assert page.url == f"{live_server}/coordinate/vocabularies/settings"
    assert axe_violations(page) == []

    page.get_by_label("Code").fill(code)
    page.get_by_label("Label in German").fill("Jugendclubs")
    page.get_by_label("Label in French").fill("Clubs de jeunes")
    page.get_by_role("button", name="Add the term").click()
    expect(page.locator(".notice--success")).to_contain_text(
        f"The term “Youth clubs” ({code}) is added."
    )
    row = page.locator(f"#term-{code}")
    expect(row).to_contain_text("Youth clubs")
    expect(row).to_contain_text("Jugendclubs")
    expect(row).to_contain_text("Offered")
    assert axe_violations(page) == []
    assert _api_term(live_server, code) == {
        "code": code,
        "label": "Youth clubs",
        "labels": {"en": "Youth clubs", "de": "Jugendclubs", "fr": "Clubs de jeunes"},
        "parent_code": None,
        "retired": False,
    }

    row.get_by_role("link", name="Change labels").click()
    expect(page.locator("h1")).to_have_text(f"Labels of {code}")
    expect(page.get_by_label("Label in German")).to_have_value("Jugendclubs")
    assert axe_violations(page) == []
    page.get_by_label("Label in English").fill("Youth clubs and centres")
    page.get_by_role("button", name="Save the labels").click()
    expect(page.locator(".notice--success")).to_contain_text(f"The labels of “{code}” are saved.")
    expect(row).to_contain_text("Youth clubs and centres")

    row.get_by_role("button", name="Retire").click()
    expect(page.locator(".notice--success")).to_contain_text("is retired")
    expect(row).to_contain_text("Retired")
    assert axe_violations(page) == []
    retired = _api_term(live_server, code)
    assert retired is not None
    assert retired["retired"] is True
    assert retired["label"] == "Youth clubs and centres"

    row.get_by_role("button", name="Reinstate").click()
    expect(page.locator(".notice--success")).to_contain_text("offered in the pickers again")
    expect(row).to_contain_text("Offered")
    reinstated = _api_term(live_server, code)
    assert reinstated is not None
    assert reinstated["retired"] is False
    # Last: Playwright's screenshot leaves a style behind that the next swap reports (CSP).
    screenshot(page, "vocabularies-settings")


def test_the_forms_work_without_javascript(
    no_js_page: Page, live_server: str, live_env: dict[str, str]
) -> None:
    page = no_js_page
    email = _make_coordinator(live_env)
    code = f"sports_club_{uuid.uuid4().hex[:6]}"
    _sign_in(page, live_server, email)

    page.goto(f"{live_server}/coordinate/vocabularies/target_subgroups")
    expect(page.locator("h1")).to_have_text("Target subgroups")
    page.get_by_label("Code").fill(code)
    page.get_by_label("Label in English").fill("Sports club members")
    page.get_by_label("Label in German").fill("Mitglieder von Sportvereinen")
    page.get_by_label("Label in French").fill("Membres de clubs sportifs")
    page.get_by_role("button", name="Add the term").click()
    expect(page.locator("#parent_code-error")).to_contain_text("target group")
    expect(page.get_by_label("Label in French")).to_have_value("Membres de clubs sportifs")

    page.get_by_label("Target group", exact=True).select_option("children")
    page.get_by_role("button", name="Add the term").click()
    expect(page).to_have_url(f"{live_server}/coordinate/vocabularies/target_subgroups")
    row = page.locator(f"#term-{code}")
    expect(row).to_contain_text("Children and young people")
    row.get_by_role("button", name="Retire").click()
    expect(page.locator(f"#term-{code}")).to_contain_text("Retired")
