"""The daily digest of saved searches."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import utcnow
from app.evidence import ratings
from app.evidence import service as evidence_service
from app.members.models import Member
from app.outbox import service as outbox_service
from app.outbox.models import OutboxMessage
from app.search import alerts
from app.search import saved as saved_searches
from app.search.saved import SavedSearch
from tests import factories
from tests.evidence.test_service import evaluation_content


def digests_to(session: Session, member: Member) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == member.email)
            .order_by(OutboxMessage.id)
        )
    )


def saved_search(session: Session, member: Member, query: str, name: str = "") -> SavedSearch:
    """A saved search last checked a day ago."""
    saved, _created = saved_searches.save(session, member.id, query, name)
    saved.last_checked_at = utcnow() - timedelta(days=1)
    session.flush()
    return saved


def link(path: str) -> str:
    return get_settings().base_url.rstrip("/") + path


def test_a_new_matching_programme_is_sent_once(db_session: Session) -> None:
    searcher = factories.member(full_name="Ana Lima")
    saved = saved_search(db_session, searcher, "q=families", "Family programmes")
    new = factories.programme(title="Strong Families Together")
    other = factories.programme(
        title="Safe Schools Everywhere",
        summary="Lessons for pupils.",
        description="Lessons.",
    )
    db_session.flush()

    report = alerts.send_digests(db_session, utcnow())

    assert (report.checked, report.sent) == (1, 1)
    [message] = digests_to(db_session, searcher)
    assert message.subject == "New in your saved search: Family programmes"
    body = message.body_text
    assert "Hello Ana Lima," in body
    assert "== Family programmes ==" in body
    assert "Strong Families Together" in body
    assert link(f"/programmes/{new.id}") in body
    assert other.title not in body
    assert link(f"/programmes/{other.id}") not in body
    assert link("/search?q=families") in body
    assert saved_searches.unsubscribe_url(saved.id) in body
    assert link("/account/searches") in body
    # The message carries the one-click unsubscribe headers (RFC 8058) to the sender.
    assert message.headers == alerts.digest_headers(searcher.id)
    db_session.refresh(saved)
    assert saved.last_sent_at is not None

    # Running again the same day sends nothing, even with something new.
    factories.programme(title="More Families Work")
    db_session.flush()
    again = alerts.send_digests(db_session, utcnow())
    assert (again.checked, again.sent) == (0, 0)
    assert len(digests_to(db_session, searcher)) == 1


def test_nothing_new_means_no_mail_but_the_search_is_checked(db_session: Session) -> None:
    searcher = factories.member()
    factories.programme(title="Strong Families Together")
    db_session.flush()
    saved, _created = saved_searches.save(db_session, searcher.id, "q=families", "")
    saved.last_checked_at = utcnow() + timedelta(seconds=2)  # after the programme
    db_session.flush()
    now = utcnow() + timedelta(days=1)

    report = alerts.send_digests(db_session, now)

    assert (report.checked, report.sent) == (1, 0)
    assert digests_to(db_session, searcher) == []
    db_session.refresh(saved)
    assert saved.last_checked_at == now
    assert saved.last_sent_at is None


def test_members_only_programmes_reach_the_member(db_session: Session) -> None:
    searcher = factories.member()
    saved_search(db_session, searcher, "q=circle")
    hidden = factories.programme(title="Hidden Safe Circle", visibility="members")
    db_session.flush()

    alerts.send_digests(db_session, utcnow())

    [message] = digests_to(db_session, searcher)
    assert "Hidden Safe Circle" in message.body_text
    assert link(f"/programmes/{hidden.id}") in message.body_text


def test_filters_apply_and_evaluations_are_listed(db_session: Session) -> None:
    searcher = factories.member()
    saved_search(db_session, searcher, "q=families&country=PT&target_group=parents")
    in_portugal = factories.programme(title="Strong Families Portugal", countries=["PT"])
    factories.programme(title="Strong Families France", countries=["FR"], languages=["fr"])
    researcher = factories.member(member_type="researcher")
    evaluation = evidence_service.create(
        db_session,
        researcher,
        evaluation_content(in_portugal, title="Families trial", country="PT"),
    )
    db_session.flush()

    alerts.send_digests(db_session, utcnow())

    [message] = digests_to(db_session, searcher)
    body = message.body_text
    assert "Strong Families Portugal" in body
    assert "Strong Families France" not in body
    assert "Programmes, new or re-rated:" in body
    assert "Evaluations, new:" in body
    assert "Families trial" in body
    assert link(f"/evaluations/{evaluation.id}") in body


def test_a_re_rated_programme_is_included(db_session: Session) -> None:
    searcher = factories.member()
    programme = factories.programme(title="Strong Families Together")
    programme.published_at = utcnow() - timedelta(days=30)
    db_session.flush()
    saved = saved_search(db_session, searcher, "q=families")
    # Nothing is new yet.
    assert not alerts.new_for(db_session, searcher, saved).sections

    ratings.override(
        db_session,
        factories.coordinator(network=True),
        programme.id,
        "promising",
        "Two good studies from the registry.",
    )
    db_session.flush()
    alerts.send_digests(db_session, utcnow())

    [message] = digests_to(db_session, searcher)
    assert "Strong Families Together" in message.body_text


def test_one_mail_per_member_for_several_searches(db_session: Session) -> None:
    searcher = factories.member()
    saved_search(db_session, searcher, "q=families", "Families")
    saved_search(db_session, searcher, "q=schools", "Schools")
    saved_search(db_session, searcher, "q=nothingmatchesthis", "Empty")
    factories.programme(title="Strong Families Together")
    factories.programme(title="Safe Schools Everywhere", summary="For pupils.")
    db_session.flush()

    report = alerts.send_digests(db_session, utcnow())

    assert (report.checked, report.sent) == (3, 1)
    [message] = digests_to(db_session, searcher)
    assert message.subject == "New in 2 of your saved searches"
    assert "== Families ==" in message.body_text
    assert "== Schools ==" in message.body_text
    assert "== Empty ==" not in message.body_text


def test_at_most_twenty_per_search_and_a_link_to_the_rest(db_session: Session) -> None:
    searcher = factories.member()
    saved_search(db_session, searcher, "q=families")
    author = factories.member()
    for number in range(22):
        factories.programme(author, title=f"Families programme {number}")
    db_session.flush()

    alerts.send_digests(db_session, utcnow())

    [message] = digests_to(db_session, searcher)
    assert message.body_text.count("/programmes/") == 20
    assert "and 2 more: " + link("/search?q=families&sort=newest") in message.body_text


def test_lapsed_members_and_alerts_off_get_nothing(db_session: Session) -> None:
    lapsed = factories.member(status="lapsed")
    saved_search(db_session, lapsed, "q=families")
    quiet = factories.member()
    saved_search(db_session, quiet, "q=families").alerts_enabled = False
    factories.programme(title="Strong Families Together")
    db_session.flush()

    report = alerts.send_digests(db_session, utcnow())

    assert (report.checked, report.sent) == (0, 0)
    assert digests_to(db_session, lapsed) == []
    assert digests_to(db_session, quiet) == []


def test_the_digest_is_written_in_the_language_the_member_used(db_session: Session) -> None:
    searcher = factories.member()
    saved = saved_search(db_session, searcher, "q=families")
    saved.language = "de"
    factories.programme(title="Strong Families Together")
    db_session.flush()

    alerts.send_digests(db_session, utcnow())

    [message] = digests_to(db_session, searcher)
    assert message.language == "de"


def test_the_one_click_headers_name_the_member_wide_link(db_session: Session) -> None:
    member = factories.member()
    headers = alerts.digest_headers(member.id)
    url = saved_searches.member_unsubscribe_url(member.id)

    assert headers == {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert url.startswith(link("/search/alerts/unsubscribe/m"))


def test_the_digest_renders_as_html_too(db_session: Session) -> None:
    searcher = factories.member()
    saved_search(db_session, searcher, "q=families")
    factories.programme(title="Families <b>bold</b> & co")
    db_session.flush()

    alerts.send_digests(db_session, utcnow())

    [message] = digests_to(db_session, searcher)
    assert "Families <b>bold</b> & co" in message.body_text
    assert message.body_html == outbox_service.text_to_html(message.body_text)
    assert "&lt;b&gt;" in (message.body_html or "")
