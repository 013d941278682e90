"""A real OpenID Connect provider on loopback (npm oidc-provider) and a portal that uses it.

Use from a test module with ``pytest_plugins = ["tests.oidc_fixtures"]``. The provider is
tests/oidc_provider/server.mjs; its dependencies are installed with ``npm ci`` when
node_modules is missing. Without node or npm the tests are skipped, or fail when CI=true.

PYTEST_DONT_REWRITE: test modules import the helpers before pytest_plugins registers them;
the helpers' assertions carry their own messages.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from base64 import b64decode, b64encode
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import itsdangerous
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.config import PROJECT_ROOT, OidcProvider, Settings
from app.db import get_session
from app.kit.csrf import SESSION_COOKIE
from app.main import create_app
from tests.conftest import TEST_SECRET_KEY, PortalClient
from tests.ports import free_port

PROVIDER_DIR = PROJECT_ROOT / "tests" / "oidc_provider"
CLIENT_ID = "portal-tests"
CLIENT_SECRET = "portal-tests-client-secret-0123456789"
PUBLIC_CLIENT_ID = "portal-tests-public"
PROVIDER_NAME = "testidp"
PROVIDER_LABEL = "Test IdP"
PORTAL_BASE_URL = "http://testserver"

# The provider's test accounts (see server.mjs): login name → claims.
ACCOUNTS = {
    "ada": {"email": "ada.lovelace@idp.example", "name": "Ada Lovelace"},
    "grace": {"email": "grace.hopper@idp.example", "name": "Grace Hopper"},
    "katherine": {"email": "katherine.johnson@idp.example", "name": "Katherine Johnson"},
}


def _missing_tool(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def ensure_provider_installed() -> None:
    """node and npm present, and the provider's locked dependencies installed."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        _missing_tool("node and npm are needed for the OpenID Connect provider of the SSO tests")
    if (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return
    result = subprocess.run(
        ["npm", "ci", "--prefix", str(PROVIDER_DIR), "--no-audit", "--no-fund"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail("npm ci for tests/oidc_provider failed:\n" + result.stdout + result.stderr)


@dataclass(frozen=True)
class RunningProvider:
    issuer: str
    client_id: str
    client_secret: str
    log_path: Path

    def settings_entry(
        self, name: str = PROVIDER_NAME, label: str = PROVIDER_LABEL
    ) -> OidcProvider:
        return OidcProvider(
            name=name,
            label=label,
            issuer=self.issuer,
            client_id=self.client_id,
            client_secret=self.client_secret,
        )


@contextmanager
def run_provider(
    redirect_uris: list[str], log_dir: Path, port: int | None = None
) -> Iterator[RunningProvider]:
    """Start server.mjs on loopback (a free port unless given); stop it afterwards."""
    ensure_provider_installed()
    port = port or free_port()
    issuer = f"http://127.0.0.1:{port}"
    log_path = log_dir / f"oidc-provider-{port}.log"
    env = {
        **os.environ,
        "OIDC_PROVIDER_PORT": str(port),
        "OIDC_PROVIDER_CLIENT_ID": CLIENT_ID,
        "OIDC_PROVIDER_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_PROVIDER_REDIRECT_URIS": " ".join(redirect_uris),
        "OIDC_PROVIDER_PUBLIC_CLIENT_ID": PUBLIC_CLIENT_ID,
    }
    env.pop("NODE_ENV", None)
    with log_path.open("w") as log:
        process = subprocess.Popen(
            ["node", "server.mjs"],
            cwd=PROVIDER_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for_discovery(issuer, process, log_path)
            yield RunningProvider(issuer, CLIENT_ID, CLIENT_SECRET, log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def _wait_for_discovery(issuer: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    url = issuer + "/.well-known/openid-configuration"
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("the OpenID Connect provider did not start:\n" + log_path.read_text())
        time.sleep(0.1)


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProvider]:
    """The provider, with the in-process test portal's callbacks registered."""
    callbacks = [
        f"{PORTAL_BASE_URL}/sign-in/oidc/{name}/callback" for name in (PROVIDER_NAME, "public")
    ]
    with run_provider(callbacks, tmp_path_factory.mktemp("oidc")) as provider:
        yield provider


@pytest.fixture(scope="session")
def oidc_settings(settings: Settings, oidc_provider: RunningProvider) -> Settings:
    """The test settings plus the provider (as a confidential and as a public client), and
    one provider nobody listens for."""
    unreachable = OidcProvider(
        name="down",
        label="Down IdP",
        issuer=f"http://127.0.0.1:{free_port()}",
        client_id="nobody",
        client_secret="nothing",
    )
    public = OidcProvider(
        name="public", label="Public IdP", issuer=oidc_provider.issuer, client_id=PUBLIC_CLIENT_ID
    )
    return settings.model_copy(
        update={
            "base_url": PORTAL_BASE_URL,
            "oidc_providers": [oidc_provider.settings_entry(), public, unreachable],
        }
    )


@pytest.fixture(scope="session")
def oidc_app(oidc_settings: Settings, engine: Engine) -> Iterator[FastAPI]:
    app = create_app(oidc_settings)
    yield app
    app.state.engine.dispose()


@contextmanager
def portal_client(app: FastAPI, db_session: Session) -> Iterator[PortalClient]:
    """A client of ``app`` whose requests use the test's session (as the ``client`` fixture)."""

    def session_override() -> Iterator[Session]:
        try:
            yield db_session
            db_session.commit()
        except BaseException:
            db_session.rollback()
            raise

    app.dependency_overrides[get_session] = session_override
    try:
        with PortalClient(app, base_url=PORTAL_BASE_URL, raise_server_exceptions=False) as client:
            yield client
    finally:
        app.dependency_overrides.clear()


@pytest.fixture
def oidc_client(oidc_app: FastAPI, db_session: Session) -> Iterator[PortalClient]:
    """A client of the portal with the provider configured; requests use the test's session."""
    with portal_client(oidc_app, db_session) as client:
        yield client


@pytest.fixture
def provider_browser() -> Iterator[httpx.Client]:
    """A plain HTTP client for the provider's pages, with its own cookies (a fresh browser)."""
    with httpx.Client(timeout=10) as client:
        yield client


# ----------------------------------------------------------------------------------------
# Driving the flow like a browser: the portal's pages through the TestClient, the
# provider's through real HTTP.


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.inputs: dict[str, str] = {}
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "form" and self.action is None:
            self.action = values.get("action", "")
        elif tag == "input" and values.get("name"):
            self.inputs[values["name"]] = values.get("value", "")
        elif tag == "a":
            self._href = values.get("href")
            self._text = ""

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._text.strip(), self._href))
            self._href = None


def parse_form(html: str) -> _FormParser:
    parser = _FormParser()
    parser.feed(html)
    return parser


@dataclass
class ProviderVisit:
    """Where the flow went: the authorization URL, then the callback back to the portal."""

    authorization_url: str
    callback_url: str
    prompts: list[str]


def visit_provider(
    portal: PortalClient,
    provider_browser: httpx.Client,
    start_path: str,
    *,
    login: str,
    cancel: bool = False,
    **start_kwargs: Any,
) -> ProviderVisit:
    """Start at the portal, sign in and consent at the provider, stop before the callback."""
    started = portal.get(start_path, follow_redirects=False, **start_kwargs)
    assert started.status_code in (302, 303), started.text
    authorization_url = started.headers["location"]
    url = authorization_url
    prompts: list[str] = []
    response = provider_browser.get(url)
    for _step in range(20):
        if response.is_redirect:
            url = urljoin(url, response.headers["location"])
            if url.startswith(PORTAL_BASE_URL + "/"):
                return ProviderVisit(authorization_url, url, prompts)
            response = provider_browser.get(url)
            continue
        assert response.status_code == 200, response.text
        page = parse_form(response.text)
        prompt = page.inputs.get("prompt", "")
        prompts.append(prompt)
        if cancel:
            abort = next(href for text, href in page.links if "Cancel" in text)
            url = urljoin(url, abort)
            response = provider_browser.get(url)
            continue
        assert page.action, response.text
        data = dict(page.inputs)
        if prompt == "login":
            data.update({"login": login, "password": "any password will do"})
        url = urljoin(url, page.action)
        response = provider_browser.post(url, data=data)
    raise AssertionError("the provider never sent the browser back to the portal")


def sign_in_with_provider(
    portal: PortalClient,
    provider_browser: httpx.Client,
    start_path: str = f"/sign-in/oidc/{PROVIDER_NAME}",
    *,
    login: str,
) -> httpx.Response:
    """The whole round trip; returns the portal's answer to the callback (not followed)."""
    visit = visit_provider(portal, provider_browser, start_path, login=login)
    response: httpx.Response = portal.get(visit.callback_url, follow_redirects=False)
    return response


# ----------------------------------------------------------------------------------------
# The portal's signed session cookie, read and rewritten as an attacker with the key could


def read_portal_session(client: PortalClient) -> dict[str, Any]:
    cookie = client.cookies.get(SESSION_COOKIE)
    if cookie is None:
        return {}
    signer = itsdangerous.TimestampSigner(TEST_SECRET_KEY)
    data: dict[str, Any] = json.loads(b64decode(signer.unsign(cookie.encode())))
    return data


def write_portal_session(client: PortalClient, data: dict[str, Any]) -> None:
    payload = b64encode(json.dumps(data).encode())
    signed = itsdangerous.TimestampSigner(TEST_SECRET_KEY).sign(payload).decode()
    client.cookies.delete(SESSION_COOKIE)
    client.cookies.set(SESSION_COOKIE, signed, domain="testserver.local")
