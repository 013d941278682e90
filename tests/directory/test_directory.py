"""The member directory: who may use it, search and filters, and what each viewer sees."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from app.members.models import Member, MemberExpertise, MemberLanguage
from tests.conftest import PortalClient
from tests.factories import coordinator, member, organisation


def result_names(html: str) -> list[str]:
    """The names listed in the directory's results, in order."""
    return re.findall(r'<h3><a href="/directory/\d+">([^<]+)</a></h3>', html)


@contextmanager
def counting_queries(connection: Connection) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    event.listen(connection, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", before)


@pytest.fixture
def viewer(client: PortalClient, db_session: Session) -> Member:
    signed_in = member(full_name="Viewing Member", country="DE")
    client.sign_in_as(db_session, signed_in)
    # An error answer rolls its request back; committing keeps the setup in place.
    db_session.commit()
    return signed_in


# Who may use it


def test_anonymous_visitors_are_sent_to_sign_in(client: PortalClient) -> None:
    for path in ("/directory", "/directory/1"):
        response = client.get(path, follow_redirects=False)

        assert response.status_code == 303
        assert response.headers["location"] == "/sign-in?" + urlencode({"next": path})


def test_lapsed_members_are_sent_to_the_renewal_page(
    client: PortalClient, db_session: Session
) -> None:
    lapsed = member(status="lapsed", membership_expires_on=date.today() - timedelta(days=1))
    client.sign_in_as(db_session, lapsed)
    db_session.commit()

    for path in ("/directory", f"/directory/{lapsed.id}"):
        response = client.get(path, follow_redirects=False)

        assert response.status_code == 303
        assert response.headers["location"] == "/account/membership"


def test_only_active_members_are_listed(client: PortalClient, viewer: Member) -> None:
    member(full_name="Active Anna")
    member(full_name="Lapsed Lars", status="lapsed")
    member(full_name="Suspended Sara", status="suspended")
    member(full_name="Former Fritz", status="erased")

    names = result_names(client.get("/directory").text)

    assert "Active Anna" in names
    assert "Viewing Member" in names
    assert not {"Lapsed Lars", "Suspended Sara", "Former Fritz"} & set(names)


# Search and filters


def test_search_by_name_ignores_case_and_matches_parts(
    client: PortalClient, viewer: Member
) -> None:
    member(full_name="Hélène Moreau")
    member(full_name="Bram Visser")

    assert result_names(client.get("/directory?q=MOREAU").text) == ["Hélène Moreau"]
    assert result_names(client.get("/directory?q=hél").text) == ["Hélène Moreau"]
    assert result_names(client.get("/directory?q=vis").text) == ["Bram Visser"]
    # LIKE wildcards typed by the member are plain characters.
    assert result_names(client.get("/directory?q=%25").text) == []
    assert "No member matches this search." in client.get("/directory?q=nobody").text


def test_each_filter_narrows_the_results(
    client: PortalClient, db_session: Session, viewer: Member
) -> None:
    helpline = organisation(name="Helpline Org")
    pt_researcher = member(
        full_name="Rita Researcher",
        country="PT",
        member_type="researcher",
        organisations=[helpline],
        expertise=[MemberExpertise(area="helplines")],
        languages=[MemberLanguage(language="pt")],
    )
    member(full_name="Paul Practitioner", country="FR", member_type="practitioner")
    db_session.flush()

    for query in (
        "country=PT",
        "member_type=researcher",
        f"organisation={helpline.id}",
        "expertise=helplines",
        "language=pt",
        "q=rita&country=PT&language=pt",
    ):
        assert result_names(client.get(f"/directory?{query}").text) == [pt_researcher.full_name], (
            query
        )
    assert result_names(client.get("/directory?country=PT&member_type=practitioner").text) == []


def test_unknown_filter_values_are_ignored(client: PortalClient, viewer: Member) -> None:
    member(full_name="Someone Else")

    names = result_names(client.get("/directory?country=XX&expertise=nonsense&page=abc").text)

    assert "Someone Else" in names


def test_results_are_paginated(client: PortalClient, viewer: Member) -> None:
    for number in range(24):
        member(full_name=f"Paged Person {number:02d}")

    first = client.get("/directory?q=paged").text
    second = client.get("/directory?q=paged&page=2").text
    beyond = client.get("/directory?q=paged&page=9").text

    assert len(result_names(first)) == 20
    assert result_names(second) == [f"Paged Person {number:02d}" for number in range(20, 24)]
    assert "24 members found" in first
    assert 'href="/directory?q=paged&amp;page=2"' in first
    assert result_names(beyond) == []
    assert "24 members found" in beyond


def test_htmx_gets_only_the_results_block(client: PortalClient, viewer: Member) -> None:
    member(full_name="Fragment Fiona")

    response = client.get("/directory?q=fiona", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "HX-Request" in response.headers["vary"]
    assert "<html" not in response.text
    assert "<form" not in response.text
    assert result_names(response.text) == ["Fragment Fiona"]


def test_the_search_form_works_without_javascript_and_with_htmx(
    client: PortalClient, viewer: Member
) -> None:
    html = client.get("/directory").text
    form = re.search(r"<form[^>]*directory-search[^>]*>", html, re.S)

    assert form is not None
    tag = form.group(0)
    assert 'method="get"' in tag
    assert 'action="/directory"' in tag
    assert 'hx-get="/directory"' in tag
    assert 'hx-trigger="input changed delay:300ms, change, submit"' in tag
    assert 'hx-target="#directory-results"' in tag
    assert 'hx-push-url="true"' in tag
    assert '<button type="submit"' in html
    assert 'id="directory-results"' in html


def test_the_page_needs_few_queries_however_many_results(
    client: PortalClient, connection: Connection, viewer: Member
) -> None:
    organisations = [organisation(name=f"Org {number}") for number in range(3)]
    for number in range(15):
        member(
            full_name=f"Counted {number}",
            organisations=organisations[: number % 3 + 1],
            expertise=[MemberExpertise(area="policy")],
        )

    with counting_queries(connection) as statements:
        response = client.get("/directory?q=counted")

    assert len(result_names(response.text)) == 15
    # Session, the page with its count, organisations, expertise, the organisation filter.
    assert len(statements) <= 5, statements


# What a field hidden from members means


@pytest.fixture
def private_member() -> Member:
    """A member in Portugal who shows country and expertise to coordinators only."""
    return member(
        full_name="Private Paula",
        country="PT",
        member_type="researcher",
        bio="Works on helplines.",
        profile_visibility={"country": "coordinators", "expertise": "coordinators"},
        expertise=[MemberExpertise(area="helplines")],
    )


def test_a_filter_never_matches_a_field_hidden_from_members(
    client: PortalClient, viewer: Member, private_member: Member
) -> None:
    visible = member(
        full_name="Open Olga", country="PT", expertise=[MemberExpertise(area="helplines")]
    )

    by_country = result_names(client.get("/directory?country=PT").text)
    by_expertise = result_names(client.get("/directory?expertise=helplines").text)
    by_type = result_names(client.get("/directory?member_type=researcher").text)

    assert by_country == [visible.full_name]
    assert by_expertise == [visible.full_name]
    # Member type is shown to members, so that filter does match.
    assert by_type == ["Private Paula"]


def test_a_hidden_field_is_not_shown_in_the_results(
    client: PortalClient, viewer: Member, private_member: Member
) -> None:
    html = client.get("/directory?q=paula").text

    assert result_names(html) == ["Private Paula"]
    assert "Portugal" not in html.split('id="directory-results"')[1]
    assert "Helplines and anonymous support" not in html.split('id="directory-results"')[1]


def test_coordinators_find_and_see_hidden_fields(
    client: PortalClient, db_session: Session, private_member: Member
) -> None:
    client.sign_in_as(db_session, coordinator(["DE"]))

    assert result_names(client.get("/directory?country=PT").text) == ["Private Paula"]
    assert result_names(client.get("/directory?expertise=helplines").text) == ["Private Paula"]
    profile = client.get(f"/directory/{private_member.id}").text
    assert "Portugal" in profile
    assert "Helplines and anonymous support" in profile
    assert "Only coordinators see this" in profile


def test_members_find_their_own_hidden_fields(client: PortalClient, db_session: Session) -> None:
    own = member(
        full_name="Self Seeing", country="PT", profile_visibility={"country": "coordinators"}
    )
    client.sign_in_as(db_session, own)

    assert result_names(client.get("/directory?country=PT").text) == ["Self Seeing"]
    profile = client.get(f"/directory/{own.id}").text
    assert "Portugal" in profile
    assert "Only coordinators see this" in profile


# The profile page


def test_the_profile_page_hides_what_the_member_hides_from_members(
    client: PortalClient, viewer: Member, private_member: Member
) -> None:
    response = client.get(f"/directory/{private_member.id}")
    html = response.text

    assert response.status_code == 200
    assert "<h1>Private Paula</h1>" in html
    assert "Researcher" in html
    assert "Works on helplines." in html
    assert "Portugal" not in html.split("<h1>")[1]
    assert "Helplines and anonymous support" not in html


def test_the_profile_page_shows_labels_of_organisations_expertise_and_languages(
    client: PortalClient, viewer: Member
) -> None:
    org = organisation(name="Demo Helpline Org", country="NL")
    shown = member(
        full_name="Labelled Lena",
        country="NL",
        organisations=[org],
        expertise=[MemberExpertise(area="online_safety")],
        languages=[MemberLanguage(language="nl"), MemberLanguage(language="en")],
    )

    html = client.get(f"/directory/{shown.id}").text

    assert "Demo Helpline Org (Netherlands)" in html
    assert "Online safety" in html
    assert "Dutch" in html
    assert "English" in html


def test_email_addresses_are_never_shown_to_members(
    client: PortalClient, viewer: Member, private_member: Member
) -> None:
    listing = client.get("/directory").text
    profile = client.get(f"/directory/{private_member.id}").text

    assert private_member.email not in listing
    assert private_member.email not in profile
    assert "@" not in profile.split("<h1>")[1].split("</dl>")[0]


def test_coordinators_see_email_addresses(
    client: PortalClient, db_session: Session, private_member: Member
) -> None:
    client.sign_in_as(db_session, coordinator(network=True))

    assert private_member.email in client.get(f"/directory/{private_member.id}").text


@pytest.mark.parametrize("status", ["suspended", "erased"])
def test_suspended_and_erased_members_are_not_found_by_members(
    client: PortalClient, db_session: Session, viewer: Member, status: str
) -> None:
    hidden = member(status=status)
    db_session.commit()

    assert client.get(f"/directory/{hidden.id}").status_code == 404
    assert client.get("/directory/999999").status_code == 404


def test_coordinators_see_an_erased_member_as_former_member(
    client: PortalClient, db_session: Session
) -> None:
    erased = member(status="erased", full_name="Former member", email="erased-1@erased.invalid")
    client.sign_in_as(db_session, coordinator(network=True))

    html = client.get(f"/directory/{erased.id}").text

    assert "<h1>Former member</h1>" in html
    assert "erased-1@erased.invalid" not in html


def test_lapsed_members_keep_a_profile_page(client: PortalClient, viewer: Member) -> None:
    lapsed = member(full_name="Lapsed Linda", status="lapsed")

    response = client.get(f"/directory/{lapsed.id}")

    assert response.status_code == 200
    assert "Lapsed Linda" in response.text
