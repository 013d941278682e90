"""The history of a programme: its versions, what changed, and each version's content."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from app.members.models import Member
from app.programmes import service
from app.programmes.models import Programme
from tests import factories
from tests.conftest import PortalClient


def sign_in(client: PortalClient, session: Session, member: Member) -> Member:
    client.sign_in_as(session, member)
    session.commit()
    return member


def main_text(html: str) -> str:
    return html[html.index("<main") : html.index("</main>")]


def version_headings(html: str) -> list[tuple[str, str]]:
    """(heading, state badge) of each version, in the order shown."""
    found: list[tuple[str, str]] = re.findall(
        r'/versions/\d+">(Version \d+)</a>\s*<span class="badge[^"]*">([^<]+)<', html
    )
    return found


def plain(html: str) -> str:
    """The page without the labels only screen readers hear."""
    return re.sub(r'<span class="visually-hidden">[^<]*</span>', "", html)


def edit(session: Session, actor: Member, programme: Programme, **changes: Any) -> None:
    base = service.editable_base(session, programme)
    service.save(session, actor, programme, {**base.data, **changes}, service.version_token(base))


def republish(
    session: Session, author: Member, reviewer: Member, programme: Programme, **changes: Any
) -> None:
    edit(session, author, programme, **changes)
    service.submit(session, author, programme)
    service.review(session, reviewer, programme, "approve", "")


def two_versions(session: Session) -> tuple[Programme, Member, Member]:
    author = factories.member(full_name="Sofia Submitter")
    reviewer = factories.coordinator(network=True, full_name="Rita Reviewer")
    programme = factories.programme(
        creator=author,
        reviewer=reviewer,
        title="Safe Families",
        summary="Evening sessions for parents about safety.",
    )
    republish(
        session,
        author,
        reviewer,
        programme,
        title="Safe Families Plus",
        summary="Weekend sessions for parents and carers about safety.",
        countries=["DE", "PT", "FR"],
    )
    return programme, author, reviewer


def test_history_lists_published_versions_newest_first_with_who_and_what_changed(
    client: PortalClient, db_session: Session
) -> None:
    programme, _author, _reviewer = two_versions(db_session)
    db_session.commit()

    response = client.get(f"/programmes/{programme.id}/history")

    assert response.status_code == 200
    page = plain(main_text(response.text))
    assert version_headings(page) == [
        ("Version 2", "Current version"),
        ("Version 1", "Published earlier"),
    ]
    assert page.count("Submitted by Sofia Submitter.") == 2
    assert page.count("Approved by Rita Reviewer.") == 2
    assert "Changes compared with version 1:" in page
    assert "The first version." in page
    # Short fields: before and after.
    assert re.search(r"<del>Safe Families</del>.*<ins>Safe Families Plus</ins>", page, re.S)
    assert re.search(
        r"<del>Germany, Portugal</del>.*<ins>Germany, Portugal, France</ins>", page, re.S
    )
    # Long texts: word by word, each change named for screen readers.
    assert '<del><span class="visually-hidden">removed: </span>Evening</del>' in (
        main_text(response.text)
    )
    assert (
        "<del>Evening</del> <ins>Weekend</ins> sessions for parents <ins>and carers</ins> "
        "about safety." in page
    )
    # Fields that did not change are not listed.
    assert "<dt>Target groups</dt>" not in page


def test_each_version_can_be_opened(client: PortalClient, db_session: Session) -> None:
    programme, _author, _reviewer = two_versions(db_session)
    db_session.commit()

    first = client.get(f"/programmes/{programme.id}/versions/1")
    assert first.status_code == 200
    page = main_text(first.text)
    assert '<h1 lang="en">Safe Families</h1>' in page
    assert "Evening sessions for parents about safety." in page
    assert "This is version 1 from" in page
    assert f'<a href="/programmes/{programme.id}">See the current version</a>' in page
    assert "At a glance" in page
    assert "Germany, Portugal<" in page

    current = main_text(client.get(f"/programmes/{programme.id}/versions/2").text)
    assert '<h1 lang="en">Safe Families Plus</h1>' in current
    assert "the current version" in current
    assert "Germany, Portugal, France" in current

    assert client.get(f"/programmes/{programme.id}/versions/3").status_code == 404
    assert client.get(f"/programmes/{programme.id}/versions/0").status_code == 404


def test_unpublished_versions_are_for_maintainers_and_reviewers_only(
    client: PortalClient, db_session: Session
) -> None:
    author = factories.member()
    programme = factories.programme(creator=author, title="Published Title")
    edit(db_session, author, programme, title="Draft Title")
    db_session.commit()

    visitor = main_text(client.get(f"/programmes/{programme.id}/history").text)
    assert version_headings(visitor) == [("Version 1", "Current version")]
    assert "Draft Title" not in visitor
    assert client.get(f"/programmes/{programme.id}/versions/2").status_code == 404

    sign_in(client, db_session, factories.member())
    assert client.get(f"/programmes/{programme.id}/versions/2").status_code == 404

    sign_in(client, db_session, author)
    maintainer = main_text(client.get(f"/programmes/{programme.id}/history").text)
    assert version_headings(maintainer) == [
        ("Version 2", "Draft"),
        ("Version 1", "Current version"),
    ]
    assert "history__entry--unpublished" in maintainer
    assert "<ins>Draft Title</ins>" in plain(maintainer)
    draft = client.get(f"/programmes/{programme.id}/versions/2")
    assert draft.status_code == 200
    assert '<h1 lang="en">Draft Title</h1>' in draft.text


def test_the_history_of_a_hidden_programme_is_hidden_too(
    client: PortalClient, db_session: Session
) -> None:
    members_only = factories.programme(visibility="members")
    draft = factories.programme(state="draft")
    db_session.commit()

    for programme in (members_only, draft):
        assert client.get(f"/programmes/{programme.id}/history").status_code == 404
        assert client.get(f"/programmes/{programme.id}/versions/1").status_code == 404


def test_a_members_only_original_is_not_named_in_the_diff_for_visitors(
    client: PortalClient, db_session: Session
) -> None:
    hidden = factories.programme(title="Hidden Original", visibility="members")
    author = factories.member()
    programme = factories.programme(creator=author, title="Open Programme")
    republish(
        db_session,
        author,
        factories.coordinator(network=True),
        programme,
        adapted_from_id=hidden.id,
    )
    db_session.commit()

    visitor = main_text(client.get(f"/programmes/{programme.id}/history").text)
    assert "<dt>Adapted from</dt>" in visitor
    assert "Hidden Original" not in visitor
    assert "A programme that is not visible to you" in visitor
    assert "Hidden Original" not in client.get(f"/programmes/{programme.id}/versions/2").text

    sign_in(client, db_session, factories.member())
    member_view = main_text(client.get(f"/programmes/{programme.id}/history").text)
    assert "<ins>Hidden Original</ins>" in plain(member_view)


def test_erased_members_appear_as_former_members(client: PortalClient, db_session: Session) -> None:
    author = factories.member(full_name="Gone Person")
    programme = factories.programme(creator=author)
    author.status = "erased"
    db_session.commit()

    page = main_text(client.get(f"/programmes/{programme.id}/history").text)

    assert "Submitted by Former member." in page
    assert "Gone Person" not in page


def test_a_version_published_for_members_stays_hidden_from_visitors(
    client: PortalClient, db_session: Session
) -> None:
    author = factories.member()
    programme = factories.programme(
        creator=author, title="Once Closed", visibility="members", summary="Members text."
    )
    republish(
        db_session,
        author,
        factories.coordinator(network=True),
        programme,
        visibility="public",
        summary="Public text.",
    )
    db_session.commit()

    history = main_text(client.get(f"/programmes/{programme.id}/history").text)
    assert version_headings(history) == [("Version 2", "Current version")]
    assert "Members text." not in history
    assert "The earliest version you can see." in history
    assert client.get(f"/programmes/{programme.id}/versions/1").status_code == 404

    sign_in(client, db_session, factories.member())
    assert client.get(f"/programmes/{programme.id}/versions/1").status_code == 200
    member_history = main_text(client.get(f"/programmes/{programme.id}/history").text)
    assert "<del>Members</del> <ins>Public</ins> text." in plain(member_history)
