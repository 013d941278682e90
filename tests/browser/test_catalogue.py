"""The catalogue, a programme page and its history in a real browser, with and without JS."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    axe_violations,
    live_env_python,
    portal_cli,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.browser

PASSWORD = "a long catalogue test password"


@dataclass(frozen=True)
class Catalogue:
    token: str
    author_email: str

    def title(self, name: str) -> str:
        return f"{name} {self.token}"


@pytest.fixture(scope="module")
def catalogue(live_server: str, live_env: dict[str, str]) -> Catalogue:
    """Programmes of this module, found by their token: published through the workflow."""
    token = "k" + uuid.uuid4().hex[:7]
    author = f"author.{token}@example.org"
    reviewer = f"reviewer.{token}@example.org"
    portal_cli(
        live_env, "users", "create", author, "--name", "Carla Catalogue", "--country", "DE",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    portal_cli(
        live_env, "users", "create", reviewer, "--name", "Rui Reviewer", "--role", "admin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    live_env_python(
        live_env,
        f"""
import app.models
from sqlalchemy import select
from app.config import get_settings
from app.db import build_engine, make_session_factory
from app.members.models import Member
from app.programmes import service

def content(**overrides):
    values = {{
        "summary": "Evening sessions that help parents talk with their children about safety.",
        "description": "## How it works\\n\\nSix weekly sessions in small groups, led by two "
        "trained facilitators.\\n\\n- a manual for facilitators\\n- a booklet for parents",
        "content_language": "en",
        "target_groups": ["parents"],
        "target_subgroups": ["parents", "families"],
        "prevention_level": "primary",
        "settings": ["community"],
        "delivery": ["face_to_face"],
        "abuse_addressed": "both",
        "countries": ["DE", "PT"],
        "languages": ["de", "pt"],
        "age_min": 25,
        "age_max": 60,
        "manual_available": True,
        "cost": "Free for families",
        "duration": "Six weeks",
        "start_year": 2016,
        "provider_name": "Kinderschutz Verein",
        "contact_email": "info@example.org",
        "visibility": "public",
        "translations": [
            {{"language": "de", "title": "Sichere Familien", "summary": "Abende für Eltern."}}
        ],
    }}
    values.update(overrides)
    return values

def publish(session, author, reviewer, values):
    programme = service.create(session, author, values)
    service.submit(session, author, programme)
    service.review(session, reviewer, programme, "approve", "")
    return programme

engine = build_engine(get_settings().database_url)
with make_session_factory(engine)() as session, session.begin():
    author = session.scalars(select(Member).where(Member.email == {author!r})).one()
    reviewer = session.scalars(select(Member).where(Member.email == {reviewer!r})).one()
    parents = publish(session, author, reviewer, content(title="Kite Parents {token}"))
    publish(session, author, reviewer, content(
        title="Kite Schools {token}",
        summary="Lessons in which pupils learn about their bodies, feelings and safe adults.",
        target_groups=["schools"], target_subgroups=["teachers"], countries=["FR"],
        languages=["fr"], settings=["school"], translations=[],
        adapted_from_id=parents.id,
    ))
    publish(session, author, reviewer, content(
        title="Kite Helpline {token}", target_groups=["offenders"],
        target_subgroups=["help_seekers"], visibility="members", translations=[],
    ))
    base = service.editable_base(session, parents)
    service.save(session, author, parents, {{**base.data,
        "summary": "Weekly evening sessions that help parents and carers talk with their "
        "children about safety.", "countries": ["DE", "PT", "AT"]}},
        service.version_token(base))
    service.submit(session, author, parents)
    service.review(session, reviewer, parents, "approve", "")
    # An edit in progress: its maintainers see it, nobody else does.
    base = service.editable_base(session, parents)
    service.save(session, author, parents, {{**base.data, "duration": "Eight weeks"}},
        service.version_token(base))
