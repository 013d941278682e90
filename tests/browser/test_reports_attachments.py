"""Implementation reports and PDF documents in a real browser."""

from __future__ import annotations

import io
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfWriter

from app.config import PROJECT_ROOT
from tests.browser.conftest import axe_violations, portal_cli, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "a long reports test password"


@dataclass(frozen=True)
class Setup:
    programme_id: int
    title: str
    author: str
    reporter: str


@pytest.fixture(scope="module")
def setup(live_server: str, live_env: dict[str, str]) -> Setup:
    """A published programme (by ``author``) and a second member who reports on it."""
    token = "r" + uuid.uuid4().hex[:7]
    author = f"author.{token}@example.org"
    reviewer = f"reviewer.{token}@example.org"
    reporter = f"reporter.{token}@example.org"
    for email, name, role in (
        (author, "Aida Author", "member"),
        (reviewer, "Rafael Reviewer", "admin"),
        (reporter, "Renata Reporter", "member"),
    ):
        portal_cli(
            live_env, "users", "create", email, "--name", name, "--role", role,
            stdin=PASSWORD + "\n",
        )  # fmt: skip
    title = f"Safe Evenings {token}"
    code = f"""
import app.models
from sqlalchemy import select
from app.config import get_settings
from app.db import build_engine, make_session_factory
from app.members.models import Member
from app.programmes import service

engine = build_engine(get_settings().database_url)
with make_session_factory(engine)() as session, session.begin():
    author = session.scalars(select(Member).where(Member.email == {author!r})).one()
    reviewer = session.scalars(select(Member).where(Member.email == {reviewer!r})).one()
    programme = service.create(session, author, {{
        "title": {title!r},
        "summary": "Evening sessions that help parents talk with their children about safety.",
        "description": "Six weekly sessions in small groups.",
        "content_language": "en",
        "target_groups": ["parents"],
        "countries": ["DE", "PT"],
        "languages": ["de", "pt"],
        "settings": ["community"],
        "visibility": "public",
    }})
    service.submit(session, author, programme)
    service.review(session, reviewer, programme, "approve", "")
    session.flush()
    print(programme.id)
engine.dispose()
"""
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=live_env,
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return Setup(int(result.stdout.strip()), title, author, reporter)


def sign_in_as(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


def test_a_member_adds_an_implementation_report(page: Page, live_server: str, setup: Setup) -> None:
    sign_in_as(page, live_server, setup.reporter)
    page.goto(f"{live_server}/programmes/{setup.programme_id}")
    reports = page.locator("#reports")
    expect(reports).to_contain_text("No one has reported on this programme yet.")
    assert axe_violations(page) == []

    reports.get_by_role("link", name="Add a report").click()
    expect(page.locator("h1")).to_have_text("Add an implementation report")
    assert axe_violations(page) == []

    # Sent without a year or a lesson: the messages appear at the fields, input kept.
    page.get_by_label("Country").select_option(label="Portugal")
    page.get_by_label("People reached").fill("180")
    page.get_by_role("button", name="Add the report").click()
    expect(page.locator("#start_year-error")).to_contain_text("Enter the year")
    expect(page.locator("#what_worked-error")).to_contain_text("at least one thing")
    expect(page.get_by_label("People reached")).to_have_value("180")
    expect(page.get_by_label("Country")).to_have_value("PT")
    assert axe_violations(page) == []
    screenshot(page, "programme-report-form-errors")

    page.get_by_label("Setting").select_option(label="School")
    page.get_by_label("Year it started").fill("2022")
    page.get_by_label("Year it ended").fill("2024")
    page.get_by_label("What worked").fill("Parents brought friends.\nTeachers joined in.")
    page.get_by_label("What you adapted").fill("Shorter sessions after school.")
    page.get_by_role("button", name="Add the report").click()

    page.wait_for_url(f"{live_server}/programmes/{setup.programme_id}#reports")
    expect(page.locator(".notice--success")).to_contain_text("Thank you")
    report = page.locator("#reports article.report")
    expect(report).to_have_count(1)
    expect(report.locator("h3")).to_have_text("Portugal · School")
    expect(report).to_contain_text("2022\u20132024")
    expect(report).to_contain_text("180")
    expect(report).to_contain_text("Renata Reporter")
    # Plain text: the line break typed is kept on screen.
    worked = report.locator("dd.report__text").first
    assert worked.inner_text() == "Parents brought friends.\nTeachers joined in."
    assert axe_violations(page) == []
    screenshot(page, "programme-reports")

    # The author may edit their report; another visitor may not.
    report.get_by_role("link", name="Edit report").click()
    expect(page.locator("h1")).to_have_text("Edit your implementation report")
    page.get_by_label("People reached").fill("200")
    page.get_by_role("button", name="Save the report").click()
    expect(page.locator("#reports article.report")).to_contain_text("200")


def test_a_maintainer_attaches_a_pdf(
    page: Page, live_server: str, setup: Setup, tmp_path: Path
) -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    pdf = tmp_path / "Facilitator manual.pdf"
    pdf.write_bytes(buffer.getvalue())
    fake = tmp_path / "picture.pdf"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)

    sign_in_as(page, live_server, setup.author)
    page.goto(f"{live_server}/programmes/{setup.programme_id}/attachments")
    expect(page.locator("h1")).to_contain_text("Documents of")
    assert axe_violations(page) == []

    page.get_by_label("PDF file").set_input_files(str(fake))
    page.get_by_role("button", name="Attach the PDF").click()
    expect(page.locator("#attachment-file-error")).to_contain_text("not a PDF")
    assert axe_violations(page) == []

    page.get_by_label("PDF file").set_input_files(str(pdf))
    page.get_by_label("Title (optional)").fill("Manual for facilitators")
    page.get_by_role("button", name="Attach the PDF").click()

    expect(page.locator(".notice--success")).to_contain_text("once the edit is approved")
    listed = page.locator(".attachment-list")
    expect(listed).to_contain_text("Manual for facilitators")
    expect(listed).to_contain_text("1 page")
    with page.expect_download() as download:
        listed.get_by_role("link", name="Manual for facilitators").click()
    assert download.value.suggested_filename == "Facilitator manual.pdf"
    assert axe_violations(page) == []
    screenshot(page, "programme-documents")
