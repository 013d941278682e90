"""Implementation reports: adding, editing, deleting, validation, and who sees what."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, event, select
from sqlalchemy.orm import Session

from app.members.models import Member
from app.programmes import reports, service
from app.programmes.models import ImplementationReport, Programme
from tests import factories
from tests.conftest import PortalClient

VALID_REPORT = {
    "country": "PT",
    "setting": "school",
    "organisation_id": "",
    "start_year": "2021",
    "end_year": "2023",
    "people_reached": "240",
    "what_worked": "Small groups.\nParents came back.",
    "what_did_not_work": "Evening sessions clashed with work.",
    "adaptations": "Translated the leaflets into Portuguese.",
    "visibility": "public",
}


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


def _report(session: Session, programme: Programme, author: Member, **overrides: Any) -> Any:
    return reports.create_report(session, author, programme, {**VALID_REPORT, **overrides})


def _signed_in(client: PortalClient, session: Session, who: Member) -> Member:
    client.sign_in_as(session, who)
    # An error answer rolls its request back; committing keeps the setup in place.
    session.commit()
    return who


def _stored(session: Session, programme: Programme) -> list[ImplementationReport]:
    session.expire_all()
    return list(
        session.scalars(
            select(ImplementationReport).where(ImplementationReport.programme_id == programme.id)
        )
    )


# --- adding a report ---------------------------------------------------------------------


def test_a_member_adds_a_report_and_it_appears_on_the_programme_page(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme(title="Safe Families")
    reporter = _signed_in(client, db_session, factories.member(full_name="Rita Reporter"))

    form = client.get(f"/programmes/{programme.id}/reports/new")
    assert form.status_code == 200
    assert "Add an implementation report" in form.text
    response = client.post_form(
        f"/programmes/{programme.id}/reports/new", VALID_REPORT, follow_redirects=False
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/programmes/{programme.id}#reports"
    [stored] = _stored(db_session, programme)
    assert stored.author_id == reporter.id
    assert (stored.country, stored.setting, stored.start_year, stored.end_year) == (
        "PT",
        "school",
        2021,
        2023,
    )
    assert stored.people_reached == 240
    assert stored.what_worked == "Small groups.\nParents came back."
    page = client.get(f"/programmes/{programme.id}")
    assert page.status_code == 200
    assert "How it went: implementation reports" in page.text
    assert "Rita Reporter" in page.text
    assert "Portugal" in page.text
    assert "Parents came back." in page.text
    assert "240" in page.text
    assert "Thank you: your implementation report is on the programme page." in page.text


def test_the_report_text_is_plain_text_not_html(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme()
    _report(db_session, programme, factories.member(), what_worked="<script>alert(1)</script>")
    db_session.commit()

    page = client.get(f"/programmes/{programme.id}")

    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_the_member_can_name_one_of_their_organisations(
    client: PortalClient, db_session: Session
) -> None:
    own = factories.organisation(name="Lisbon Family Centre")
    other = factories.organisation(name="Someone Else's Charity")
    programme = factories.programme()
    _signed_in(client, db_session, factories.member(organisations=[own]))

    form = client.get(f"/programmes/{programme.id}/reports/new")
    assert "Lisbon Family Centre" in form.text
    assert "Someone Else" not in form.text
    response = client.post_form(
        f"/programmes/{programme.id}/reports/new",
        {**VALID_REPORT, "organisation_id": str(own.id)},
        follow_redirects=False,
    )

    assert response.status_code == 303
    [stored] = _stored(db_session, programme)
    assert stored.organisation_id == own.id
    assert other.id != own.id
    page = client.get(f"/programmes/{programme.id}")
    assert "Lisbon Family Centre" in page.text


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"start_year": ""}, "start_year", "Enter the year the programme started"),
        ({"start_year": "soon"}, "start_year", "Enter a whole number."),
        ({"start_year": "1850"}, "start_year", "Enter a year from 1900"),
        ({"end_year": "2019"}, "end_year", "cannot be before the year it started"),
        ({"people_reached": "-5"}, "people_reached", "Enter zero or more people."),
        ({"people_reached": "many"}, "people_reached", "Enter a whole number."),
        ({"country": ""}, "country", "Choose the country where the programme ran."),
        ({"country": "XX"}, "country", "Unknown code for countries: XX. Allowed codes:"),
        ({"setting": "moon_base"}, "setting", "Unknown code for settings: moon_base."),
        ({"organisation_id": "999999"}, "organisation_id", "Choose an organisation"),
        ({"visibility": "everyone"}, "visibility", "Choose who can see this report."),
        (
            {"what_worked": " ", "what_did_not_work": "", "adaptations": ""},
            "what_worked",
            "at least one thing",
        ),
        ({"adaptations": "x" * 5001}, "adaptations", "Keep this under 5000 characters."),
    ],
)
def test_wrong_input_is_refused_at_the_field_and_the_input_is_kept(
    client: PortalClient,
    db_session: Session,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    programme = factories.programme()
    _signed_in(client, db_session, factories.member())
    sent = {**VALID_REPORT, "what_did_not_work": "Kept text that I typed", **changes}

    response = client.post_form(f"/programmes/{programme.id}/reports/new", sent)

    assert response.status_code == 422
    error = re.search(rf'<p class="field__error" id="{field}-error">([^<]*)</p>', response.text)
    assert error is not None, response.text
    assert message in error.group(1).replace("&#39;", "'")
    assert re.search(rf'aria-describedby="[^"]*\b{field}-error"', response.text)
    if field != "what_worked":
        assert "Kept text that I typed" in response.text
    assert _stored(db_session, programme) == []


def test_an_unknown_setting_names_the_allowed_codes(db_session: Session) -> None:
    programme = factories.programme()
    with pytest.raises(reports.InvalidReport) as refused:
        _report(db_session, programme, factories.member(), setting="moon_base")
    assert "school" in refused.value.errors["setting"]
    assert refused.value.values["setting"] == "moon_base"


def test_a_members_only_programme_gets_members_only_reports(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme(visibility="members")
    _signed_in(client, db_session, factories.member())

    form = client.get(f"/programmes/{programme.id}/reports/new")
    assert 'name="visibility" value="members"' in form.text
    refused = client.post_form(
        f"/programmes/{programme.id}/reports/new", {**VALID_REPORT, "visibility": "public"}
    )
    assert refused.status_code == 422
    assert "visible to members only, so its reports are too" in refused.text
    accepted = client.post_form(
        f"/programmes/{programme.id}/reports/new",
        {**VALID_REPORT, "visibility": "members"},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    assert [report.visibility for report in _stored(db_session, programme)] == ["members"]


# --- who may add a report ----------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme()
    db_session.commit()

    page = client.get(f"/programmes/{programme.id}/reports/new", follow_redirects=False)

    assert page.status_code == 303
    assert page.headers["location"].startswith("/sign-in?next=")


def test_anonymous_visitors_cannot_post_a_report(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme()
    db_session.commit()
    token = client.csrf_token()

    response = client.post(
        f"/programmes/{programme.id}/reports/new",
        data={"csrf_token": token, **VALID_REPORT},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in")
    assert _stored(db_session, programme) == []


def test_lapsed_members_are_sent_to_renew(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme()
    lapsed = factories.member(
        status="lapsed", membership_expires_on=date.today() - timedelta(days=1)
    )
    _signed_in(client, db_session, lapsed)

    page = client.get(f"/programmes/{programme.id}/reports/new", follow_redirects=False)
    posted = client.post_form(
        f"/programmes/{programme.id}/reports/new", VALID_REPORT, follow_redirects=False
    )

    assert page.status_code == 303
    assert page.headers["location"] == "/account/membership"
    assert posted.status_code == 303
    assert posted.headers["location"] == "/account/membership"
    assert _stored(db_session, programme) == []


def test_reports_need_a_published_programme(client: PortalClient, db_session: Session) -> None:
    author = factories.member()
    draft = factories.programme(author, state="draft")
    _signed_in(client, db_session, author)

    # Its maintainer sees the draft, but there is nothing to report on yet.
    assert client.get(f"/programmes/{draft.id}/reports/new").status_code == 403
    _signed_in(client, db_session, factories.member())
    # Anyone else does not even learn that the draft exists.
    assert client.get(f"/programmes/{draft.id}/reports/new").status_code == 404


def test_archived_programmes_take_no_new_reports(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme()
    service.archive(db_session, factories.coordinator(network=True), programme, "Ended")
    _signed_in(client, db_session, factories.member())

    response = client.post_form(f"/programmes/{programme.id}/reports/new", VALID_REPORT)

    assert response.status_code == 403
    assert _stored(db_session, programme) == []


# --- who sees reports --------------------------------------------------------------------


def test_members_only_reports_are_hidden_from_anonymous_visitors(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()
    _report(db_session, programme, factories.member(), what_worked="Shared with everyone")
    _report(
        db_session,
        programme,
        factories.member(),
        what_worked="Only for members of the network",
        visibility="members",
    )
    db_session.commit()

    anonymous = client.get(f"/programmes/{programme.id}")
    assert "Shared with everyone" in anonymous.text
    assert "Only for members of the network" not in anonymous.text

    _signed_in(client, db_session, factories.member())
    member_page = client.get(f"/programmes/{programme.id}")
    assert "Shared with everyone" in member_page.text
    assert "Only for members of the network" in member_page.text


def test_lapsed_members_see_only_public_reports(db_session: Session) -> None:
    programme = factories.programme()
    _report(db_session, programme, factories.member(), visibility="members")
    lapsed = factories.member(status="lapsed")

    assert reports.for_page(db_session, lapsed, programme.id) == []
    assert len(reports.for_page(db_session, factories.member(), programme.id)) == 1


def test_for_page_names_authors_and_labels_codes_in_two_queries(
    db_session: Session, connection: Connection
) -> None:
    centre = factories.organisation(name="Porto Prevention Centre")
    programme = factories.programme()
    _report(
        db_session,
        programme,
        factories.member(full_name="Ana Author"),
        organisation_id=str(centre.id),
        start_year="2022",
    )
    erased = factories.member(full_name="Gone Person")
    _report(db_session, programme, erased, country="DE", setting="", start_year="2020")
    erased.status = "erased"
    db_session.flush()
    reader = factories.member()
    factories.programme()  # another programme's reports never show
    from app.vocabularies import service as vocabularies

    vocabularies.snapshot(db_session)  # read once per request anyway

    with counting_queries(connection) as statements:
        views = reports.for_page(db_session, reader, programme.id)

    assert len(statements) == 2
    assert [view.author_name for view in views] == ["Ana Author", "Former member"]
    assert [view.organisation_name for view in views] == ["Porto Prevention Centre", None]
    assert [view.country_label for view in views] == ["Portugal", "Germany"]
    assert [view.setting_label for view in views] == ["School", ""]


def test_anonymous_visitors_are_invited_to_sign_in_on_an_empty_section(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()
    db_session.commit()

    page = client.get(f"/programmes/{programme.id}")

    assert "No one has reported on this programme yet." in page.text
    assert f"/sign-in?next=/programmes/{programme.id}/reports/new" in page.text
    assert "Add a report" not in page.text


def test_members_see_the_add_a_report_link(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme()
    _signed_in(client, db_session, factories.member())

    page = client.get(f"/programmes/{programme.id}")

    assert f'href="/programmes/{programme.id}/reports/new"' in page.text
    assert "Add a report" in page.text


# --- editing and deleting ----------------------------------------------------------------


def test_the_author_edits_their_report(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme()
    author = factories.member()
    report = _report(db_session, programme, author)
    _signed_in(client, db_session, author)

    form = client.get(f"/programmes/{programme.id}/reports/{report.id}/edit")
    assert form.status_code == 200
    assert "Evening sessions clashed with work." in form.text
    page = client.get(f"/programmes/{programme.id}")
    assert f"/programmes/{programme.id}/reports/{report.id}/edit" in page.text
    response = client.post_form(
        f"/programmes/{programme.id}/reports/{report.id}/edit",
        {**VALID_REPORT, "people_reached": "300", "end_year": ""},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/programmes/{programme.id}#report-{report.id}"
    [stored] = _stored(db_session, programme)
    assert (stored.people_reached, stored.end_year) == (300, None)


def test_an_invalid_edit_keeps_the_report_unchanged(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()
    author = factories.member()
    report = _report(db_session, programme, author)
    _signed_in(client, db_session, author)

    response = client.post_form(
        f"/programmes/{programme.id}/reports/{report.id}/edit",
        {**VALID_REPORT, "end_year": "2000"},
    )

    assert response.status_code == 422
    assert 'id="end_year-error"' in response.text
    assert 'value="2000"' in response.text
    [stored] = _stored(db_session, programme)
    assert stored.end_year == 2023


@pytest.mark.parametrize("who", ["other_member", "coordinator"])
def test_only_the_author_edits(client: PortalClient, db_session: Session, who: str) -> None:
    programme = factories.programme()
    report = _report(db_session, programme, factories.member())
    viewer = factories.member() if who == "other_member" else factories.coordinator(["PT"])
    _signed_in(client, db_session, viewer)

    form = client.get(f"/programmes/{programme.id}/reports/{report.id}/edit")
    posted = client.post_form(
        f"/programmes/{programme.id}/reports/{report.id}/edit",
        {**VALID_REPORT, "what_worked": "Changed by someone else"},
    )

    assert form.status_code == 403
    assert posted.status_code == 403
    [stored] = _stored(db_session, programme)
    assert stored.what_worked != "Changed by someone else"


def test_another_member_cannot_delete_a_report(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme()
    report = _report(db_session, programme, factories.member())
    _signed_in(client, db_session, factories.member())

    page = client.get(f"/programmes/{programme.id}")
    response = client.post_form(f"/programmes/{programme.id}/reports/{report.id}/delete", {})

    assert "/delete" not in page.text
    assert response.status_code == 403
    assert len(_stored(db_session, programme)) == 1


def test_the_author_deletes_their_report(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme()
    author = factories.member()
    report = _report(db_session, programme, author)
    _signed_in(client, db_session, author)

    response = client.post_form(
        f"/programmes/{programme.id}/reports/{report.id}/delete", {}, follow_redirects=False
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/programmes/{programme.id}#reports"
    assert _stored(db_session, programme) == []


def test_a_coordinator_of_the_programme_deletes_a_report(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()  # in DE and PT
    report = _report(db_session, programme, factories.member())
    _signed_in(client, db_session, factories.coordinator(["PT"]))

    page = client.get(f"/programmes/{programme.id}")
    assert f"/programmes/{programme.id}/reports/{report.id}/delete" in page.text
    assert f"/programmes/{programme.id}/reports/{report.id}/edit" not in page.text
    response = client.post_form(
        f"/programmes/{programme.id}/reports/{report.id}/delete", {}, follow_redirects=False
    )

    assert response.status_code == 303
    assert _stored(db_session, programme) == []


def test_a_coordinator_of_another_country_cannot_delete(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()  # in DE and PT
    report = _report(db_session, programme, factories.member())
    _signed_in(client, db_session, factories.coordinator(["FR"]))

    response = client.post_form(f"/programmes/{programme.id}/reports/{report.id}/delete", {})

    assert response.status_code == 403
    assert len(_stored(db_session, programme)) == 1


def test_a_report_of_another_programme_is_not_found(
    client: PortalClient, db_session: Session
) -> None:
    author = factories.member()
    report = _report(db_session, factories.programme(), author)
    other = factories.programme(title="Another programme")
    _signed_in(client, db_session, author)

    assert client.get(f"/programmes/{other.id}/reports/{report.id}/edit").status_code == 404
    response = client.post_form(f"/programmes/{other.id}/reports/{report.id}/delete", {})
    assert response.status_code == 404
