"""The workflow page of a programme, its actions, "my programmes" and the review queue."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.members.models import Member
from app.outbox.models import OutboxMessage
from app.programmes import service
from app.programmes.models import Programme, ProgrammeThreadEntry, ProgrammeVersion
from tests import factories
from tests.conftest import PortalClient
from tests.programmes.test_edit_routes import TOKEN_PATTERN, form_data, post


def as_viewer(client: PortalClient, session: Session, member: Member) -> None:
    client.cookies.clear()
    client.sign_in_as(session, member)
    # Committed (a savepoint): a refused request rolls back only what it did itself.
    session.commit()


def submitted_edit(author: Member, **overrides: Any) -> Programme:
    """A published programme (in DE and PT) with a submitted edit."""
    session = factories._current_session()
    programme = factories.programme(author)
    base = service.editable_base(session, programme)
    service.save(
        session,
        author,
        programme,
        factories.programme_content(**overrides),
        service.version_token(base),
    )
    service.submit(session, author, programme)
    return programme


# --- who sees the workflow page ------------------------------------------------------------


def test_anonymous_and_lapsed_visitors_are_sent_away(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()
    db_session.commit()
    for path in (f"/programmes/{programme.id}/review", "/coordinate/programmes"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/sign-in?" + urlencode({"next": path})
    action = post(client, f"/programmes/{programme.id}/comment", {"body": "Hello"})
    assert action.url.path == "/sign-in"
    as_viewer(client, db_session, factories.member(status="lapsed"))
    response = client.get(f"/programmes/{programme.id}/review", follow_redirects=False)
    assert response.headers["location"] == "/account/membership"


def test_who_may_see_the_workflow_page(client: PortalClient, db_session: Session) -> None:
    author = factories.member()
    published = submitted_edit(author)
    draft = factories.programme(author, state="submitted")
    cases: list[tuple[str, Member, int, int]] = [
        ("member, published", factories.member(), published.id, 403),
        ("member, draft", factories.member(), draft.id, 404),
        ("coordinator elsewhere, published", factories.coordinator(["FR"]), published.id, 403),
        ("coordinator elsewhere, draft", factories.coordinator(["FR"]), draft.id, 404),
        ("maintainer", author, published.id, 200),
        ("coordinator of PT", factories.coordinator(["PT"]), draft.id, 200),
        ("network coordinator", factories.coordinator(network=True), published.id, 200),
    ]
    for label, viewer, programme_id, expected in cases:
        as_viewer(client, db_session, viewer)
        response = client.get(f"/programmes/{programme_id}/review")
        assert response.status_code == expected, label
        for action in ("comment", "archive", "submit", "withdraw", "restore", "review"):
            refused = post(client, f"/programmes/{programme_id}/{action}", {"body": "x"})
            if expected != 200:
                assert refused.status_code == expected, (label, action)


def test_only_reviewers_get_the_decision_form(client: PortalClient, db_session: Session) -> None:
    author = factories.member()
    programme = submitted_edit(author, title="Safe Families, edited")
    as_viewer(client, db_session, author)
    page = client.get(f"/programmes/{programme.id}/review").text
    assert 'id="review-form"' not in page
    assert 'id="comment-form"' in page
    refused = post(client, f"/programmes/{programme.id}/review", {"decision": "approve"})
    assert refused.status_code == 403

    as_viewer(client, db_session, factories.coordinator(["PT"]))
    page = client.get(f"/programmes/{programme.id}/review").text
    assert 'id="review-form"' in page
    # The reviewer sees what the edit changes against the published version.
    assert 'id="changes"' in page


def test_the_page_shows_the_changes_with_word_diffs(
    client: PortalClient, db_session: Session
) -> None:
    author = factories.member()
    programme = submitted_edit(
        author,
        title="Safe Families Plus",
        summary="Evening sessions that help parents talk with their teenagers about safety.",
    )
    as_viewer(client, db_session, author)
    page = client.get(f"/programmes/{programme.id}/review").text
    table = page.split('id="changes"')[1].split("</table>")[0]
    assert "Safe Families Plus" in table
    assert re.search(r"<del>.*children.*</del>", table)
    assert re.search(r"<ins>.*teenagers.*</ins>", table)
    assert "Description" not in table  # unchanged fields are not listed


# --- the workflow through HTTP -------------------------------------------------------------


def test_the_whole_workflow_through_the_pages(client: PortalClient, db_session: Session) -> None:
    author = factories.member(email="author@example.org")
    reviewer = factories.coordinator(["PT"])
    as_viewer(client, db_session, author)

    created = post(client, "/programmes/new", form_data(title="Talking Families"))
    assert created.status_code == 200
    programme = db_session.scalars(select(Programme)).one()
    assert created.url.path == f"/programmes/{programme.id}/review"
    assert 'id="submit-form"' in created.text

    submitted = post(
        client, f"/programmes/{programme.id}/submit", {"submit_comment": "Ready for a look."}
    )
    assert "Submitted: the coordinators have been told." in submitted.text
    assert "Ready for a look." in submitted.text
    db_session.refresh(programme)
    assert programme.status == "submitted"

    as_viewer(client, db_session, reviewer)
    queue = client.get("/coordinate/programmes").text
    assert "Talking Families" in queue
    asked = post(
        client,
        f"/programmes/{programme.id}/review",
        {"decision": "request_changes", "comment": "Please add the age range of the children."},
    )
    assert asked.status_code == 200
    assert "Changes requested: the maintainers have been told." in asked.text
    mail = db_session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient == "author@example.org")
    ).one()
    assert "Changes requested" in mail.subject
    assert "Please add the age range of the children." in mail.body_text
    assert "Talking Families" not in client.get("/coordinate/programmes").text
    # It is the maintainers' turn now: the reviewer is not offered to submit it again.
    assert 'id="submit-form"' not in asked.text

    as_viewer(client, db_session, author)
    page = client.get(f"/programmes/{programme.id}/review").text
    assert "Please add the age range of the children." in page
    assert 'id="submit-form"' in page
    edit = client.get(f"/programmes/{programme.id}/edit").text
    token = TOKEN_PATTERN.search(edit)
    assert token is not None
    saved = post(
        client,
        f"/programmes/{programme.id}/edit",
        {**form_data(title="Talking Families", age_min="4", age_max="12"), "token": token[1]},
    )
    assert saved.status_code == 200
    resubmitted = post(client, f"/programmes/{programme.id}/submit", {})
    assert "Submitted" in resubmitted.text

    as_viewer(client, db_session, reviewer)
    page = client.get(f"/programmes/{programme.id}/review").text
    assert "Changes since version 1, which was sent back" in page
    changes = page.split('id="changes"')[1].split("</table>")[0]
    assert re.search(
        r"Youngest participants \(age\)</th>\s*<td[^>]*>25</td>\s*<td[^>]*>4</td>", changes
    )
    approved = post(client, f"/programmes/{programme.id}/review", {"decision": "approve"})
    # The version sent back is kept as the coordinator saw it; the edit is version 2.
    assert "Approved: version 2 is published." in approved.text
    db_session.refresh(programme)
    assert programme.status == "published"
    assert programme.age_min == 4
    kinds = db_session.scalars(
        select(ProgrammeThreadEntry.kind)
        .where(ProgrammeThreadEntry.programme_id == programme.id)
        .order_by(ProgrammeThreadEntry.id)
    ).all()
    assert kinds == ["submit", "request_changes", "submit", "approve"]
    assert client.get(f"/programmes/{programme.id}").status_code == 200


def test_a_decision_without_a_comment_comes_back_at_the_field(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme(state="submitted")
    as_viewer(client, db_session, factories.coordinator(network=True))
    response = post(client, f"/programmes/{programme.id}/review", {"decision": "reject"})
    assert response.status_code == 422
    assert re.search(r'id="comment-error">Tell the maintainers', response.text)
    assert re.search(r'id="comment"[^>]*aria-invalid="true"', response.text)
    assert re.search(r'id="decision-reject" name="decision" value="reject" checked', response.text)
    none = post(client, f"/programmes/{programme.id}/review", {"comment": "Hmm"})
    assert none.status_code == 422
    assert 'id="decision-error">Choose a decision.' in none.text
    assert ">Hmm</textarea>" in none.text
    db_session.refresh(programme)
    assert programme.status == "submitted"


def test_a_step_that_is_not_possible_now_says_why(
    client: PortalClient, db_session: Session
) -> None:
    author = factories.member()
    programme = factories.programme(author)
    as_viewer(client, db_session, factories.coordinator(["DE"]))
    response = post(
        client, f"/programmes/{programme.id}/review", {"decision": "approve", "comment": "Fine"}
    )
    assert response.status_code == 409
    assert "Nothing is waiting for review on this programme." in response.text
    assert 'id="problem"' in response.text

    as_viewer(client, db_session, author)
    for action, message in (
        ("submit", "There is no draft to submit."),
        ("withdraw", "There is no edit in progress to discard."),
        ("restore", "This programme is not archived."),
    ):
        refused = post(client, f"/programmes/{programme.id}/{action}", {})
        assert refused.status_code == 409, action
        assert message in refused.text


def test_comments_join_the_thread(client: PortalClient, db_session: Session) -> None:
    author = factories.member(full_name="Ana Author")
    programme = factories.programme(author, state="submitted")
    as_viewer(client, db_session, author)
    empty = post(client, f"/programmes/{programme.id}/comment", {"body": "   "})
    assert empty.status_code == 422
    assert 'id="body-error">Write a message.' in empty.text
    added = post(client, f"/programmes/{programme.id}/comment", {"body": "Added a manual."})
    assert "Your comment is added." in added.text
    thread = added.text.split('id="thread"')[1].split("</ol>")[0]
    assert "Added a manual." in thread
    assert "by Ana Author" in thread

    # An erased author is shown as a former member.
    db_session.execute(update(Member).where(Member.id == author.id).values(status="erased"))
    as_viewer(client, db_session, factories.coordinator(["PT"]))
    thread = client.get(f"/programmes/{programme.id}/review").text.split('id="thread"')[1]
    assert "by Former member" in thread
    assert "Ana Author" not in thread


def test_discarding_an_edit_keeps_the_published_version(
    client: PortalClient, db_session: Session
) -> None:
    author = factories.member()
    programme = submitted_edit(author, title="Changed Title")
    as_viewer(client, db_session, author)
    page = client.get(f"/programmes/{programme.id}/review").text
    assert 'id="withdraw-form"' in page
    response = post(client, f"/programmes/{programme.id}/withdraw", {})
    assert "The edit is discarded" in response.text
    assert service.working_version(db_session, programme.id) is None
    db_session.refresh(programme)
    assert programme.title == "Safe Families"
    assert 'id="withdraw-form"' not in response.text


def test_archive_needs_a_reason_and_can_be_undone(
    client: PortalClient, db_session: Session
) -> None:
    author = factories.member()
    programme = factories.programme(author)
    as_viewer(client, db_session, author)
    refused = post(client, f"/programmes/{programme.id}/archive", {"reason": ""})
    assert refused.status_code == 422
    assert 'id="reason-error">Say why the programme is archived.' in refused.text
    archived = post(client, f"/programmes/{programme.id}/archive", {"reason": "No longer runs."})
    assert "The programme is archived." in archived.text
    assert "No longer runs." in archived.text
    assert 'id="restore-form"' in archived.text
    db_session.refresh(programme)
    assert programme.is_archived
    restored = post(client, f"/programmes/{programme.id}/restore", {})
    assert "The programme is restored." in restored.text
    db_session.refresh(programme)
    assert not programme.is_archived


# --- my programmes and the queue -----------------------------------------------------------


def test_my_programmes_lists_what_i_maintain(client: PortalClient, db_session: Session) -> None:
    author = factories.member()
    factories.programme(author, state="draft", title="My Draft")
    submitted_edit(author, title="My Edit Title")
    factories.programme(title="Somebody Else's")
    as_viewer(client, db_session, author)
    page = client.get("/programmes/mine")
    assert page.status_code == 200
    table = page.text.split('id="my-programmes"')[1].split("</table>")[0]
    assert "My Draft" in table
    assert "Draft" in table
    assert "Safe Families" in table  # the published title, while the edit is reviewed
    assert "Waiting for review" in table
    assert "Somebody Else" not in table

    as_viewer(client, db_session, factories.member())
    assert 'id="no-programmes"' in client.get("/programmes/mine").text


def _queue_titles(client: PortalClient) -> list[str]:
    page = client.get("/coordinate/programmes")
    assert page.status_code == 200
    if 'id="queue"' not in page.text:
        return []
    table = page.text.split('id="queue"')[1].split("</table>")[0]
    return re.findall(r'/review">([^<]+)</a>', table)


def test_the_review_queue_lists_submissions_of_my_countries_oldest_first(
    client: PortalClient, db_session: Session
) -> None:
    author = factories.member(full_name="Sam Submitter")
    german = factories.programme(author, state="submitted", title="German One", countries=["DE"])
    portuguese = factories.programme(
        author, state="submitted", title="Portuguese One", countries=["PT"]
    )
    edit = submitted_edit(author, title="Edited Both")
    factories.programme(state="draft", title="Never Submitted", countries=["PT"])
    # The German one was submitted first.
    db_session.execute(
        update(ProgrammeVersion)
        .where(ProgrammeVersion.programme_id == german.id)
        .values(submitted_at=utcnow() - timedelta(days=3))
    )
    del portuguese, edit

    as_viewer(client, db_session, factories.coordinator(["PT"]))
    assert _queue_titles(client) == ["Portuguese One", "Edited Both"]
    page = client.get("/coordinate/programmes").text
    assert "Sam Submitter" in page
    assert "edit of a published programme" in page
    assert "new programme" in page
    assert "Portugal" in page

    as_viewer(client, db_session, factories.coordinator(network=True))
    assert _queue_titles(client) == ["German One", "Portuguese One", "Edited Both"]

    as_viewer(client, db_session, factories.coordinator(["FR"]))
    assert _queue_titles(client) == []


@pytest.mark.parametrize(
    ("kind", "status", "location"),
    [
        ("member", 403, None),
        ("coordinator without two factors", 303, "/account/security/two-factor"),
    ],
)
def test_the_queue_is_for_coordinators(
    client: PortalClient, db_session: Session, kind: str, status: int, location: str | None
) -> None:
    viewer = (
        factories.member()
        if kind == "member"
        else factories.member(role="coordinator", totp_enabled_at=None)
    )
    as_viewer(client, db_session, viewer)
    response: httpx.Response = client.get("/coordinate/programmes", follow_redirects=False)
    assert response.status_code == status
    if location:
        assert response.headers["location"] == location


def test_the_dashboard_links_to_the_queue(client: PortalClient, db_session: Session) -> None:
    as_viewer(client, db_session, factories.coordinator(["PT"]))
    assert 'href="/coordinate/programmes"' in client.get("/coordinate").text
