"""The home page and the informational pages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from tests.conftest import PortalClient
from tests.factories import DEFAULT_PASSWORD, member, organisation


@contextmanager
def count_queries(connection: Connection) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: object) -> None:
        statement = args[2]
        if isinstance(statement, str) and not statement.upper().startswith(
            ("SAVEPOINT", "RELEASE", "ROLLBACK")
        ):
            statements.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", record)


def test_home_shows_the_network_in_numbers(client: PortalClient) -> None:
    employer = organisation(country="PT")
    member(country="PT", organisations=[employer])
    member(country="EE")
    member(country="EE", status="suspended")

    html = client.get("/").text

    assert "What works to prevent child sexual abuse" in html
    assert "<dt>Members</dt>\n        <dd>2</dd>" in html
    assert "<dt>Organisations</dt>\n        <dd>1</dd>" in html
    assert "<dt>Countries</dt>\n        <dd>2</dd>" in html


def test_home_lists_the_four_target_groups(client: PortalClient) -> None:
    html = client.get("/").text

    for label in (
        "People who have offended or fear they might offend",
        "Parents and carers",
        "Schools and educators",
        "Children and young people",
    ):
        assert label in html


def test_home_needs_one_query_anonymous(
    client: PortalClient, connection: Connection, db_session: Session
) -> None:
    client.get("/")
    db_session.expunge_all()  # each request of the portal starts with an empty session
    with count_queries(connection) as statements:
        response = client.get("/")

    assert response.status_code == 200
    assert len(statements) == 1, statements


def test_home_needs_two_queries_signed_in(
    client: PortalClient, connection: Connection, db_session: Session
) -> None:
    member(email="count@example.org")
    client.post_form("/sign-in", {"email": "count@example.org", "password": DEFAULT_PASSWORD})
    db_session.expunge_all()
    with count_queries(connection) as statements:
        response = client.get("/")

    assert "Sign out" in response.text
    assert len(statements) == 2, statements


@pytest.mark.parametrize(
    ("path", "heading"),
    [("/about", "About the network"), ("/privacy", "Privacy notice")],
)
def test_informational_pages(client: PortalClient, path: str, heading: str) -> None:
    response = client.get(path)

    assert response.status_code == 200
    assert f"<h1>{heading}</h1>" in response.text
    assert 'aria-current="page"' in response.text


def test_privacy_notice_states_its_version(client: PortalClient) -> None:
    from app.pages.service import PRIVACY_NOTICE_VERSION

    assert f"Version {PRIVACY_NOTICE_VERSION}" in client.get("/privacy").text
