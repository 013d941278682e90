"""The programme catalogue from end to end, as its users meet it.

A member creates a programme for parents in two countries, attaches a PDF and submits it;
the coordinator requests changes; the member edits and resubmits; the coordinator approves;
an anonymous visitor finds it in the catalogue filtered by target group and country; a
second member adds an implementation report; the history shows both versions.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfWriter

from tests.browser.conftest import (
    axe_violations,
    mail_text,
    portal_cli,
    screenshot,
    wait_until_settled,
)
from tests.browser.test_applications import _make_coordinator, _sign_in_coordinator
from tests.smtp import Mailbox

pytestmark = pytest.mark.browser

PASSWORD = "a long story test password"


def _sign_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


@pytest.fixture
def second_page(browser: Browser) -> Iterator[Page]:
    """Another person's browser (its own cookies), with JavaScript."""
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


def test_a_programme_from_draft_to_catalogue_with_report_and_history(
    page: Page,
    second_page: Page,
    no_js_page: Page,
    live_server: str,
    live_env: dict[str, str],
    mailbox: Mailbox,
    tmp_path: Path,
) -> None:
    token = uuid.uuid4().hex[:8]
    author = f"story.author.{token}@example.org"
    reporter = f"story.reporter.{token}@example.org"
    coordinator = f"story.coordinator.{token}@example.org"
    for email, name in ((author, "Sara Storyteller"), (reporter, "Rui Reporter")):
        portal_cli(
            live_env, "users", "create", email, "--name", name, "--country", "PT",
            stdin=PASSWORD + "\n",
        )  # fmt: skip
    _make_coordinator(live_env, coordinator, "DE")
    title = f"Parents Talk {token}"
    manual = tmp_path / "manual.pdf"
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    with manual.open("wb") as handle:
        writer.write(handle)

    # The member creates a programme for parents in Germany and Portugal.
    _sign_in(page, live_server, author)
    page.goto(f"{live_server}/programmes/new")
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Summary in plain language").fill(
        "Evening sessions that help parents talk with their children about body safety."
    )
    page.get_by_role("textbox", name="Description (optional)").fill(
        "## How it works\n\nSix weekly sessions."
    )
    page.get_by_role("checkbox", name="Parents and carers", exact=True).check()
    page.get_by_role("checkbox", name="Germany", exact=True).check()
    page.get_by_role("checkbox", name="Portugal", exact=True).check()
    page.get_by_role("checkbox", name="German", exact=True).check()
    page.get_by_role("checkbox", name="Portuguese", exact=True).check()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Save the draft").click()
    page.wait_for_url(re.compile(r"/programmes/\d+/review$"))
    programme_id = int(page.url.rstrip("/").split("/")[-2])

    # ... attaches a PDF and submits it.
    page.get_by_label("PDF file").set_input_files(str(manual))
    page.get_by_label("Title (optional)").fill("Manual for facilitators")
    page.get_by_role("button", name="Attach the PDF").click()
    wait_until_settled(page)
    page.goto(f"{live_server}/programmes/{programme_id}/review")
    expect(page.locator("#documents")).to_contain_text("Manual for facilitators")
    page.get_by_role("button", name="Submit for review").click()
    wait_until_settled(page)
    told = mail_text(mailbox.wait_for(coordinator, "waiting for your review"))
    assert title in told

    # The coordinator of Germany requests changes.
    _sign_in_coordinator(second_page, live_server, coordinator)
    second_page.goto(f"{live_server}/coordinate/programmes")
    expect(second_page.locator("main")).to_contain_text(title)
    assert axe_violations(second_page) == []
    second_page.goto(f"{live_server}/programmes/{programme_id}/review")
    second_page.get_by_label("Request changes").check()
    second_page.get_by_label("Comment to the maintainers").fill(
        "Please give the age range of the parents."
    )
    second_page.get_by_role("button", name="Send the decision").click()
    wait_until_settled(second_page)
    asked = mail_text(mailbox.wait_for(author, "Changes requested"))
    assert "Please give the age range of the parents." in asked

    # The member sees the request in the thread, edits and resubmits.
    page.goto(f"{live_server}/programmes/{programme_id}/review")
    expect(page.locator("main")).to_contain_text("Please give the age range of the parents.")
    page.goto(f"{live_server}/programmes/{programme_id}/edit")
    page.get_by_label("Youngest participants (age)").fill("20")
    page.get_by_label("Oldest participants (age)").fill("65")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(re.compile(rf"/programmes/{programme_id}/review$"))
    page.get_by_role("button", name="Submit for review").click()
    wait_until_settled(page)

    # The coordinator approves.
    second_page.goto(f"{live_server}/programmes/{programme_id}/review")
    second_page.get_by_label("Approve and publish").check()
    second_page.get_by_role("button", name="Send the decision").click()
    wait_until_settled(second_page)
    mailbox.wait_for(author, "Your programme is published")

    # An anonymous visitor finds it, filtering by target group and country (no JavaScript).
    no_js_page.goto(f"{live_server}/programmes")
    no_js_page.locator("summary", has_text="Target groups").click()
    no_js_page.get_by_role("checkbox", name="Parents and carers", exact=True).check()
    no_js_page.locator("summary", has_text="Countries").click()
    no_js_page.get_by_role("checkbox", name="Portugal", exact=True).check()
    no_js_page.get_by_role("button", name="Show programmes").click()
    assert "target_groups=parents" in no_js_page.url
    assert "countries=PT" in no_js_page.url
    no_js_page.get_by_role("link", name=title).click()
    expect(no_js_page.locator("h1")).to_have_text(title)
    expect(no_js_page.locator("main")).to_contain_text("Manual for facilitators")

    # A second member adds an implementation report.
    second_page.context.clear_cookies()
    _sign_in(second_page, live_server, reporter)
    second_page.goto(f"{live_server}/programmes/{programme_id}/reports/new")
    second_page.get_by_label("Country").select_option(label="Portugal")
    second_page.get_by_label("Year it started").fill("2025")
    second_page.get_by_label("People reached").fill("140")
    second_page.get_by_label("What worked").fill("Parents brought their neighbours.")
    second_page.get_by_role("button", name="Add the report").click()
    wait_until_settled(second_page)
    second_page.goto(f"{live_server}/programmes/{programme_id}")
    expect(second_page.locator("#reports")).to_contain_text("Parents brought their neighbours.")
    assert axe_violations(second_page) == []

    # The history shows both versions: the one sent back and the one published.
    page.goto(f"{live_server}/programmes/{programme_id}/history")
    history = page.locator("main")
    expect(history).to_contain_text("Version 1")
    expect(history).to_contain_text("Version 2")
    expect(history).to_contain_text("Youngest participants (age)")
    assert axe_violations(page) == []
    screenshot(page, "programme-story-history")
