"""Saved searches: saving from the search page, the list, alerts on and off, deleting,
and the one-click unsubscribe link."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.members.models import Member
from app.search import saved as saved_searches
from app.search.saved import SavedSearch
from app.web import templates
from tests import factories
from tests.conftest import PortalClient


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def signed_in(client: PortalClient, session: Session, **overrides: object) -> Member:
    member = factories.member(**overrides)
    client.sign_in_as(session, member)
    session.commit()
    return member


def searches_of(session: Session, member: Member) -> list[SavedSearch]:
    return list(
        session.scalars(
            select(SavedSearch).where(SavedSearch.member_id == member.id).order_by(SavedSearch.id)
        )
    )


def test_a_member_saves_the_current_search_and_goes_back_to_it(
    client: PortalClient, db_session: Session
) -> None:
    member = signed_in(client, db_session)

    response = client.post_form(
        "/search/saved",
        {"query": "q=parents+sessions&country=PT&countries=DE&page=3", "name": "  My   search "},
        follow_redirects=False,
    )

    assert response.status_code == 303
    [saved] = searches_of(db_session, member)
    # Normalised: aliases folded, page dropped, a stable order.
    assert saved.query == "q=parents+sessions&countries=PT&countries=DE"
    assert saved.name == "My search"
    assert saved.alerts_enabled
    assert response.headers["location"] == "/search?q=parents+sessions&countries=PT&countries=DE"
    # The flash appears on the next page.
    page = client.get("/account/searches")
    assert "Search saved as “My search”" in text_of(page.text)


def test_the_name_defaults_to_the_query_text_or_saved_search(
    client: PortalClient, db_session: Session
) -> None:
    member = signed_in(client, db_session)
    client.post_form("/search/saved", {"query": "q=bullying", "name": ""})
    client.post_form("/search/saved", {"query": "type=evaluation&design=rct", "name": ""})

    names = [saved.name for saved in searches_of(db_session, member)]

    assert names == ["bullying", "Saved search"]


def test_saving_the_same_search_twice_keeps_one(client: PortalClient, db_session: Session) -> None:
    member = signed_in(client, db_session)
    client.post_form("/search/saved", {"query": "q=bullying&country=PT", "name": ""})
    client.post_form(
        "/search/saved", {"query": "countries=PT&q=bullying", "name": ""}, follow_redirects=False
    )

    assert len(searches_of(db_session, member)) == 1
    assert "You had already saved this search, as “bullying”." in text_of(
        client.get("/account/searches").text
    )


def test_a_name_too_long_is_refused_at_the_field(client: PortalClient, db_session: Session) -> None:
    member = signed_in(client, db_session)

    response = client.post_form("/search/saved", {"query": "q=parents", "name": "x" * 101})

    assert response.status_code == 422
    assert 'id="name-error"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert "at most 100 characters" in text_of(response.text)
    # The input is kept.
    assert 'value="' + "x" * 101 + '"' in response.text
    assert 'name="query" value="q=parents"' in response.text
    assert searches_of(db_session, member) == []


def test_a_member_keeps_at_most_fifty(client: PortalClient, db_session: Session) -> None:
    member = signed_in(client, db_session)
    for number in range(saved_searches.MAX_SAVED_PER_MEMBER):
        saved_searches.save(db_session, member.id, f"q=word{number}", "")
    db_session.commit()

    response = client.post_form("/search/saved", {"query": "q=one+more", "name": "One more"})

    assert response.status_code == 422
    assert "50 saved searches, the most you can keep" in text_of(response.text)
    assert len(searches_of(db_session, member)) == saved_searches.MAX_SAVED_PER_MEMBER


def test_only_active_members_save(client: PortalClient, db_session: Session) -> None:
    anonymous = client.post_form("/search/saved", {"query": "q=x"}, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/sign-in")

    lapsed = signed_in(
        client,
        db_session,
        status="lapsed",
        membership_expires_on=date.today() - timedelta(days=1),
    )
    response = client.post_form("/search/saved", {"query": "q=x"}, follow_redirects=False)
    assert response.headers["location"] == "/account/membership"
    assert searches_of(db_session, lapsed) == []


def test_saving_needs_the_csrf_token(client: PortalClient, db_session: Session) -> None:
    member = signed_in(client, db_session)
    client.get("/account/searches")  # the session has a token; the form does not send it

    response = client.post("/search/saved", data={"query": "q=x", "name": "x"})

    assert response.status_code == 403
    assert searches_of(db_session, member) == []


def test_the_list_shows_only_the_members_own_searches(
    client: PortalClient, db_session: Session
) -> None:
    other = factories.member()
    saved_searches.save(db_session, other.id, "q=secret+plans", "Not yours")
    member = signed_in(client, db_session)
    saved_searches.save(db_session, member.id, "q=parents&countries=PT", "Parents in Portugal")
    db_session.commit()

    page = client.get("/search/saved")  # redirected to the account page

    assert page.status_code == 200
    assert page.url.path == "/account/searches"
    text = text_of(page.text)
    assert "Parents in Portugal" in text
    assert "Not yours" not in text
    assert 'href="/search?q=parents&amp;countries=PT"' in page.text
    assert "Programmes · “parents” · 1 filter" in text
    assert "Never" in text  # no digest sent yet
    saved_searches.list_for(db_session, member.id)[0].last_sent_at = datetime(
        2026, 11, 27, 6, 0, tzinfo=UTC
    )
    db_session.commit()
    assert "Nov 27, 2026" in text_of(client.get("/account/searches").text)
    assert page.text.count("<h1") == 1


def test_alerts_toggle_off_and_on(client: PortalClient, db_session: Session) -> None:
    member = signed_in(client, db_session)
    saved, _created = saved_searches.save(db_session, member.id, "q=parents", "Parents")
    db_session.commit()

    off = client.post_form(
        f"/account/searches/{saved.id}/alerts", {"alerts": "off"}, follow_redirects=False
    )
    assert off.status_code == 303
    db_session.refresh(saved)
    assert not saved.alerts_enabled

    client.post_form(f"/account/searches/{saved.id}/alerts", {"alerts": "on"})
    db_session.refresh(saved)
    assert saved.alerts_enabled


def test_another_members_search_cannot_be_changed(
    client: PortalClient, db_session: Session
) -> None:
    other = factories.member()
    theirs, _created = saved_searches.save(db_session, other.id, "q=parents", "Theirs")
    signed_in(client, db_session)

    toggled = client.post_form(f"/account/searches/{theirs.id}/alerts", {"alerts": "off"})
    deleted = client.post_form(f"/account/searches/{theirs.id}/delete", {})

    assert (toggled.status_code, deleted.status_code) == (404, 404)
    db_session.refresh(theirs)
    assert theirs.alerts_enabled


def test_a_member_deletes_a_saved_search(client: PortalClient, db_session: Session) -> None:
    member = signed_in(client, db_session)
    saved, _created = saved_searches.save(db_session, member.id, "q=parents", "Parents")
    db_session.commit()

    response = client.post_form(f"/account/searches/{saved.id}/delete", {})

    assert response.status_code == 200
    assert searches_of(db_session, member) == []
    assert "The saved search “Parents” is deleted." in text_of(response.text)


def test_unsubscribe_page_and_button_without_signing_in(
    client: PortalClient, db_session: Session
) -> None:
    member = factories.member()
    saved, _created = saved_searches.save(db_session, member.id, "q=parents", "Parents")
    db_session.commit()
    path = saved_searches.unsubscribe_path(saved_searches.unsubscribe_token(saved.id))

    page = client.get(path)
    assert page.status_code == 200
    assert "“Parents”" in text_of(page.text)
    assert f'action="{path}"' in page.text

    done = client.post_form(path, {}, follow_redirects=True)
    assert done.status_code == 200
    assert "You will get no more alerts for “Parents”." in text_of(done.text)
    db_session.refresh(saved)
    assert not saved.alerts_enabled


def test_one_click_unsubscribe_needs_no_csrf_token_nor_cookie(
    client: PortalClient, db_session: Session
) -> None:
    """RFC 8058: the mail provider POSTs List-Unsubscribe=One-Click, with no cookies."""
    member = factories.member()
    saved, _created = saved_searches.save(db_session, member.id, "q=parents", "Parents")
    db_session.commit()
    path = saved_searches.unsubscribe_path(saved_searches.unsubscribe_token(saved.id))

    response = client.post(path, data={"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    db_session.refresh(saved)
    assert not saved.alerts_enabled


def test_the_member_wide_link_turns_every_alert_off(
    client: PortalClient, db_session: Session
) -> None:
    member = factories.member()
    first, _ = saved_searches.save(db_session, member.id, "q=parents", "")
    second, _ = saved_searches.save(db_session, member.id, "q=schools", "")
    db_session.commit()
    path = saved_searches.unsubscribe_path(saved_searches.member_unsubscribe_token(member.id))

    assert "all your saved searches" in text_of(client.get(path).text)
    client.post_form(path, {})

    db_session.refresh(first)
    db_session.refresh(second)
    assert not first.alerts_enabled
    assert not second.alerts_enabled


def test_a_bad_or_stale_token_is_not_found(client: PortalClient, db_session: Session) -> None:
    member = factories.member()
    saved, _created = saved_searches.save(db_session, member.id, "q=parents", "Parents")
    db_session.commit()
    good = saved_searches.unsubscribe_token(saved.id)
    other_id = f"{saved.id + 1}-{good.partition('-')[2]}"

    for token in (good[:-2] + "xx", other_id, "nonsense", f"m{member.id}-{good.partition('-')[2]}"):
        assert client.get(saved_searches.unsubscribe_path(token)).status_code == 404
        response = client.post(
            saved_searches.unsubscribe_path(token), data={"List-Unsubscribe": "One-Click"}
        )
        assert response.status_code in (403, 404)
    db_session.refresh(saved)
    assert saved.alerts_enabled

    saved_searches.delete(db_session, saved)
    db_session.commit()
    assert client.get(saved_searches.unsubscribe_path(good)).status_code == 404


class _State:
    def __init__(self, viewer: Member | None) -> None:
        self.viewer = viewer


class _Request:
    """Just what the macro reads: the viewer and a session for the CSRF token."""

    def __init__(self, viewer: Member | None) -> None:
        self.state = _State(viewer)
        self.session: dict[str, str] = {}


def test_the_macro_gives_members_a_form_and_visitors_a_sign_in_link(
    db_session: Session,
) -> None:
    module = templates.env.get_template("search/saved_macros.html").module
    macro = getattr(module, "save_search_form")  # noqa: B009  (a template's macro)
    member = factories.member()

    form = str(macro(_Request(member), "q=parents&countries=PT"))
    link = str(macro(_Request(None), "q=parents&countries=PT"))
    lapsed = str(macro(_Request(factories.member(status="lapsed")), "q=parents"))

    assert 'action="/search/saved"' in form
    assert 'name="query" value="q=parents&amp;countries=PT"' in form
    assert 'name="csrf_token"' in form
    assert '<label for="save-search-name">' in form
    assert "/sign-in?next=%2Fsearch%3Fq%3Dparents%26countries%3DPT" in link
    assert lapsed.strip() == ""
