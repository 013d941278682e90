"""Single sign-on in a real browser: the portal and an OpenID Connect provider on loopback.

The shared live portal has no provider configured, so these tests start their own portal
(same pattern as ``live_server``, with its own port and database) and provider.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, expect

from app.config import PROJECT_ROOT
from tests.browser.conftest import axe_violations, portal_cli, screenshot
from tests.oidc_fixtures import ACCOUNTS, PROVIDER_LABEL, PROVIDER_NAME, run_provider
from tests.ports import free_port

pytestmark = pytest.mark.browser

MEMBER_EMAIL = "sso.linker@example.org"
MEMBER_PASSWORD = "a long sso browser test password"


@dataclass(frozen=True)
class SsoPortal:
    base_url: str
    issuer: str


@pytest.fixture(scope="module")
def sso_portal(
    live_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SsoPortal]:
    """A portal with the test provider configured, and the provider itself."""
    directory = tmp_path_factory.mktemp("sso-live")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    callback = f"{base_url}/sign-in/oidc/{PROVIDER_NAME}/callback"
    with run_provider([callback], directory) as provider:
        env = {
            **live_env,
            "PORTAL_DATABASE_URL": f"sqlite:///{directory / 'portal.db'}",
            "PORTAL_MAIL_DIR": str(directory / "mail"),
            "PORTAL_UPLOAD_DIR": str(directory / "uploads"),
            "PORTAL_BASE_URL": base_url,
            "PORTAL_PORT": str(port),
            "PORTAL_OIDC_PROVIDERS": json.dumps([provider.settings_entry().model_dump()]),
            "LIVE_DIRECTORY": str(directory),
        }
        # "heads": while the membership work is in progress its migrations are parallel.
        subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "heads"],
            env=env,
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
        )
        portal_cli(env, "demo-data")
        portal_cli(env, "users", "create", MEMBER_EMAIL, "--name", "Sso Linker",
                   stdin=MEMBER_PASSWORD + "\n")  # fmt: skip
        with _serve(env, directory, port):
            yield SsoPortal(base_url, provider.issuer)


class _serve:
    """uvicorn serving the portal with ``env`` until the block ends."""

    def __init__(self, env: dict[str, str], directory: Path, port: int) -> None:
        self.env, self.directory, self.port = env, directory, port

    def __enter__(self) -> None:
        self.log = (self.directory / "server.log").open("w")
        self.server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            cwd=PROJECT_ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).is_success:
                    return
            except httpx.HTTPError:
                pass
            if self.server.poll() is not None or time.monotonic() > deadline:
                self.server.kill()
                pytest.fail("the SSO portal did not start: " + self._log_text())
            time.sleep(0.1)

    def _log_text(self) -> str:
        return (self.directory / "server.log").read_text()

    def __exit__(self, *exc_info: object) -> None:
        self.server.terminate()
        self.server.wait(timeout=10)
        self.log.close()


def _offline_provider_pages(page: Page) -> None:
    """The provider's development pages import a web font; the tests stay on loopback."""

    def empty_stylesheet(route: Route) -> None:
        route.fulfill(status=200, content_type="text/css", body="")

    page.route("https://fonts.googleapis.com/**", empty_stylesheet)


def _sign_in_and_consent_at_provider(page: Page, issuer: str, login: str) -> None:
    page.wait_for_url(f"{issuer}/interaction/**")
    page.locator('input[name="login"]').fill(login)
    page.locator('input[name="password"]').fill("any password will do")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()


def test_second_person_signs_in_with_provider_and_lands_on_a_prefilled_application(
    page: Page, sso_portal: SsoPortal
) -> None:
    _offline_provider_pages(page)
    page.goto(f"{sso_portal.base_url}/sign-in")
    button = page.get_by_role("link", name=f"Sign in with {PROVIDER_LABEL}")
    expect(button).to_be_visible()
    screenshot(page, "sso-sign-in")
    assert axe_violations(page) == []

    button.click()
    _sign_in_and_consent_at_provider(page, sso_portal.issuer, "grace")

    page.wait_for_url(f"{sso_portal.base_url}/apply")
    expect(page.locator('input[name="full_name"]')).to_have_value(ACCOUNTS["grace"]["name"])
    expect(page.locator('input[name="email"]')).to_have_value(ACCOUNTS["grace"]["email"])
    expect(page.locator("#sso-notice")).to_contain_text(PROVIDER_LABEL)
    screenshot(page, "sso-prefilled-application")
    assert axe_violations(page) == []


def test_member_links_an_identity_in_the_browser(page: Page, sso_portal: SsoPortal) -> None:
    _offline_provider_pages(page)
    page.goto(f"{sso_portal.base_url}/sign-in")
    page.get_by_label("E-mail address").fill(MEMBER_EMAIL)
    page.get_by_label("Password").fill(MEMBER_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{sso_portal.base_url}/")
    page.goto(f"{sso_portal.base_url}/account/identities")
    expect(page.get_by_role("heading", level=1)).to_have_text("Linked identities")
    assert axe_violations(page) == []

    page.get_by_role("link", name=f"Link {PROVIDER_LABEL}").click()
    _sign_in_and_consent_at_provider(page, sso_portal.issuer, "katherine")

    page.wait_for_url(f"{sso_portal.base_url}/account/identities")
    expect(page.get_by_role("status")).to_contain_text(f"Your {PROVIDER_LABEL} identity is linked")
    expect(page.get_by_role("cell", name=ACCOUNTS["katherine"]["email"])).to_be_visible()
    screenshot(page, "sso-linked-identities")
    assert axe_violations(page) == []

    # The identity now signs this member in from a fresh browser session.
    page.context.clear_cookies()
    page.goto(f"{sso_portal.base_url}/sign-in/oidc/{PROVIDER_NAME}")
    _sign_in_and_consent_at_provider(page, sso_portal.issuer, "katherine")
    page.wait_for_url(f"{sso_portal.base_url}/")
    expect(page.locator(".sign-out__name")).to_have_text("Sso Linker")


def test_cancelling_at_the_provider_leads_back_to_sign_in(
    browser: Browser, sso_portal: SsoPortal
) -> None:
    # Not the ``page`` fixture: the problem page is answered with status 400, which Chromium
    # reports on the console; every other console error still fails the test.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    console_errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.append(message.text)

    page.on("console", on_console)
    _offline_provider_pages(page)
    page.goto(f"{sso_portal.base_url}/sign-in/oidc/{PROVIDER_NAME}")
    page.wait_for_url(f"{sso_portal.issuer}/interaction/**")
    page.get_by_role("link", name="[ Cancel ]").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Sign-in was cancelled")
    screenshot(page, "sso-cancelled")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Back to sign-in").click()
    page.wait_for_url(f"{sso_portal.base_url}/sign-in")
    context.close()
    assert [error for error in console_errors if "status of 400" not in error] == []
