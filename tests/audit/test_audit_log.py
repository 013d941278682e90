"""The audit log: append-only in the database, readable and filterable by coordinators."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.audit import service
from app.audit.models import AuditEvent
from app.members.models import Member
from tests.conftest import PortalClient
from tests.factories import coordinator, member


def entry(
    session: Session,
    *,
    actor: Member | None = None,
    action: str = "member.suspend",
    subject_type: str = "member",
    label: str = "Subject Person",
    country: str | None = "PT",
    before: dict[str, object] | None = None,
    after: dict[str, object] | None = None,
    reason: str | None = None,
) -> AuditEvent:
    return service.record(
        session,
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=None,
        subject_label=label,
        country=country,
        before=before,
        after=after,
        reason=reason,
    )


def test_the_database_refuses_to_change_an_entry(db_session: Session) -> None:
    event = entry(db_session, reason="original")

    with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
        db_session.execute(
            text("UPDATE audit_event SET reason = 'rewritten' WHERE id = :id"), {"id": event.id}
        )

    reason = db_session.scalar(
        text("SELECT reason FROM audit_event WHERE id = :id"), {"id": event.id}
    )
    assert reason == "original"


def test_the_database_refuses_to_delete_an_entry(db_session: Session) -> None:
    event = entry(db_session)

    with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
        db_session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": event.id})

    count = db_session.scalar(
        text("SELECT count(*) FROM audit_event WHERE id = :id"), {"id": event.id}
    )
    assert count == 1


def test_the_audit_log_has_no_way_to_edit(client: PortalClient, db_session: Session) -> None:
    client.sign_in_as(db_session, coordinator(network=True))
    db_session.commit()

    response = client.post("/coordinate/audit", data={"csrf_token": client.csrf_token("/")})

    assert response.status_code == 405


def test_coordinators_read_who_did_what_before_and_after(
    client: PortalClient, db_session: Session
) -> None:
    actor = coordinator(["PT"], full_name="Paula Coordinator")
    entry(
        db_session,
        actor=actor,
        label="Sam Subject",
        before={"status": "active"},
        after={"status": "suspended"},
        reason="Posted spam",
    )
    entry(
        db_session,
        actor=actor,
        action="member.change_type",
        label="Tia Type",
        before={"member_type": "practitioner"},
        after={"member_type": "policy_maker"},
    )
    client.sign_in_as(db_session, actor)

    page = client.get("/coordinate/audit")

    assert page.status_code == 200
    html = page.text
    assert "Paula Coordinator" in html
    assert "Suspended a member" in html
    assert "Sam Subject" in html
    assert "Status:</strong>" in html
    assert "Active" in html
    assert "Suspended" in html
    assert "Practitioner" in html
    assert "Policy maker" in html
    assert "Posted spam" in html
    # Newest first.
    assert html.index("Tia Type") < html.index("Sam Subject")


def test_national_coordinators_see_the_events_of_their_countries(
    client: PortalClient, db_session: Session
) -> None:
    entry(db_session, label="Portuguese Subject", country="PT")
    entry(db_session, label="German Subject", country="DE")
    entry(db_session, label="Network Subject", country=None)
    client.sign_in_as(db_session, coordinator(["PT"]))

    html = client.get("/coordinate/audit").text

    assert "Portuguese Subject" in html
    assert "German Subject" not in html
    assert "Network Subject" not in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("action=member.invite", {"Invited One"}),
        ("actor=alma", {"By Alma"}),
        ("subject_type=organisation", {"Some Organisation"}),
        ("country=DE", {"German Subject"}),
    ],
)
def test_the_audit_log_filters(
    client: PortalClient, db_session: Session, query: str, expected: set[str]
) -> None:
    alma = member(full_name="Alma Actor")
    entry(db_session, action="member.invite", label="Invited One")
    entry(db_session, actor=alma, label="By Alma")
    entry(
        db_session,
        action="organisation.create",
        subject_type="organisation",
        label="Some Organisation",
    )
    entry(db_session, label="German Subject", country="DE")
    client.sign_in_as(db_session, coordinator(network=True))

    html = client.get("/coordinate/audit?" + query).text

    labels = {"Invited One", "By Alma", "Some Organisation", "German Subject"}
    assert {label for label in labels if label in html} == expected


def test_the_audit_log_filters_by_date(client: PortalClient, db_session: Session) -> None:
    entry(db_session, label="Happened Today")
    client.sign_in_as(db_session, coordinator(network=True))
    today = datetime.now(UTC).date()

    within = client.get(f"/coordinate/audit?date_from={today}&date_to={today}").text
    before = client.get(f"/coordinate/audit?date_to={today - timedelta(days=1)}").text
    after = client.get(f"/coordinate/audit?date_from={today + timedelta(days=1)}").text
    bad = client.get("/coordinate/audit?date_from=yesterday")

    assert "Happened Today" in within
    assert "Happened Today" not in before
    assert "Happened Today" not in after
    assert bad.status_code == 422
    assert 'id="date_from-error"' in bad.text


def test_the_audit_log_is_paginated(client: PortalClient, db_session: Session) -> None:
    for number in range(35):
        entry(db_session, label=f"Event Subject {number:02d}")
    client.sign_in_as(db_session, coordinator(network=True))

    first = client.get("/coordinate/audit").text
    second = client.get("/coordinate/audit?page=2").text

    assert "Event Subject 34" in first
    assert "Event Subject 04" not in first
    assert "Event Subject 04" in second
    assert "Showing 31 to 35 of 35" in second


def test_members_cannot_read_the_audit_log(client: PortalClient, db_session: Session) -> None:
    client.sign_in_as(db_session, member())
    db_session.commit()

    assert client.get("/coordinate/audit").status_code == 403


def test_the_last_possible_date_as_upper_bound_is_not_a_server_error(
    client: PortalClient, db_session: Session
) -> None:
    client.sign_in_as(db_session, coordinator(network=True))

    response = client.get("/coordinate/audit?date_to=9999-12-31")

    assert response.status_code == 200
