"""The layout, page-or-fragment rendering and error pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.conftest import PortalClient


def test_layout_has_landmarks_skip_link_and_navigation(client: PortalClient) -> None:
    html = client.get("/").text

    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html
    assert "<header" in html
    assert "<footer" in html
    assert 'aria-label="Main"' in html
    assert 'href="?lang=de"' in html
    assert "/sign-in" in html
    assert html.count("<h1") == 1
    assert 'hx-boost="true"' in html
    assert "htmx-2.0.11.min.js" in html


def test_the_vendored_htmx_is_served(client: PortalClient) -> None:
    response = client.get("/static/vendor/htmx-2.0.11.min.js")

    assert response.status_code == 200
    assert "htmx" in response.text[:2000]


def test_htmx_requests_get_the_fragment_only(client: PortalClient) -> None:
    response = client.get("/about", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "<html" not in response.text
    assert "<h1>About the network</h1>" in response.text
    assert "HX-Request" in response.headers["vary"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HX-Request": "true", "HX-History-Restore-Request": "true"},
        {"HX-Request": "true", "HX-Boosted": "true"},
    ],
)
def test_other_requests_get_the_whole_page(client: PortalClient, headers: dict[str, str]) -> None:
    response = client.get("/about", headers=headers)

    assert response.text.lstrip().startswith("<!doctype html>")
    assert "HX-Request" in response.headers["vary"]


def test_missing_page_is_a_full_404_page(client: PortalClient) -> None:
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert response.text.lstrip().startswith("<!doctype html>")
    assert "Page not found" in response.text
    assert "<footer" in response.text


def test_missing_page_for_htmx_is_a_fragment(client: PortalClient) -> None:
    response = client.get("/no-such-page", headers={"HX-Request": "true"})

    assert response.status_code == 404
    assert "<html" not in response.text
    assert "Page not found" in response.text


def test_missing_api_resource_is_a_json_problem(client: PortalClient) -> None:
    response = client.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Page not found"
    assert response.json()["status"] == 404


def test_wrong_method_is_405(client: PortalClient) -> None:
    response = client.get("/sign-out")

    assert response.status_code == 405
    assert "This action is not allowed here" in response.text


@pytest.fixture
def failing_app(settings: Settings) -> Iterator[TestClient]:
    app: FastAPI = create_app(settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    @app.get("/api/v1/boom")
    def api_boom() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_an_unexpected_error_is_a_full_500_page(failing_app: TestClient) -> None:
    response = failing_app.get("/boom")

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert response.text.lstrip().startswith("<!doctype html>")
    assert "a bug" not in response.text  # internals are logged, not shown


def test_an_unexpected_error_for_htmx_is_a_fragment(failing_app: TestClient) -> None:
    response = failing_app.get("/boom", headers={"HX-Request": "true"})

    assert response.status_code == 500
    assert "<html" not in response.text
    assert "Something went wrong on our side" in response.text


def test_an_unexpected_api_error_is_a_json_problem(failing_app: TestClient) -> None:
    response = failing_app.get("/api/v1/boom")

    assert response.status_code == 500
    assert response.json()["status"] == 500
    assert "a bug" not in response.text


def test_validation_errors_under_the_api_are_problems(settings: Settings) -> None:
    app = create_app(settings)

    @app.get("/api/v1/echo")
    def echo(number: int) -> dict[str, int]:
        return {"number": number}

    with TestClient(app) as client:
        response = client.get("/api/v1/echo?number=abc")

    assert response.status_code == 422
    problem = response.json()
    assert problem["status"] == 422
    assert problem["errors"][0]["loc"] == ["query", "number"]


def test_the_openapi_description_is_served_under_the_api(client: PortalClient) -> None:
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Prevention network portal"
