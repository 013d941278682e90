"""The catalogue: who finds what, filters, text, sort, pages and the htmx fragment."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app.db import utcnow
from app.members.models import Member
from app.programmes import service
from app.programmes.models import Programme
from app.vocabularies import service as vocabularies
from tests import factories
from tests.conftest import PortalClient
from tests.programmes.test_detail import counting_queries


def titles(html: str) -> list[str]:
    """The titles of the programme cards, in order."""
    return re.findall(r'<h3 lang="[a-z]+"><a href="/programmes/\d+">([^<]+)</a></h3>', html)


def count_text(html: str) -> str:
    match = re.search(
        r'<p class="catalogue__count" id="catalogue-count" role="status">([^<]*)<', html
    )
    assert match, "no result count"
    return match.group(1).strip()


@pytest.fixture
def signed_in(client: PortalClient, db_session: Session) -> Member:
    viewer = factories.member(full_name="Catalogue Reader")
    client.sign_in_as(db_session, viewer)
    db_session.commit()
    return viewer


def published(title: str, **overrides: Any) -> Programme:
    return factories.programme(title=title, **overrides)


# Who finds what


def test_anonymous_visitors_never_see_members_only_programmes_nor_count_them(
    client: PortalClient, db_session: Session
) -> None:
    published("Open Doors")
    published("Closed Circle", visibility="members")
    db_session.commit()

    response = client.get("/programmes")

    assert response.status_code == 200
    assert titles(response.text) == ["Open Doors"]
    assert count_text(response.text) == "1 programme"
    assert "Closed Circle" not in response.text
    # Not through a filter or a text search either.
    for query in ("q=Closed", "target_groups=parents", "countries=DE&languages=de"):
        filtered = client.get(f"/programmes?{query}")
        assert "Closed Circle" not in filtered.text
    assert count_text(client.get("/programmes?q=Closed").text) == (
        "No programme matches these filters."
    )


def test_members_see_members_only_programmes_marked_as_such(
    client: PortalClient, db_session: Session, signed_in: Member
) -> None:
    published("Open Doors")
    published("Closed Circle", visibility="members")
    db_session.commit()

    response = client.get("/programmes?sort=title")

    assert titles(response.text) == ["Closed Circle", "Open Doors"]
    assert count_text(response.text) == "2 programmes"
    card = response.text[response.text.index("Closed Circle") :]
    card = card[: card.index("</li>\n")]
    assert "Members only" in card


def test_drafts_submissions_and_rejected_programmes_are_not_listed(
    client: PortalClient, db_session: Session, signed_in: Member
) -> None:
    published("Listed One")
    factories.programme(title="Still A Draft", state="draft", creator=signed_in)
    factories.programme(title="Waiting Review", state="submitted", creator=signed_in)
    rejected = factories.programme(title="Turned Down", state="submitted")
    service.review(db_session, factories.coordinator(network=True), rejected, "reject", "No.")
    db_session.commit()

    response = client.get("/programmes")

    assert titles(response.text) == ["Listed One"]


def test_archived_programmes_are_hidden_unless_asked_for(
    client: PortalClient, db_session: Session
) -> None:
    published("Still Running")
    old = published("Long Gone")
    service.archive(db_session, factories.coordinator(network=True), old, "Ended in 2020.")
    db_session.commit()

    assert titles(client.get("/programmes").text) == ["Still Running"]
    with_archived = client.get("/programmes?archived=1&sort=title")
    assert titles(with_archived.text) == ["Long Gone", "Still Running"]
    assert "Archived" in with_archived.text
    assert 'id="filter-archived" name="archived" value="1" checked' in with_archived.text


# Filters


FILTER_CASES = [
    ("target_groups", {"target_groups": ["schools"], "target_subgroups": []}, "schools"),
    ("countries", {"countries": ["FR"]}, "FR"),
    ("languages", {"languages": ["fr"]}, "fr"),
    ("prevention_level", {"prevention_level": "tertiary"}, "tertiary"),
    ("settings", {"settings": ["online"]}, "online"),
    ("delivery", {"delivery": ["helpline"]}, "helpline"),
]


@pytest.mark.parametrize(("name", "overrides", "code"), FILTER_CASES)
def test_each_filter_keeps_only_programmes_with_that_code(
    client: PortalClient,
    db_session: Session,
    name: str,
    overrides: dict[str, Any],
    code: str,
) -> None:
    published("Plain Default")
    published("Special Case", **overrides)
    db_session.commit()

    response = client.get(f"/programmes?{name}={code}")

    assert titles(response.text) == ["Special Case"]
    # The box stays ticked and the filter shows as a chip that removes it.
    assert f'name="{name}" value="{code}"\n                     checked' in response.text
    assert 'class="chip" href="/programmes"' in response.text


def test_codes_within_a_field_are_alternatives_and_fields_combine(
    client: PortalClient, db_session: Session
) -> None:
    published("German Parents", countries=["DE"], languages=["de"])
    published("French Parents", countries=["FR"], languages=["fr"])
    published(
        "French Schools",
        countries=["FR"],
        languages=["fr"],
        target_groups=["schools"],
        target_subgroups=[],
    )
    published("Italian Parents", countries=["IT"], languages=["it"])
    db_session.commit()

    either = client.get("/programmes?countries=DE&countries=FR&sort=title")
    assert titles(either.text) == ["French Parents", "French Schools", "German Parents"]

    both = client.get("/programmes?countries=DE&countries=FR&target_groups=parents&sort=title")
    assert titles(both.text) == ["French Parents", "German Parents"]
    assert count_text(both.text) == "2 programmes"

    narrow = client.get("/programmes?countries=FR&languages=fr&target_groups=schools")
    assert titles(narrow.text) == ["French Schools"]


def test_text_search_matches_title_or_summary(client: PortalClient, db_session: Session) -> None:
    published("Stop It Now", summary="A helpline for people worried about their thoughts.")
    published("Safe Families")
    published("Keeping Safe", summary="Classes where pupils learn about body safety.")
    db_session.commit()

    assert titles(client.get("/programmes?q=helpline").text) == ["Stop It Now"]
    assert titles(client.get("/programmes?q=SAFE&sort=title").text) == [
        "Keeping Safe",
        "Safe Families",
    ]
    assert 'value="SAFE"' in client.get("/programmes?q=SAFE").text


def test_removing_a_chip_keeps_the_other_filters(client: PortalClient, db_session: Session) -> None:
    published("Any")
    db_session.commit()

    response = client.get("/programmes?countries=DE&languages=de&q=Any&sort=title")

    chips = re.findall(r'<a class="chip" href="([^"]+)">', response.text)
    assert chips == [
        "/programmes?languages=de&amp;q=Any&amp;sort=title",
        "/programmes?countries=DE&amp;q=Any&amp;sort=title",
        "/programmes?countries=DE&amp;languages=de&amp;sort=title",
    ]


# Sort and pages


def test_sort_orders(client: PortalClient, db_session: Session) -> None:
    now = utcnow()
    bravo = published("Bravo")
    alpha = published("alpha")
    charlie = published("Charlie")
    # Published in the order Bravo, alpha, Charlie; Bravo's content changed last.
    for offset, programme in enumerate((bravo, alpha, charlie)):
        programme.published_at = now - timedelta(days=10 - offset)
        programme.content_updated_at = programme.published_at
    bravo.content_updated_at = now
    db_session.commit()

    assert titles(client.get("/programmes").text) == ["Charlie", "alpha", "Bravo"]
    assert titles(client.get("/programmes?sort=newest").text) == ["Charlie", "alpha", "Bravo"]
    assert titles(client.get("/programmes?sort=title").text) == ["alpha", "Bravo", "Charlie"]
    assert titles(client.get("/programmes?sort=updated").text) == ["Bravo", "Charlie", "alpha"]
    assert '<option value="updated" selected>' in client.get("/programmes?sort=updated").text


def test_pages_keep_the_filters(client: PortalClient, db_session: Session) -> None:
    for number in range(23):
        published(f"Programme {number:02d}")
    published("Other Country", countries=["FR"], languages=["fr"])
    db_session.commit()

    first = client.get("/programmes?countries=DE&sort=title")
    assert len(titles(first.text)) == 20
    assert count_text(first.text) == "23 programmes · showing 1 to 20"
    assert 'href="/programmes?countries=DE&amp;sort=title&amp;page=2"' in first.text

    second = client.get("/programmes?countries=DE&sort=title&page=2")
    assert titles(second.text) == ["Programme 20", "Programme 21", "Programme 22"]
    assert "Other Country" not in second.text


# htmx


def test_htmx_requests_get_the_results_and_the_count_only(
    client: PortalClient, db_session: Session
) -> None:
    published("German Parents")
    published("French Parents", countries=["FR"], languages=["fr"])
    db_session.commit()

    response = client.get("/programmes?countries=FR", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "<html" not in response.text
    assert "<form" not in response.text
    assert titles(response.text) == ["French Parents"]
    assert '<p id="catalogue-count" hx-swap-oob="innerHTML">1 programme</p>' in response.text
    assert "HX-Request" in response.headers["Vary"]

    page = client.get("/programmes?countries=FR")
    assert "<form" in page.text
    assert 'hx-get="/programmes"' in page.text
    assert 'hx-target="#catalogue-results"' in page.text
    assert 'hx-push-url="true"' in page.text
    assert "hx-swap-oob" not in page.text


def test_the_main_navigation_links_to_the_catalogue(client: PortalClient) -> None:
    home = client.get("/")
    assert '<a href="/programmes" >Programmes</a>' in home.text
    catalogue = client.get("/programmes")
    assert '<a href="/programmes" aria-current="page">Programmes</a>' in catalogue.text


def test_a_page_of_the_catalogue_costs_four_queries(
    client: PortalClient, db_session: Session, connection: Connection, signed_in: Member
) -> None:
    for number in range(22):
        published(f"Programme {number:02d}", visibility="members" if number % 2 else "public")
    db_session.expunge_all()
    vocabularies.forget(db_session)

    with counting_queries(connection) as statements:
        response = client.get("/programmes?target_groups=parents&countries=DE&sort=title")

    assert len(titles(response.text)) == 20
    # Sign-in, the page with its total, the terms of its programmes, the vocabularies.
    assert len(statements) <= 4, "\n\n".join(statements)


def test_strongest_evidence_first_and_the_rating_on_each_card(
    client: PortalClient, db_session: Session
) -> None:
    weak = factories.programme(title="Weakly evidenced")
    strong = factories.programme(title="Strongly evidenced")
    unrated = factories.programme(title="Not evaluated")
    weak.rating_level = "pioneering"
    strong.rating_level = "effective"
    db_session.flush()

    html = client.get("/programmes?sort=evidence").text

    assert html.index("Strongly evidenced") < html.index("Weakly evidenced")
    assert html.index("Weakly evidenced") < html.index("Not evaluated")
    assert "Effective" in html
    assert unrated.rating_level == "not_rated"
