"""Personal access tokens: the /account/tokens page and `portal tokens create`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.auth import api_tokens
from app.auth.models import ApiToken
from app.cli import cli
from app.config import get_settings
from app.db import build_engine, make_session_factory
from app.kit.tokens import hash_token
from app.members.models import Member
from tests.conftest import PortalClient
from tests.factories import coordinator, member

SECRET_PATTERN = re.compile(r'id="new-token-secret" type="text" value="(pnp_[^"]+)"')


def create_token(client: PortalClient, name: str, scope: str = "read") -> tuple[int, str]:
    token = client.csrf_token("/account/tokens")
    response = client.post(
        "/account/tokens", data={"csrf_token": token, "name": name, "scope": scope}
    )
    return response.status_code, response.text


@pytest.fixture
def owner(client: PortalClient, db_session: Session) -> Member:
    signed_in = member(full_name="Token Owner")
    client.sign_in_as(db_session, signed_in)
    db_session.commit()
    return signed_in


def test_the_tokens_page_needs_an_active_member(client: PortalClient, db_session: Session) -> None:
    anonymous = client.get("/account/tokens", follow_redirects=False)
    lapsed = member(status="lapsed", membership_expires_on=date.today() - timedelta(days=1))
    client.sign_in_as(db_session, lapsed)
    db_session.commit()
    renewal = client.get("/account/tokens", follow_redirects=False)

    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/sign-in")
    assert renewal.status_code == 303
    assert renewal.headers["location"] == "/account/membership"


def test_the_secret_is_shown_once_and_stored_hashed(
    client: PortalClient, db_session: Session, owner: Member
) -> None:
    status, html = create_token(client, "My script")

    assert status == 201
    match = SECRET_PATTERN.search(html)
    assert match is not None
    secret = match.group(1)
    assert "shown only this once" in html
    stored = db_session.scalars(select(ApiToken).where(ApiToken.member_id == owner.id)).one()
    assert stored.token_hash == hash_token(secret)
    assert stored.prefix == secret[:12]
    assert stored.name == "My script"
    assert stored.scope == "read"
    # Nowhere in the row, and never again on the page.
    assert secret not in {stored.token_hash, stored.prefix, stored.name}
    listing = client.get("/account/tokens").text
    assert secret not in listing
    assert "My script" in listing
    assert f"<code>{secret[:12]}…</code>" in listing
    # And the secret works.
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.json()["full_name"] == "Token Owner"


def test_the_list_shows_name_prefix_scope_and_dates(
    client: PortalClient, db_session: Session, owner: Member
) -> None:
    _status, html = create_token(client, "Used token", "write")
    secret = SECRET_PATTERN.search(html)
    assert secret is not None
    client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret.group(1)}"})
    client.cookies.clear()
    client.sign_in_as(db_session, owner)

    listing = client.get("/account/tokens").text

    row = listing.split('<th scope="row">Used token</th>')[1].split("</tr>")[0]
    assert "<td>write</td>" in row
    assert "Never" not in row


def test_a_name_is_required_and_the_input_is_kept(client: PortalClient, owner: Member) -> None:
    status, html = create_token(client, "   ")
    long_status, long_html = create_token(client, "x" * 101, "write")

    assert status == 422
    assert 'id="name-error"' in html
    assert long_status == 422
    assert 'value="' + "x" * 101 + '"' in long_html
    assert 'value="write" checked' in long_html
    assert SECRET_PATTERN.search(html) is None


def test_only_coordinators_may_create_coordinate_tokens(
    client: PortalClient, db_session: Session, owner: Member
) -> None:
    page = client.get("/account/tokens").text
    status, html = create_token(client, "Too much", "coordinate")

    assert 'value="coordinate"' not in page
    assert status == 422
    assert 'id="scope-error"' in html
    assert db_session.scalars(select(ApiToken).where(ApiToken.member_id == owner.id)).all() == []

    client.cookies.clear()
    client.sign_in_as(db_session, coordinator(["PT"]))
    db_session.commit()
    assert 'value="coordinate"' in client.get("/account/tokens").text
    coordinator_status, _html = create_token(client, "Coordination", "coordinate")
    assert coordinator_status == 201


def test_a_revoked_token_stops_working(
    client: PortalClient, db_session: Session, owner: Member
) -> None:
    _status, html = create_token(client, "Short-lived")
    match = SECRET_PATTERN.search(html)
    assert match is not None
    headers = {"Authorization": f"Bearer {match.group(1)}"}
    assert client.get("/api/v1/members", headers=headers).status_code == 200
    token = db_session.scalars(select(ApiToken).where(ApiToken.member_id == owner.id)).one()

    response = client.post_form(f"/account/tokens/{token.id}/revoke", {}, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/account/tokens?revoked=1"
    assert "has been revoked" in client.get("/account/tokens?revoked=1").text
    assert "Short-lived" not in client.get("/account/tokens").text
    # A bearer request without the session cookie, as a script would send it.
    client.cookies.clear()
    assert client.get("/api/v1/members", headers=headers).status_code == 401


def test_nobody_revokes_another_members_token(
    client: PortalClient, db_session: Session, owner: Member
) -> None:

    other = member()
    token, _secret = api_tokens.create(db_session, other, name="Not yours", scope="read")
    db_session.commit()

    response = client.post_form(f"/account/tokens/{token.id}/revoke", {})

    assert response.status_code == 404
    db_session.refresh(token)
    assert token.revoked_at is None


# `portal tokens create`

runner = CliRunner()


@pytest.fixture
def cli_database(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("PORTAL_DATABASE_URL", fresh_database_url)
    get_settings.cache_clear()
    # "heads": other work may add migrations in parallel before they are chained.
    assert runner.invoke(cli, ["db", "upgrade", "--revision", "heads"]).exit_code == 0
    created = runner.invoke(
        cli, ["users", "create", "cli.member@example.org"], input="a long enough password\n"
    )
    assert created.exit_code == 0, created.output
    yield fresh_database_url
    get_settings.cache_clear()


def test_the_cli_prints_a_working_secret_once(cli_database: str) -> None:
    result = runner.invoke(
        cli, ["tokens", "create", "CLI.member@example.org", "--scope", "write", "--name", "CI"]
    )

    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("pnp_")
    assert "shown only this once" in result.stderr
    engine = build_engine(cli_database)
    try:
        with make_session_factory(engine)() as session:
            token = session.scalars(select(ApiToken)).one()
            assert token.token_hash == hash_token(secret)
            assert token.scope == "write"
            assert token.name == "CI"
    finally:
        engine.dispose()


def test_the_cli_refuses_an_unknown_email(cli_database: str) -> None:
    result = runner.invoke(cli, ["tokens", "create", "nobody@example.org", "--scope", "read"])

    assert result.exit_code == 1
    assert "no member has the e-mail address nobody@example.org" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("scope", ["coordinate", "admin"])
def test_the_cli_refuses_a_scope_the_member_may_not_have(cli_database: str, scope: str) -> None:
    result = runner.invoke(cli, ["tokens", "create", "cli.member@example.org", "--scope", scope])

    assert result.exit_code == 1
    assert "Error:" in result.stderr
    assert result.stdout == ""
