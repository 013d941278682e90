"""A programme's evidence in a real browser: rating, forest plot, table, override.

A programme in Portugal has two published randomised trials; its evidence section shows
the rating with its reasons, a forest plot of the pooled effect and the same figures as a
table that opens from the keyboard, and passes axe. Portugal's coordinator overrides the
rating (the justification is required) and sees it beside the computed level.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from dataclasses import dataclass

import pyotp
import pytest
from playwright.sync_api import Page, expect

from app.config import PROJECT_ROOT
from tests.browser.conftest import axe_violations, portal_cli, screenshot
from tests.factories import TEST_TOTP_SECRET

pytestmark = pytest.mark.browser

PASSWORD = "a long ratings browser password"


@dataclass(frozen=True)
class Setup:
    programme_id: int
    title: str
    coordinator: str


@pytest.fixture(scope="module")
def setup(live_server: str, live_env: dict[str, str]) -> Setup:
    """A published programme in Portugal with two trials, and Portugal's coordinator."""
    token = "x" + uuid.uuid4().hex[:7]
    coordinator = f"ratings.coordinator.{token}@example.org"
    portal_cli(
        live_env, "users", "create", coordinator, "--name", "Rita Rater", "--role",
        "coordinator", "--country", "PT", stdin=PASSWORD + "\n",
    )  # fmt: skip
    title = f"Safe Evenings {token}"
    code = f"""
import app.models
from sqlalchemy import select
from app.config import get_settings
from app.db import build_engine, make_session_factory, utcnow
from app.evidence import service as evidence_service
from app.members.models import CoordinatorCountry, Member
from app.programmes import service

engine = build_engine(get_settings().database_url)
with make_session_factory(engine)() as session, session.begin():
    rater = session.scalars(select(Member).where(Member.email == {coordinator!r})).one()
    session.add(CoordinatorCountry(member_id=rater.id, country="PT"))
    rater.totp_secret = {TEST_TOTP_SECRET!r}
    rater.totp_enabled_at = utcnow()
    session.flush()
    session.refresh(rater, ["coordinator_countries"])
    programme = service.create(session, rater, {{
        "title": {title!r},
        "summary": "Evening sessions that help parents talk with their children about safety.",
        "description": "Six weekly sessions in small groups.",
        "content_language": "en",
        "target_groups": ["parents"],
        "countries": ["PT"],
        "languages": ["pt"],
        "settings": ["community"],
        "manual_available": True,
        "visibility": "public",
    }})
    service.submit(session, rater, programme)
    service.review(session, rater, programme, "approve", "")
    for year, authors, estimate, low, high in (
        (2019, ["Lima, Ana"], "0.40", "0.15", "0.65"),
        (2022, ["Sousa, Rui", "Pires, Eva", "Reis, Joana"], "0.25", "0.02", "0.48"),
    ):
        evidence_service.create(session, rater, {{
            "programme_ids": [programme.id],
            "title": f"A randomised trial of Safe Evenings ({{year}})",
            "authors": authors,
            "year": year,
            "design": "rct",
            "country": "PT",
            "sample_size": 240,
            "follow_up_months": 6,
            "risk_of_bias": "low",
            "visibility": "public",
            "outcomes": [{{
                "name": "Protective parenting practices",
                "kind": "risk_or_protective_factor",
                "measure": "smd",
                "input_kind": "effect",
                "estimate": estimate,
                "ci_low": low,
                "ci_high": high,
            }}],
        }})
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
    return Setup(int(result.stdout.strip().splitlines()[-1]), title, coordinator)


def sign_in_with_code(page: Page, base_url: str, email: str, target: str) -> None:
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: not url.endswith("/sign-in"))
    if "/sign-in/two-factor" in page.url:
        page.get_by_label("Code").fill(pyotp.TOTP(TEST_TOTP_SECRET).now())
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/sign-in" not in url)
    page.goto(base_url + target)


def test_the_evidence_with_a_forest_plot_passes_axe_and_its_table_opens_by_keyboard(
    page: Page, live_server: str, setup: Setup
) -> None:
    page.goto(f"{live_server}/programmes/{setup.programme_id}/evidence")

    section = page.locator("#evidence")
    expect(page.locator("#evidence-level")).to_have_text("Promising")
    expect(section.get_by_role("heading", name="Why")).to_be_visible()
    expect(section.get_by_role("link", name="Read the study (Lima 2019)")).to_be_visible()
    plot = section.get_by_role("img", name="Forest plot: Risk or protective factor")
    expect(plot).to_be_visible()
    expect(section).to_contain_text("random-effects (DerSimonian–Laird)")  # noqa: RUF001
    assert axe_violations(page) == []
    screenshot(page, "programme-evidence")

    table = section.get_by_role("table", name="studies and pooled estimate")
    expect(table).to_be_hidden()
    # From the link before it, the keyboard reaches the summary and opens it.
    section.get_by_role("link", name="History of the rating").focus()
    summary = section.locator("summary").first
    for _ in range(40):
        page.keyboard.press("Tab")
        if summary.evaluate("element => element === document.activeElement"):
            break
    else:
        pytest.fail("the table's summary is not reachable with Tab")
    page.keyboard.press("Enter")
    expect(table).to_be_visible()
    expect(
        table.get_by_role("rowheader", name="Lima 2019: Protective parenting practices")
    ).to_be_visible()
    expect(table).to_contain_text("Pooled estimate (random effects)")
    assert axe_violations(page) == []


def test_a_coordinator_overrides_the_rating_with_a_justification(
    page: Page, live_server: str, setup: Setup
) -> None:
    target = f"/programmes/{setup.programme_id}/evidence"
    sign_in_with_code(page, live_server, setup.coordinator, target)
    assert axe_violations(page) == []

    page.get_by_role("link", name="Override the rating").click()
    expect(page.locator("h1")).to_have_text("Override the rating")
    assert axe_violations(page) == []

    page.get_by_label("Rating").select_option(label="Effective")
    page.get_by_role("button", name="Set the rating").click()
    expect(page.locator("#justification-error")).to_have_text(
        "Explain why the rating differs from the rules' result."
    )
    expect(page.get_by_label("Rating")).to_have_value("effective")
    assert axe_violations(page) == []

    page.get_by_label("Justification").fill(
        "A national evaluation with 2,000 families confirms it."
    )
    page.get_by_role("button", name="Set the rating").click()
    page.wait_for_url(f"**/programmes/{setup.programme_id}#evidence")

    page.goto(live_server + target)
    expect(page.locator("#evidence-level")).to_have_text("Effective")
    expect(page.locator("#evidence-computed-level")).to_have_text("Promising")
    expect(page.locator("#evidence-override")).to_contain_text("2,000 families")
    assert axe_violations(page) == []
    screenshot(page, "programme-evidence-override")

    page.get_by_role("link", name="History of the rating").click()
    expect(page.locator("#rating-history")).to_contain_text("Rita Rater")
    assert axe_violations(page) == []

    page.goto(f"{live_server}/coordinate/ratings")
    expect(page.locator("h1")).to_have_text("Ratings to review again")
    assert axe_violations(page) == []