engine.dispose()
""",
    )
    return Catalogue(token, author)


def card_titles(page: Page) -> list[str]:
    return page.locator(".programme-card h3").all_inner_texts()


def test_filter_without_javascript(
    no_js_page: Page, live_server: str, catalogue: Catalogue
) -> None:
    page = no_js_page
    page.goto(f"{live_server}/programmes?q={catalogue.token}&sort=title")
    expect(page.locator("h1")).to_have_text("Prevention programmes")
    # The members-only programme is neither listed nor counted for a visitor.
    expect(page.locator("#catalogue-count")).to_have_text("2 programmes")
    assert card_titles(page) == [catalogue.title("Kite Parents"), catalogue.title("Kite Schools")]

    page.locator("summary", has_text="Target groups").click()
    page.get_by_label("Parents and carers").check()
    page.get_by_role("button", name="Show programmes").click()

    expect(page).to_have_url(re.compile(r"target_groups=parents"))
    expect(page.locator("#catalogue-count")).to_have_text("1 programme")
    assert card_titles(page) == [catalogue.title("Kite Parents")]
    chip = page.locator(".chip", has_text="Target groups")
    expect(chip).to_contain_text("Target groups: Parents and carers")
    expect(page.get_by_label("Parents and carers")).to_be_checked()
    # (axe needs JavaScript: the test with JavaScript checks these pages.)
    screenshot(page, "programmes-catalogue-filtered-no-js")

    chip.click()
    expect(page.locator("#catalogue-count")).to_have_text("2 programmes")


def test_filter_with_javascript_swaps_the_results_and_updates_the_address(
    page: Page, live_server: str, catalogue: Catalogue
) -> None:
    page.goto(f"{live_server}/programmes?q={catalogue.token}")
    expect(page.locator("#catalogue-count")).to_have_text("2 programmes")
    assert axe_violations(page) == []
    screenshot(page, "programmes-catalogue")
    page.evaluate("() => { window.catalogueMarker = 'same page' }")

    page.locator("summary", has_text="Target groups").click()
    page.get_by_label("Schools and educators").check()

    expect(page.locator("#catalogue-count")).to_have_text("1 programme")
    expect(page).to_have_url(re.compile(r"target_groups=schools"))
    assert card_titles(page) == [catalogue.title("Kite Schools")]
    # The results were swapped in: no page load happened.
    assert page.evaluate("() => window.catalogueMarker") == "same page"
    expect(page.locator(".chip", has_text="Target groups")).to_contain_text(
        "Target groups: Schools and educators"
    )
    assert axe_violations(page) == []
    screenshot(page, "programmes-catalogue-filtered")

    page.get_by_label("Schools and educators").uncheck()
    search = page.get_by_label("Words to search for")
    search.fill("")
    # Words, anywhere in the record: only Kite Parents speaks of carers ("parents" alone
    # is in both programmes' descriptions).
    search.press_sequentially(f"carers {catalogue.token}", delay=20)
    expect(page.locator("#catalogue-count")).to_have_text("1 programme")
    expect(page).to_have_url(re.compile(r"q=carers"))
    assert card_titles(page) == [catalogue.title("Kite Parents")]
    assert page.evaluate("() => window.catalogueMarker") == "same page"
    assert axe_violations(page) == []


def test_a_programme_page_its_history_and_an_old_version(
    page: Page, live_server: str, catalogue: Catalogue
) -> None:
    page.goto(f"{live_server}/programmes?q={catalogue.token}")
    page.get_by_role("link", name=catalogue.title("Kite Parents")).click()

    expect(page.locator("h1")).to_have_text(catalogue.title("Kite Parents"))
    facts = page.locator(".programme-facts")
    expect(facts).to_contain_text("Parents and carers")
    expect(facts).to_contain_text("Germany, Portugal, Austria")
    expect(facts).to_contain_text("Free for families")
    lineage = page.locator(".programme-lineage")
    expect(lineage).to_contain_text("Adaptations")
    expect(lineage).to_contain_text(catalogue.title("Kite Schools"))
    expect(lineage).to_contain_text("France")
    page.locator("summary", has_text="German").click()
    expect(page.locator('.programme-translation div[lang="de"]')).to_contain_text(
        "Sichere Familien"
    )
    assert axe_violations(page) == []
    screenshot(page, "programmes-page")

    page.get_by_role("link", name="Version history").click()
    expect(page.locator("h1")).to_have_text("Version history")
    latest = page.locator(".history__entry").first
    expect(latest).to_contain_text("Version 2")
    expect(latest).to_contain_text("Approved by Rui Reviewer.")
    expect(latest.locator("ins").first).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "programmes-history")

    expect(page.locator(".history__entry")).to_have_count(2)
    page.get_by_role("link", name="Version 1").click()
    expect(page.locator(".notice")).to_contain_text("This is version 1 from")
    expect(page.locator(".lead")).to_contain_text("Evening sessions that help parents talk")
    assert axe_violations(page) == []
    screenshot(page, "programmes-version")

    page.goto(f"{live_server}/programmes?q={catalogue.token}")
    page.get_by_role("link", name=catalogue.title("Kite Schools")).click()
    expect(page.locator(".programme-lineage")).to_contain_text("Adapted from")
    expect(page.locator(".programme-lineage")).to_contain_text(catalogue.title("Kite Parents"))


def test_members_find_members_only_programmes(
    page: Page, live_server: str, catalogue: Catalogue
) -> None:
    sign_in(page, live_server)
    page.goto(f"{live_server}/programmes?q={catalogue.token}&sort=title")
    expect(page.locator("#catalogue-count")).to_have_text("3 programmes")
    helpline = page.locator(".programme-card", has_text=catalogue.title("Kite Helpline"))
    expect(helpline).to_contain_text("Members only")
    helpline.get_by_role("link").click()
    expect(page.get_by_role("link", name="Report how it went")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "programmes-page-member")


def test_maintainers_see_the_workflow_and_the_edit_in_progress(
    page: Page, live_server: str, catalogue: Catalogue
) -> None:
    page.goto(f"{live_server}/sign-in")
    page.get_by_label("E-mail address").fill(catalogue.author_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/")

    page.goto(f"{live_server}/programmes?q={catalogue.token}")
    page.get_by_role("link", name=catalogue.title("Kite Parents")).click()
    box = page.locator(".programme-workflow")
    expect(box).to_contain_text("Status: Published")
    expect(box).to_contain_text("An edit is in progress, not yet published: Draft")
    expect(box.get_by_role("link", name="Edit the programme")).to_be_visible()
    # The page shows the published content, not the draft.
    expect(page.locator(".programme-facts")).to_contain_text("Six weeks")
    assert axe_violations(page) == []
    screenshot(page, "programmes-page-maintainer")

    box.get_by_role("link", name="All versions").click()
    expect(page.locator(".history__entry")).to_have_count(3)
    draft = page.locator(".history__entry--unpublished")
    expect(draft).to_contain_text("Version 3")
    expect(draft).to_contain_text("Draft")
    expect(draft.locator("ins")).to_contain_text("Eight weeks")
    assert axe_violations(page) == []
    screenshot(page, "programmes-history-maintainer")
