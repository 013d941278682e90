"""What only a browser shows: accessibility, keyboard use, htmx navigation, no-JS forms."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import MEMBER_NAME, axe_violations, screenshot, sign_in

pytestmark = pytest.mark.browser

PAGES = [
    ("/", "What works to prevent child sexual abuse"),
    ("/about", "About the network"),
    ("/privacy", "Privacy notice"),
    ("/sign-in", "Sign in"),
    ("/no-such-page", "Page not found"),
    ("/?lang=de", "sexuellen"),
    ("/about?lang=fr", "réseau"),
]


@pytest.mark.parametrize(("path", "heading"), PAGES)
def test_every_page_passes_axe(page: Page, live_server: str, path: str, heading: str) -> None:
    page.goto(live_server + path)

    expect(page.locator("h1")).to_contain_text(heading)
    assert axe_violations(page) == []


@pytest.mark.parametrize("width", [375, 1280])
def test_home_passes_axe_at_phone_and_desktop_width(
    page: Page, live_server: str, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(live_server + "/")

    assert axe_violations(page) == []
    screenshot(page, f"home-{width}")


def test_the_sign_in_form_with_errors_passes_axe(page: Page, live_server: str) -> None:
    page.goto(live_server + "/sign-in")
    page.get_by_role("button", name="Sign in").click()

    expect(page.locator("#email-error")).to_have_text("Enter your e-mail address.")
    assert axe_violations(page) == []
    screenshot(page, "sign-in-errors")


def test_signed_in_pages_pass_axe(page: Page, live_server: str) -> None:
    sign_in(page, live_server)

    expect(page.locator(".site-header")).to_contain_text(MEMBER_NAME)
    assert axe_violations(page) == []


def test_the_home_page_is_styled_and_htmx_is_loaded(page: Page, live_server: str) -> None:
    page.goto(live_server + "/")

    styles = page.evaluate(
        """() => {
            const h1 = getComputedStyle(document.querySelector('h1'));
            const body = getComputedStyle(document.body);
            return {h1Size: parseFloat(h1.fontSize), font: body.fontFamily,
                    sheets: document.styleSheets.length, htmx: typeof htmx}
        }"""
    )
    assert styles["sheets"] >= 1
    assert styles["h1Size"] > 28
    assert "Times" not in styles["font"]
    assert styles["htmx"] == "object"
    screenshot(page, "home")


def test_the_skip_link_is_first_and_moves_focus_to_main(page: Page, live_server: str) -> None:
    page.goto(live_server + "/about")

    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")

    assert page.evaluate("document.activeElement.id") == "main"


def test_keyboard_alone_reaches_sign_in(page: Page, live_server: str) -> None:
    page.goto(live_server + "/")

    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Sign in":
            break
    page.keyboard.press("Enter")

    page.wait_for_url(live_server + "/sign-in")
    expect(page.locator("h1")).to_have_text("Sign in")


def test_boosted_navigation_swaps_the_page_without_reloading(page: Page, live_server: str) -> None:
    page.goto(live_server + "/")
    page.evaluate("window.__sameDocument = true")

    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="About the network"
    ).click()

    page.wait_for_url(live_server + "/about")
    expect(page.locator("h1")).to_have_text("About the network")
    assert page.evaluate("window.__sameDocument === true")
    page.go_back()
    page.wait_for_url(live_server + "/")
    expect(page.locator("h1")).to_contain_text("What works to prevent")


def test_the_language_switcher_translates_the_page(page: Page, live_server: str) -> None:
    page.goto(live_server + "/about")

    page.get_by_role("link", name="DE Deutsch").click()

    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("h1")).to_have_text("Über das Netzwerk")
    page.goto(live_server + "/privacy")
    expect(page.locator("html")).to_have_attribute("lang", "de")


def test_a_wrong_password_keeps_the_email_and_explains(page: Page, live_server: str) -> None:
    page.goto(live_server + "/sign-in")
    page.get_by_label("E-mail address").fill("someone@example.org")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("not correct")
    expect(page.get_by_label("E-mail address")).to_have_value("someone@example.org")


def test_signing_in_and_out_works_without_javascript(no_js_page: Page, live_server: str) -> None:
    sign_in(no_js_page, live_server)
    expect(no_js_page.locator(".site-header")).to_contain_text(MEMBER_NAME)

    no_js_page.get_by_role("button", name="Sign out").click()

    no_js_page.wait_for_url(live_server + "/")
    expect(no_js_page.locator(".site-header")).not_to_contain_text(MEMBER_NAME)
