"""Adding and reading evaluations in a real browser, with and without JavaScript.

A researcher adds an evaluation with two outcomes (the second added with the htmx button,
without a page load), sees the errors at their fields, publishes, and reads the formula of
the effect the portal computed. The list, the form (also with errors) and the evaluation page
pass axe. Without JavaScript the same form adds a row with a plain submit button.
"""

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
    wait_until_settled,
)

pytestmark = pytest.mark.browser

PASSWORD = "a long evidence pages password"


@dataclass(frozen=True)
class Setup:
    token: str
    researcher: str
    programme_title: str


@pytest.fixture(scope="module")
def evidence(live_server: str, live_env: dict[str, str]) -> Setup:
    """A researcher and a published programme of this module, found by their token."""
    token = "e" + uuid.uuid4().hex[:7]
    researcher = f"researcher.{token}@example.org"
    reviewer = f"reviewer.{token}@example.org"
    title = f"Lantern Parents {token}"
    portal_cli(
        live_env, "users", "create", researcher, "--name", "Rita Researcher", "--country", "DE",
        "--member-type", "researcher", stdin=PASSWORD + "\n",
    )  # fmt: skip
    portal_cli(
        live_env, "users", "create", reviewer, "--name", "Ana Admin", "--role", "admin",
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
from tests.factories import programme_content

engine = build_engine(get_settings().database_url)
with make_session_factory(engine)() as session, session.begin():
    reviewer = session.scalars(select(Member).where(Member.email == {reviewer!r})).one()
    programme = service.create(session, reviewer, programme_content(title={title!r}))
    service.submit(session, reviewer, programme)
    service.review(session, reviewer, programme, "approve", "")
engine.dispose()
""",
    )
    return Setup(token, researcher, title)


def _sign_in(page: Page, base_url: str, email: str, target: str) -> None:
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: not url.endswith("/sign-in"))
    # A full load: signing in rotates the CSRF token that htmx requests carry.
    page.goto(base_url + target)


def _fill_study(page: Page, setup: Setup, title: str) -> None:
    page.get_by_label(setup.programme_title).check()
    page.locator("#title").fill(title)
    page.locator("#authors").fill("Weber, Anna\nCosta, Rui")
    page.locator("#year").fill("2022")
    page.locator("#venue").fill("Journal of Prevention Studies")
    page.locator("#doi").fill("https://doi.org/10.1234/Lantern.2022")
    page.locator("#design").select_option("rct")
    page.locator("#country").select_option("DE")
    page.locator("#sample_size").fill("160")
    page.locator("#risk_of_bias-low").check()


def _fill_first_outcome(page: Page, estimate: str) -> None:
    page.locator("#outcomes-0-name").fill("Protective parenting practices")
    page.locator("#outcomes-0-kind").select_option("risk_or_protective_factor")
    page.locator("#outcomes-0-estimate").fill(estimate)
    page.locator("#outcomes-0-ci_low").fill("0.1")
    page.locator("#outcomes-0-ci_high").fill("0.5")


def _fill_second_outcome(page: Page) -> None:
    page.locator("#outcomes-1-name").fill("Self-reported abuse")
    page.locator("#outcomes-1-kind").select_option("abuse_or_offending")
    page.locator("#outcomes-1-measure").select_option("risk_ratio")
    page.locator("#outcomes-1-lower_is_better").check()
    page.locator("#outcomes-1-input_kind-binary").check()
    page.locator("#outcomes-1-events_t").fill("0")
    page.locator("#outcomes-1-n_treatment").fill("80")
    page.locator("#outcomes-1-events_c").fill("6")
    page.locator("#outcomes-1-n_control").fill("80")


def test_a_researcher_adds_an_evaluation_with_two_outcomes(
    page: Page, live_server: str, evidence: Setup
) -> None:
    title = f"A trial of Lantern Parents {evidence.token}"
    _sign_in(page, live_server, evidence.researcher, "/evaluations/new")
    expect(page.locator("h1")).to_have_text("Add an evaluation")
    assert axe_violations(page) == []

    page.evaluate("() => { document.body.dataset.samePage = 'yes'; }")
    _fill_study(page, evidence, title)
    _fill_first_outcome(page, estimate="0.9")  # outside its CI: refused below
    # Only the inputs of the chosen way of entering the effect are shown.
    expect(page.locator("#outcomes-0-mean_t")).to_be_hidden()
    expect(page.locator("#outcomes-0-n_treatment")).to_be_visible()

    page.get_by_role("button", name="Add an outcome").click()
    expect(page.locator("#outcomes-1-name")).to_be_focused()
    assert page.evaluate("() => document.body.dataset.samePage") == "yes"
    _fill_second_outcome(page)
    expect(page.locator("#outcomes-1-events_t")).to_be_visible()
    expect(page.locator("#outcomes-1-estimate")).to_be_hidden()

    # A third row, added and removed again, without a page load.
    page.get_by_role("button", name="Add an outcome").click()
    expect(page.locator("#outcomes-2-name")).to_be_visible()
    page.get_by_role("button", name="Remove outcome 3").click()
    expect(page.locator("#outcomes-2-name")).to_have_count(0)
    expect(page.locator("#outcomes-1-name")).to_have_value("Self-reported abuse")
    assert page.evaluate("() => document.body.dataset.samePage") == "yes"

    page.locator("#publish-button").click()
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator("#outcomes-0-estimate-error")).to_have_text(
        "The confidence interval must contain the estimate."
    )
    expect(page.locator("#outcomes-1-events_t")).to_have_value("0")
    expect(page.locator("#title")).to_have_value(title)
    assert axe_violations(page) == []
    screenshot(page, "evidence-form-errors")

    page.locator("#outcomes-0-estimate").fill("0.3")
    page.locator("#publish-button").click()
    page.wait_for_url(re.compile(r"/evaluations/\d+$"))
    expect(page.locator("h1")).to_have_text(title)
    expect(page.get_by_text("The evaluation is published.")).to_be_visible()
    expect(page.locator("#outcomes-table tbody tr")).to_have_count(2)
    expect(page.locator("#computations")).to_contain_text(
        "A continuity correction of 0.5 was added because a group had zero events."
    )
    expect(page.locator(".citation__doi")).to_have_attribute(
        "href", "https://doi.org/10.1234/lantern.2022"
    )
    assert axe_violations(page) == []
    screenshot(page, "evidence-evaluation")

    page.goto(f"{live_server}/evaluations?q={evidence.token}")
    expect(page.locator("#evidence-count")).to_have_text("1 evaluation")
    expect(page.locator(".evidence-item__title")).to_have_text(title)
    assert axe_violations(page) == []
    screenshot(page, "evidence-list")

    # Filtering swaps the results in place and keeps the address.
    page.evaluate("() => { document.body.dataset.samePage = 'yes'; }")
    page.locator("#evidence-design").select_option("pre_post")
    expect(page.locator("#evidence-count")).to_have_text("No evaluation matches these filters.")
    wait_until_settled(page)
    assert "design=pre_post" in page.url
    assert page.evaluate("() => document.body.dataset.samePage") == "yes"


def test_the_form_works_without_javascript(
    no_js_page: Page, live_server: str, evidence: Setup
) -> None:
    page = no_js_page
    title = f"A quasi-experiment on Lantern Parents {evidence.token}"
    _sign_in(page, live_server, evidence.researcher, "/evaluations/new")
    _fill_study(page, evidence, title)
    _fill_first_outcome(page, estimate="0.3")
    page.get_by_role("button", name="Add an outcome").click()
    page.wait_for_load_state()
    expect(page.locator("#outcomes-1-name")).to_be_visible()
    expect(page.locator("#outcomes-0-name")).to_have_value("Protective parenting practices")
    expect(page.locator("#title")).to_have_value(title)
    _fill_second_outcome(page)
    page.locator("#publish-button").click()
    page.wait_for_url(re.compile(r"/evaluations/\d+$"))
    expect(page.locator("h1")).to_have_text(title)
    expect(page.locator("#outcomes-table tbody tr")).to_have_count(2)
