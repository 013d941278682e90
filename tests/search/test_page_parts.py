"""The search page's facets and map are rendered once per search and index state
(app.search.routes.side_parts): committed changes, relabelled terms and the visitor's right
to members-only records always show."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.evidence import ratings
from app.evidence import service as evidence_service
from app.main import create_app
from app.members.models import Member
from app.programmes.models import Programme
from app.search import routes, service
from app.vocabularies import service as vocabularies
from tests import factories
from tests.conftest import PortalClient, portal_settings
from tests.evidence.test_service import evaluation_content
from tests.search.test_engine import (  # noqa: F401
    _people,
    _publish,
    committed,
    database,
    reading,
)


@pytest.fixture
def client(database: Engine, fresh_database_url: str) -> Iterator[PortalClient]:  # noqa: F811
    app = create_app(portal_settings(fresh_database_url))
    routes._parts.clear()
    routes._hits.clear()
    with PortalClient(app, base_url="http://testserver") as test_client:
        yield test_client
    app.state.engine.dispose()
    routes._parts.clear()


def country_count(page: str, code: str) -> int | None:
    found = re.search(
        rf'id="facet-countries-{code}".*?search-facet__count">\(([\d,]+)\)', page, re.S
    )
    return int(found.group(1).replace(",", "")) if found else None


def test_facets_follow_commits_and_are_rendered_once_per_state(
    client: TestClient,
    database: Engine,  # noqa: F811
) -> None:
    people = committed(database, _people)
    committed(database, lambda s: _publish(s, people, title="Harbour one", countries=["DE"]))
    committed(
        database,
        lambda s: _publish(
            s, people, title="Harbour hidden", countries=["FR"], visibility="members"
        ),
    )

    page = client.get("/search").text
    assert country_count(page, "DE") == 1
    assert country_count(page, "FR") is None  # members-only: never counted for visitors
    kept = routes._parts.copy()
    assert len(kept) == 1
    # Another page and the htmx fragment of the same search reuse the rendered parts.
    client.get("/search?page=2")
    client.get("/search", headers={"HX-Request": "true"})
    assert routes._parts.copy() == kept

    committed(database, lambda s: _publish(s, people, title="Harbour two", countries=["DE"]))
    page = client.get("/search").text
    assert country_count(page, "DE") == 2
    assert len(routes._parts) == 2  # a new state of the index, new parts


def test_a_relabelled_term_shows_at_once(client: TestClient, database: Engine) -> None:  # noqa: F811
    people = committed(database, _people)
    committed(database, lambda s: _publish(s, people, title="Harbour one", settings=["school"]))
    assert "School" in client.get("/search").text

    def relabel(session: Session) -> None:
        coordinator = session.get(Member, people[1])
        assert coordinator is not None
        vocabularies.relabel_term(
            session,
            coordinator,
            "settings",
            "school",
            {"en": "Schools and colleges", "de": "Schulen", "fr": "Écoles"},
        )

    committed(database, relabel)
    assert "Schools and colleges" in client.get("/search").text


def test_members_get_parts_of_their_own(client: PortalClient, database: Engine) -> None:  # noqa: F811
    people = committed(database, _people)
    committed(
        database,
        lambda s: _publish(
            s, people, title="Harbour hidden", countries=["FR"], visibility="members"
        ),
    )
    assert country_count(client.get("/search").text, "FR") is None

    def sign_in(session: Session) -> None:
        member = session.get(Member, people[0])
        assert member is not None
        client.sign_in_as(session, member)

    committed(database, sign_in)
    assert country_count(client.get("/search").text, "FR") == 1
    client.cookies.clear()
    assert country_count(client.get("/search").text, "FR") is None


def test_a_result_shows_its_record_as_it_is_now_and_the_words_of_each_search(
    client: TestClient,
    database: Engine,  # noqa: F811
) -> None:
    people = committed(database, _people)
    programme = committed(database, lambda s: _publish(s, people, title="Harbour one"))
    assert "<mark>Harbour</mark> one" in client.get("/search?q=harbour").text
    assert "Harbour <mark>one</mark>" in client.get("/search?q=one").text
    assert "Evidence:" not in client.get("/search?q=harbour").text  # not rated yet
    assert routes._hits

    def rate(session: Session) -> None:
        coordinator = session.get(Member, people[1])
        assert coordinator is not None
        ratings.override(session, coordinator, programme, "effective", "Reviewed by the network.")

    committed(database, rate)
    page = client.get("/search?q=harbour").text
    assert "Evidence:" in page
    assert "<mark>Harbour</mark> one" in page


def test_listings_are_read_again_when_their_document_changes(
    database: Engine,  # noqa: F811
) -> None:
    people = committed(database, _people)
    first = committed(database, lambda s: _publish(s, people, title="Harbour one"))
    second = committed(database, lambda s: _publish(s, people, title="Harbour two"))

    def listings(session: Session) -> dict[int, Any]:
        return service.load_listings(session, "programme", [first, second])

    before = reading(database, listings)
    again = reading(database, listings)
    assert before[first] is again[first]  # kept
    assert before[second] is again[second]

    def rename(session: Session) -> None:
        programme = session.get(Programme, first)
        assert programme is not None
        programme.title = "Harbour renamed"

    committed(database, rename)
    after = reading(database, listings)
    assert after[first].title == "Harbour renamed"
    assert after[first].seq > before[first].seq
    assert after[second] is before[second]

    # A transaction with documents of its own reads them as they are, and keeps nothing.
    def uncommitted(session: Session) -> tuple[str, str]:
        rename_again = session.get(Programme, first)
        assert rename_again is not None
        rename_again.title = "Harbour draft name"  # not flushed yet
        mine = listings(session)
        return mine[first].title, mine[second].title

    kept = len(service._listings)
    assert reading(database, uncommitted) == ("Harbour draft name", "Harbour two")
    assert len(service._listings) == kept
    assert reading(database, listings)[first].title == "Harbour renamed"


def test_the_apis_programme_links_follow_a_programmes_visibility(
    client: TestClient,
    database: Engine,  # noqa: F811
) -> None:
    people = committed(database, _people)
    programme = committed(database, lambda s: _publish(s, people, title="Harbour one"))

    def evaluate(session: Session) -> int:
        researcher = factories.member(member_type="researcher")
        linked = session.get(Programme, programme)
        assert linked is not None
        return evidence_service.create(session, researcher, evaluation_content(linked)).id

    evaluation = committed(database, evaluate)

    def links() -> list[int]:
        answer = client.get("/api/v1/search?type=evaluation").json()
        (result,) = [found for found in answer["results"] if found["id"] == evaluation]
        return list(result["programme_ids"])

    assert links() == [programme]
    assert links() == [programme]  # the same page again: kept

    def hide(session: Session) -> None:
        linked = session.get(Programme, programme)
        assert linked is not None
        linked.visibility = "members"

    committed(database, hide)
    assert links() == []  # a visitor is never shown a members-only programme
