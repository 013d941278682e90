"""Security headers, cookies and CSRF, as a browser would meet them."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy.orm import Session
from starlette.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from app.config import Settings
from app.kit.middleware import BodySizeLimitMiddleware
from app.main import create_app
from tests.conftest import TEST_SECRET_KEY, PortalClient, portal_settings
from tests.factories import DEFAULT_PASSWORD, member


def test_every_page_carries_a_strict_content_security_policy(client: PortalClient) -> None:
    response = client.get("/")
    policy = response.headers["content-security-policy"]

    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    # Every source is the portal itself: no CDN, no font host, no analytics.
    sources = re.findall(r"(https?://\S+|\*)", policy)
    assert sources == []
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "strict-transport-security" not in response.headers


def test_pages_reference_nothing_from_another_origin(client: PortalClient) -> None:
    html = client.get("/").text

    assert not re.search(r'(src|href)="https?://(?!testserver)', html)


def test_production_adds_hsts_and_secure_cookies(database_url: str) -> None:
    settings = Settings(
        database_url=database_url, secret_key=TEST_SECRET_KEY, environment="production"
    )
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        response = client.get("/sign-in?lang=de")

    assert response.headers["strict-transport-security"].startswith("max-age=")
    cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("portal_session="))
    assert "secure" in session_cookie.lower()
    assert "httponly" in session_cookie.lower()
    assert "samesite=lax" in session_cookie.lower()
    language_cookie = next(c for c in cookies if c.startswith("portal_lang="))
    assert "secure" in language_cookie.lower()


def test_development_session_cookie_is_http_only_and_lax(client: PortalClient) -> None:
    response = client.get("/sign-in")

    session_cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("portal_session=")
    )
    assert "httponly" in session_cookie.lower()
    assert "samesite=lax" in session_cookie.lower()
    assert "secure" not in session_cookie.lower()


def test_a_form_post_without_csrf_token_is_refused(client: PortalClient) -> None:
    client.get("/sign-in")
    response = client.post("/sign-in", data={"email": "a@example.org", "password": "x"})

    assert response.status_code == 403
    assert "expired" in response.text


def test_a_form_post_with_a_wrong_token_is_refused(client: PortalClient) -> None:
    client.get("/sign-in")
    response = client.post(
        "/sign-in", data={"csrf_token": "forged", "email": "a@example.org", "password": "x"}
    )

    assert response.status_code == 403


def test_a_token_from_another_session_is_refused(app: object, client: PortalClient) -> None:
    token = client.csrf_token()
    with PortalClient(client.app, base_url="http://testserver") as other_browser:
        other_browser.get("/sign-in")
        response = other_browser.post(
            "/sign-in", data={"csrf_token": token, "email": "a@example.org", "password": "x"}
        )

    assert response.status_code == 403


def test_the_form_token_lets_the_request_through(client: PortalClient) -> None:
    response = client.post_form("/sign-in", {"email": "nobody@example.org", "password": "x"})

    assert response.status_code == 422  # reached the route: the credentials are wrong


def test_multipart_forms_are_checked_too(client: PortalClient) -> None:
    token = client.csrf_token()
    accepted = client.post(
        "/sign-in",
        data={"csrf_token": token, "email": "nobody@example.org", "password": "x"},
        files={"attachment": ("note.txt", b"hello", "text/plain")},
    )
    refused = client.post(
        "/sign-in",
        data={"email": "nobody@example.org", "password": "x"},
        files={"attachment": ("note.txt", b"hello", "text/plain")},
    )

    assert accepted.status_code == 422
    assert refused.status_code == 403


def test_htmx_sends_the_token_as_a_header(client: PortalClient) -> None:
    token = client.csrf_token("/")
    response = client.post(
        "/sign-out", headers={"X-CSRF-Token": token, "HX-Request": "true"}, follow_redirects=False
    )

    assert response.status_code == 303


def test_a_wrong_header_token_is_refused_as_json_under_the_api(client: PortalClient) -> None:
    client.get("/")
    response = client.post("/api/v1/anything", headers={"X-CSRF-Token": "forged"})

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 403


def test_bearer_requests_without_a_session_cookie_are_exempt(app: object) -> None:
    with PortalClient(app, base_url="http://testserver") as api_client:  # type: ignore[arg-type]
        response = api_client.post("/api/v1/anything", headers={"Authorization": "Bearer abc"})

    # Not refused as a forgery: it reaches routing, which has no such endpoint.
    assert response.status_code == 404


def test_a_bearer_header_does_not_exempt_a_cookie_session(client: PortalClient) -> None:
    client.get("/")
    response = client.post("/sign-out", headers={"Authorization": "Bearer abc"})

    assert response.status_code == 403


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_other_unsafe_methods_need_the_token(client: PortalClient, method: str) -> None:
    client.get("/")
    response = client.request(method.upper(), "/sign-out")

    assert response.status_code == 403


def test_signing_in_renews_the_session(client: PortalClient) -> None:
    member(email="renew@example.org")
    before = client.csrf_token()
    client.post_form("/sign-in", {"email": "renew@example.org", "password": DEFAULT_PASSWORD})
    after = client.csrf_token("/")

    assert before != after


def test_sign_in_as_opens_a_server_side_session(client: PortalClient, db_session: Session) -> None:
    someone = member(full_name="Server Side")
    client.sign_in_as(db_session, someone)

    assert "Server Side" in client.get("/").text


def _small_limit_client(database_url: str) -> TestClient:
    settings = portal_settings(database_url).model_copy(update={"max_upload_bytes": 1000})
    return TestClient(create_app(settings))


def test_a_body_declared_over_the_limit_is_refused_with_a_page(database_url: str) -> None:
    with _small_limit_client(database_url) as client:
        declared = client.post(
            "/sign-in",
            content=b"x" * (2 * 1024 * 1024),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        api = client.post("/api/v1/applications", content=b"{" * (2 * 1024 * 1024))

    assert declared.status_code == 413
    assert "larger than the limit of" in declared.text
    assert api.status_code == 413
    assert api.headers["content-type"] == "application/problem+json"


def test_a_streamed_body_is_refused_on_the_chunk_that_passes_the_limit() -> None:
    chunks_read = 0
    refused: list[int] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body"):
            pass
        raise AssertionError("the whole body was read")

    async def too_large(scope: Scope, receive: Receive, send: Send) -> None:
        refused.append(chunks_read)

    async def receive() -> Message:
        nonlocal chunks_read
        chunks_read += 1
        return {"type": "http.request", "body": b"x" * 1000, "more_body": chunks_read < 1000}

    async def send(message: Message) -> None:
        pass

    middleware = BodySizeLimitMiddleware(inner, max_bytes=10_000, on_too_large=too_large)
    scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}
    asyncio.run(middleware(scope, receive, send))

    assert refused == [11]
