"""The search page: facets with live counts, visibility, htmx fragments, paging, kinds."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.members.models import Member
from tests import factories
from tests.conftest import PortalClient


def text_of(page: str) -> str:
    """The page's words without markup, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def facet_count(page: str, field: str, code: str) -> int | None:
    """The count shown beside facet ``field``'s checkbox for ``code`` (None: not shown)."""
    found = re.search(
        rf'<label for="facet-{field}-{code}">[^<]*<span class="search-facet__count">'
        r"\(([\d,.\s]+)\)</span>",
        page,
    )
    return int(re.sub(r"\D", "", found.group(1))) if found else None


def is_checked(page: str, field: str, code: str) -> bool:
    found = re.search(rf'<input type="checkbox" id="facet-{field}-{code}"[^>]*>', page)
    return bool(found and "checked" in found.group())


def signed_in(client: PortalClient, session: Session) -> Member:
    member = factories.member()
    client.sign_in_as(session, member)
    session.commit()
    return member


def seed(session: Session) -> None:
    """Two public programmes and one for members only, in different countries."""
    author = factories.member()
    factories.programme(author, title="Safe Families at Home", countries=["DE", "PT"])
    factories.programme(
        author,
        title="Safe Schools Everywhere",
        summary="Lessons for pupils about their bodies and about safety.",
        target_groups=["children"],
        target_subgroups=[],
        countries=["PT"],
    )
    factories.programme(
        author,
        title="Hidden Safe Circle",
        summary="A closed group for members about safety.",
        countries=["PT", "FR"],
        visibility="members",
    )
    session.commit()


def test_anonymous_visitor_sees_public_programmes_with_facet_counts(
    client: PortalClient, db_session: Session
) -> None:
    seed(db_session)
    page = client.get("/search")
    assert page.status_code == 200
    body = page.text
    assert body.count("<h1") == 1
    assert "Safe Families at Home" in body
    assert "Safe Schools Everywhere" in body
    # The members-only programme neither appears nor counts.
    assert "Hidden Safe Circle" not in body
    assert facet_count(body, "countries", "PT") == 2
    assert facet_count(body, "countries", "DE") == 1
    assert facet_count(body, "countries", "FR") is None
    assert "2 results" in text_of(body)
    assert "<legend>Country</legend>" in body
    # The map and its table count the same programmes.
    assert 'id="search-map-title"' in body
    assert "Portugal: 2 programmes" in body


def test_member_sees_and_counts_members_only_programmes(
    client: PortalClient, db_session: Session
) -> None:
    seed(db_session)
    signed_in(client, db_session)
    body = client.get("/search").text
    assert "Hidden Safe Circle" in body
    assert "Members only" in body
    assert facet_count(body, "countries", "PT") == 3
    assert facet_count(body, "countries", "FR") == 1
    assert "3 results" in text_of(body)


def test_text_and_facets_filter_and_highlight(client: PortalClient, db_session: Session) -> None:
    seed(db_session)
    body = client.get("/search", params={"q": "schools"}).text
    assert "<mark>Schools</mark>" in body
    assert "Safe Families at Home" not in body
    assert "1 result" in text_of(body)

    body = client.get("/search", params=[("countries", "DE")]).text
    assert "Safe Families at Home" in body
    assert "Safe Schools Everywhere" not in body
    assert is_checked(body, "countries", "DE")
    # A field's counts ignore its own filter, so the other countries show what they add.
    assert facet_count(body, "countries", "PT") == 2
    # The active filter is a link that removes it, and "Clear all" drops every filter.
    assert re.search(r'<a class="chip" href="/search">\s*<span class="chip__label">Country:', body)
    assert "Clear all" in body


def test_chosen_code_without_results_stays_visible_to_be_removed(
    client: PortalClient, db_session: Session
) -> None:
    seed(db_session)
    body = client.get("/search", params=[("countries", "FR"), ("q", "families")]).text
    assert "Nothing matches this search." in body
    assert is_checked(body, "countries", "FR")
    assert facet_count(body, "countries", "FR") == 0


