"""Evidence from end to end: a researcher's two evaluations rate a demo programme.

The programme starts "Not yet rated"; after two randomised trials with favourable effects
on offending (one followed up for 12 months) it is rated "Effective" with its reasons, a
forest plot pools the two results, and the BibTeX export parses with a BibTeX parser.
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid

import pytest
from bibtexparser.entrypoint import parse_string
from playwright.sync_api import Page, expect

from app.config import PROJECT_ROOT
from tests.browser.conftest import axe_violations, portal_cli, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "a long evidence story password"

# A public, published demo programme with a manual and no evaluation yet.
FIND_PROGRAMME = """
import app.models
from sqlalchemy import select
from app.config import get_settings
from app.db import build_engine, make_session_factory
from app.programmes.models import Programme

engine = build_engine(get_settings().database_url)
with make_session_factory(engine)() as session:
    found = session.execute(
        select(Programme.id, Programme.title)
        .where(
            Programme.is_demo.is_(True),
            Programme.status == "published",
            Programme.visibility == "public",
            Programme.archived_at.is_(None),
            Programme.manual_available.is_(True),
            Programme.rating_level == "not_rated",
        )
        .order_by(Programme.id)
        .limit(1)
    ).one()
    print(found.id)
    print(found.title)
engine.dispose()
"""


def _add_trial(
    page: Page, base_url: str, programme_id: int, title: str, estimate: str, low: str, high: str,
    follow_up: str,
) -> None:  # fmt: skip
    page.goto(f"{base_url}/evaluations/new?programme_id={programme_id}")
    page.locator("#title").fill(title)
    page.locator("#authors").fill("Lindqvist, Maja\nSousa, Tiago")
    page.locator("#year").fill("2023")
    page.locator("#venue").fill("Journal of Prevention Studies")
    page.locator("#doi").fill(f"10.5555/{title.split()[-1]}")
    page.locator("#design").select_option("rct")
    page.locator("#country").select_option("SE")
    page.locator("#sample_size").fill("400")
    page.locator("#follow_up_months").fill(follow_up)
    page.locator("#risk_of_bias-low").check()
    page.locator("#outcomes-0-name").fill("Reported sexual offending")
    page.locator("#outcomes-0-kind").select_option("abuse_or_offending")
    page.locator("#outcomes-0-measure").select_option("risk_ratio")
    page.locator("#outcomes-0-lower_is_better").check()
    page.locator("#outcomes-0-estimate").fill(estimate)
    page.locator("#outcomes-0-ci_low").fill(low)
    page.locator("#outcomes-0-ci_high").fill(high)
    page.locator("#publish-button").click()
    page.wait_for_url(re.compile(r"/evaluations/\d+$"))
    expect(page.locator("h1")).to_have_text(title)


def test_two_evaluations_rate_a_programme_and_pool_its_effects(
    page: Page, live_server: str, live_env: dict[str, str]
) -> None:
    token = uuid.uuid4().hex[:8]
    researcher = f"evidence.researcher.{token}@example.org"
    portal_cli(
        live_env, "users", "create", researcher, "--name", "Rosa Researcher", "--country", "SE",
        "--member-type", "researcher", stdin=PASSWORD + "\n",
    )  # fmt: skip
    found = subprocess.run(
        [sys.executable, "-c", FIND_PROGRAMME],
        env=live_env,
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    programme_id, programme_title = int(found[0]), found[1]

    page.goto(f"{live_server}/programmes/{programme_id}")
    expect(page.locator("#evidence")).to_contain_text("Not yet rated")

    page.goto(f"{live_server}/sign-in")
    page.get_by_label("E-mail address").fill(researcher)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/")

    _add_trial(
        page, live_server, programme_id, f"A first trial {token}a", "0.60", "0.45", "0.80", "12"
    )
    _add_trial(
        page, live_server, programme_id, f"A second trial {token}b", "0.70", "0.55", "0.90", "6"
    )

    page.goto(f"{live_server}/programmes/{programme_id}")
    expect(page.locator("h1")).to_have_text(programme_title)
    expect(page.locator("#evidence-level")).to_have_text("Effective")
    reasons = page.locator("#evidence-reasons")
    expect(reasons).to_contain_text(f"A first trial {token}a")
    expect(reasons).to_contain_text(f"A second trial {token}b")
    forest = page.locator("#evidence svg[role='img']")
    expect(forest).to_have_count(1)
    expect(page.locator("#evidence")).to_contain_text("I²")
    assert axe_violations(page) == []
    screenshot(page, "evidence-story-programme")

    exported = page.request.get(f"{live_server}/programmes/{programme_id}/evidence.bib")
    assert exported.ok
    assert exported.headers["content-type"].startswith("application/x-bibtex")
    library = parse_string(exported.text())
    assert not library.failed_blocks
    # Titles are wrapped in an extra pair of braces, which keeps their capitals in BibTeX.
    titles = {entry.fields_dict["title"].value.strip("{}") for entry in library.entries}
    assert {f"A first trial {token}a", f"A second trial {token}b"} <= titles
