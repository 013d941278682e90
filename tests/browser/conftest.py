"""Browser tests: headless Chromium (Playwright) against a live uvicorn on loopback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import Message as EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from app.config import PROJECT_ROOT
from tests.ports import free_port
from tests.smtp import Mailbox, running_mailbox

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js").read_text()
SCREENSHOTS = Path(__file__).parent / "screenshots"
MEMBER_EMAIL = "browser.member@example.org"
MEMBER_PASSWORD = "a long browser test password"
MEMBER_NAME = "Browser Test Member"


def mail_text(message: EmailMessage) -> str:
    """The plain-text part of a message."""
    if message.is_multipart():
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                return payload.decode(part.get_content_charset() or "utf-8")
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    with running_mailbox() as server:
        yield server


@pytest.fixture(scope="session")
def live_env(tmp_path_factory: pytest.TempPathFactory, mailbox: Mailbox) -> dict[str, str]:
    """The environment of the live portal: its database, secret, SMTP server and port."""
    directory = tmp_path_factory.mktemp("live")
    port = free_port()
    return {
        **os.environ,
        "PORTAL_DATABASE_URL": f"sqlite:///{directory / 'portal.db'}",
        "PORTAL_SECRET_KEY": "browser-test-secret-key-0123456789-abcdefghij",
        "PORTAL_MAIL_DIR": str(directory / "mail"),
        "PORTAL_UPLOAD_DIR": str(directory / "uploads"),
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "PORTAL_PORT": str(port),
        "PORTAL_SMTP_HOST": "127.0.0.1",
        "PORTAL_SMTP_PORT": str(mailbox.port),
        "PORTAL_SMTP_STARTTLS": "false",
        "PORTAL_OUTBOX_INTERVAL_SECONDS": "0.3",
        "LIVE_DIRECTORY": str(directory),
    }


def portal_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """Run the portal command against the live portal's database; returns its output."""
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        cwd=PROJECT_ROOT,
        input=stdin,
        text=True,
        check=True,
        capture_output=True,
    )
    return result.stdout


def live_env_python(env: dict[str, str], code: str) -> None:
    """Run Python code with the live portal's settings (for setting up test data)."""
    subprocess.run([sys.executable, "-c", code], env=env, cwd=PROJECT_ROOT, check=True)


@pytest.fixture(scope="session")
def live_server(live_env: dict[str, str]) -> Iterator[str]:
    """A migrated portal with demo data and one member, served by uvicorn."""
    env = live_env
    directory = Path(env["LIVE_DIRECTORY"])
    port = int(env["PORTAL_PORT"])
    portal_cli(env, "db", "upgrade")
    portal_cli(env, "demo-data")
    portal_cli(
        env, "users", "create", MEMBER_EMAIL, "--name", MEMBER_NAME, stdin=MEMBER_PASSWORD + "\n"
    )
    log = (directory / "server.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail("the portal did not start: " + (directory / "server.log").read_text())
        time.sleep(0.1)
    yield base_url
    server.terminate()
    server.wait(timeout=10)
    log.close()


def _chromium_path() -> str | None:
    configured = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
    return configured if Path(configured).exists() else shutil.which("chromium")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    executable = _chromium_path()
    if executable is None:
        message = "Chromium is not installed (make test installs Debian's chromium as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
    yield browser
    browser.close()


@pytest.fixture
def console_errors() -> list[str]:
    return []


def _new_page(browser: Browser, console_errors: list[str], **options: Any) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    page = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    return page


@pytest.fixture
def page(browser: Browser, console_errors: list[str]) -> Iterator[Page]:
    """A fresh browser context; the test fails on any console error (a CSP violation too)."""
    page = _new_page(browser, console_errors)
    yield page
    page.context.close()
    # 404 and 422 pages are expected in some tests; everything else is a defect.
    unexpected = [
        error for error in console_errors if "status of 404" not in error and "422" not in error
    ]
    assert unexpected == []


@pytest.fixture
def no_js_page(browser: Browser, console_errors: list[str]) -> Iterator[Page]:
    page = _new_page(browser, console_errors, java_script_enabled=False)
    yield page
    page.context.close()


SETTLED = """() => !document.querySelector(
    '.htmx-request, .htmx-added, .htmx-settling, .htmx-swapping')
    && document.getAnimations().every(animation => animation.playState !== 'running')"""


def wait_until_settled(page: Page, timeout: float = 10) -> None:
    """Wait until htmx has swapped and settled and fade-ins are over.

    Polled from Python: Playwright's wait_for_function evaluates its predicate with eval
    inside the page, which the portal's Content-Security-Policy rightly forbids.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(SETTLED):
        if time.monotonic() > deadline:
            raise AssertionError("the page did not settle")
        time.sleep(0.05)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core in the page; returns the violations (empty when the page passes)."""
    wait_until_settled(page)
    page.evaluate(AXE_SOURCE + "\n;undefined")
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        {
            "id": violation["id"],
            "help": violation["help"],
            "targets": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in result["violations"]
    ]


def sign_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("E-mail address").fill(MEMBER_EMAIL)
    page.get_by_label("Password").fill(MEMBER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