def test_htmx_request_gets_the_results_fragment_and_the_canonical_url(
    client: PortalClient, db_session: Session
) -> None:
    seed(db_session)
    response = client.get(
        "/search?q=safe&countries=PT&type=programme&sort=relevance",
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.text
    assert "<html" not in body
    assert "<h1" not in body
    assert 'id="search-form"' not in body
    assert "<mark>Safe</mark> Schools Everywhere" in body
    assert 'hx-swap-oob="innerHTML"' in body
    assert response.headers["HX-Push-Url"] == "/search?q=safe&countries=PT"
    assert "HX-Request" in response.headers["Vary"]
    # A history restore gets the whole page.
    restored = client.get(
        "/search?q=safe",
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<h1" in restored.text


def test_a_query_over_500_characters_is_cut_with_a_notice(
    client: PortalClient, db_session: Session
) -> None:
    seed(db_session)
    body = client.get("/search", params={"q": "safe " * 150}).text
    assert "Your search was shortened to 500 characters." in body
    short = client.get("/search", params={"q": "safe"}).text
    assert "Your search was shortened" not in short


def test_a_page_beyond_the_last_is_empty_with_a_link_back(
    client: PortalClient, db_session: Session
) -> None:
    seed(db_session)
    response = client.get("/search", params={"q": "safe", "page": "7"})
    assert response.status_code == 200
    assert "No results on this page." in response.text
    assert 'href="/search?q=safe">Go to the first page' in response.text


def test_pages_and_per_page_cap_keep_the_query(client: PortalClient, db_session: Session) -> None:
    author = factories.member()
    for number in range(5):
        factories.programme(author, title=f"Programme number {number}", countries=["PT"])
    db_session.commit()
    body = client.get("/search", params=[("countries", "PT"), ("per_page", "2")]).text
    assert "Showing 1\u20132 of 5" in body
    assert 'href="/search?countries=PT&amp;page=2&amp;per_page=2" rel="next"' in body
    body = client.get(
        "/search", params=[("countries", "PT"), ("per_page", "2"), ("page", "3")]
    ).text
    assert "Showing 5\u20135 of 5" in body
    assert 'rel="prev"' in body
    assert 'rel="next"' not in body
    # per_page is capped at 100: a huge value is not an error.
    response = client.get("/search", params={"per_page": "100000"})
    assert response.status_code == 200
    assert 'name="per_page" value="100"' in response.text


def test_kind_tabs_depend_on_the_viewer(client: PortalClient, db_session: Session) -> None:
    seed(db_session)
    factories.organisation(name="Zebra Prevention Org", country="PT")
    db_session.commit()
    anonymous = client.get("/search", params={"q": "safe"}).text
    assert 'href="/search?q=safe&amp;type=evaluation"' in anonymous
    assert "type=member" not in anonymous
    assert "type=organisation" not in anonymous
    # Anonymous visitors asking for members fall back to programmes (no error, no members).
    fallback = client.get("/search", params={"type": "member", "q": "safe", "member_type": "x"})
    assert fallback.status_code == 200
    assert "<mark>Safe</mark> Schools Everywhere" in fallback.text
    assert 'name="type" value="programme"' in fallback.text

    signed_in(client, db_session)
    member_view = client.get("/search", params={"q": "safe"}).text
    assert 'href="/search?q=safe&amp;type=member"' in member_view
    members = client.get("/search", params={"type": "member"}).text
    assert "<legend>Member type</legend>" in members
    assert facet_count(members, "member_type", "practitioner") is not None
    assert 'href="/directory/' in members
    organisations = client.get("/search", params={"type": "organisation", "q": "zebra"}).text
    assert "Zebra Prevention Org" in text_of(organisations)
    assert "/directory?organisation=" in organisations


def test_tabs_keep_the_text_but_drop_kind_specific_filters(
    client: PortalClient, db_session: Session
) -> None:
    seed(db_session)
    body = client.get(
        "/search", params=[("q", "safe"), ("countries", "PT"), ("rating", "not_rated")]
    ).text
    tab = re.search(r'href="(/search\?[^"]*type=evaluation[^"]*)"', body)
    assert tab is not None
    query = parse_qs(urlsplit(html.unescape(tab.group(1))).query)
    assert query == {"q": ["safe"], "type": ["evaluation"]}
    # Facet links and the form keep the whole query.
    assert 'value="safe"' in body
    assert is_checked(body, "countries", "PT")
    assert is_checked(body, "rating", "not_rated")


def test_evaluations_tab_lists_evaluations_with_their_facets(
    client: PortalClient, db_session: Session
) -> None:
    from tests.evidence.test_routes import publish

    programme = factories.programme(title="Safe Families at Home")
    evaluation = publish(programme, title="A trial of safe families", year=2021)
    db_session.commit()
    body = client.get("/search", params={"type": "evaluation", "q": "trial"}).text
    assert f'href="/evaluations/{evaluation.id}"' in body
    assert "<legend>Year</legend>" in body
    assert "<legend>Study design</legend>" in body
    assert facet_count(body, "year", "2021") == 1
    assert 'id="search-map-title"' not in body


def test_the_page_reads_the_database_a_few_times_only(
    client: PortalClient, db_session: Session
) -> None:
    seed(db_session)
    client.get("/search")  # the facet engine loads its snapshot once per process
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = db_session.get_bind().engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        for params in ({"q": "safe", "countries": "PT"}, {"type": "evaluation"}):
            statements.clear()
            assert client.get("/search", params=params).status_code == 200
            # The change counter, the text match (two statements on PostgreSQL), the
            # records, their terms, the vocabulary terms for the labels.
            assert len(statements) <= 6, statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_current_search_can_be_downloaded_and_saved(
    client: PortalClient, db_session: Session
) -> None:
    seed(db_session)
    anonymous = client.get("/search?q=safe&countries=PT").text
    assert 'href="/search/export.csv?q=safe&amp;countries=PT"' in anonymous
    assert 'href="/search/export.json?q=safe&amp;countries=PT"' in anonymous
    assert "Sign in to save this search" in anonymous
    assert 'action="/search/saved"' not in anonymous

    signed_in(client, db_session)
    page = client.get("/search?q=safe&countries=PT").text
    assert 'action="/search/saved"' in page
    assert 'name="query" value="q=safe&amp;countries=PT"' in page
    # An htmx update refreshes the actions with the new query, out of band.
    fragment = client.get("/search?q=safer", headers={"HX-Request": "true"}).text
    assert 'id="search-actions"' in fragment
    assert 'hx-swap-oob="true"' in fragment
    assert 'name="query" value="q=safer"' in fragment
