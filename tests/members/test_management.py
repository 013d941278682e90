"""Coordinators manage members: list, suspend, reinstate, member type, roles, invitations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.auth.models import AccountToken, UserSession
from app.members import management
from app.members.models import CoordinatorCountry, Member
from app.outbox.models import OutboxMessage
from tests.conftest import PortalClient
from tests.factories import admin, coordinator, member, organisation


def mails_to(session: Session, address: str) -> list[OutboxMessage]:
    statement = select(OutboxMessage).where(OutboxMessage.recipient == address)
    return list(session.scalars(statement.order_by(OutboxMessage.id)))


def events(session: Session, action: str) -> list[AuditEvent]:
    statement = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(session.scalars(statement))


@pytest.fixture
def other_client(app: FastAPI, client: PortalClient) -> Iterator[PortalClient]:
    """A second browser against the same app and test session (``client`` sets it up)."""
    with PortalClient(app, base_url="http://testserver", raise_server_exceptions=False) as second:
        yield second


# The member list ------------------------------------------------------------------------


def test_a_national_coordinator_lists_only_the_members_of_their_countries(
    client: PortalClient, db_session: Session
) -> None:
    portugal = coordinator(["PT"], full_name="Paula Coordinator")
    member(full_name="Ana Lisboa", country="PT", email="ana@example.org")
    member(full_name="Dieter Berlin", country="DE")
    client.sign_in_as(db_session, portugal)

    page = client.get("/coordinate/members")

    assert page.status_code == 200
    assert "Ana Lisboa" in page.text
    assert "ana@example.org" in page.text
    assert "Dieter Berlin" not in page.text


def test_a_network_coordinator_lists_every_country(
    client: PortalClient, db_session: Session
) -> None:
    member(full_name="Ana Lisboa", country="PT")
    member(full_name="Dieter Berlin", country="DE")
    client.sign_in_as(db_session, coordinator(network=True))

    page = client.get("/coordinate/members").text

    assert "Ana Lisboa" in page
    assert "Dieter Berlin" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=lisb", {"Ana Lisboa"}),
        ("q=ANA%40EXAMPLE", {"Ana Lisboa"}),
        ("country=FR", {"Fleur Paris"}),
        ("status=suspended", {"Sven Suspended"}),
        ("member_type=researcher", {"Fleur Paris"}),
        ("role=coordinator", {"Carla Coordinator"}),
    ],
)
def test_the_member_list_filters(
    client: PortalClient, db_session: Session, query: str, expected: set[str]
) -> None:
    names = {
        "Ana Lisboa": {"country": "PT", "email": "ana@example.org"},
        "Fleur Paris": {"country": "FR", "member_type": "researcher"},
        "Sven Suspended": {"country": "SE", "status": "suspended"},
        "Carla Coordinator": {"country": "PT", "role": "coordinator"},
    }
    for name, values in names.items():
        member(full_name=name, **values)
    client.sign_in_as(db_session, admin(full_name="The Admin"))

    page = client.get("/coordinate/members?" + query).text

    shown = {name for name in names if name in page}
    assert shown == expected


def test_the_member_list_filters_by_organisation(client: PortalClient, db_session: Session) -> None:
    helpline = organisation(name="Helpline Lisboa", country="PT")
    member(full_name="In Helpline", organisations=[helpline])
    member(full_name="Elsewhere")
    client.sign_in_as(db_session, admin())

    page = client.get(f"/coordinate/members?organisation={helpline.id}").text

    assert "In Helpline" in page
    assert "Elsewhere" not in page


def test_the_member_list_is_paginated(client: PortalClient, db_session: Session) -> None:
    for number in range(30):
        member(full_name=f"Paged Member {number:02d}", country="LU")
    client.sign_in_as(db_session, coordinator(["LU"]))

    first = client.get("/coordinate/members").text
    second = client.get("/coordinate/members?page=2").text

    assert "Paged Member 00" in first
    assert "Paged Member 25" not in first
    assert "Paged Member 25" in second
    assert "Showing 26 to 30 of 30" in second
    assert 'aria-current="page">2<' in second


@pytest.mark.parametrize("path", ["/coordinate/members", "/coordinate/invite"])
def test_members_and_anonymous_visitors_are_kept_out(
    client: PortalClient, db_session: Session, path: str
) -> None:
    anonymous = client.get(path, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/sign-in")

    client.sign_in_as(db_session, member())
    db_session.commit()  # a refused request rolls its transaction back
    assert client.get(path).status_code == 403


def test_a_coordinator_without_two_factor_is_sent_to_set_it_up(
    client: PortalClient, db_session: Session
) -> None:
    client.sign_in_as(db_session, coordinator(["PT"], totp_secret=None, totp_enabled_at=None))

    response = client.get("/coordinate/members", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/account/security/two-factor"


# A member's page and its actions -----------------------------------------------------------


def test_the_member_page_shows_the_email_to_coordinators(
    client: PortalClient, db_session: Session
) -> None:
    target = member(full_name="Ana Lisboa", country="PT", email="ana.lisboa@example.org")
    client.sign_in_as(db_session, coordinator(["PT"]))

    page = client.get(f"/coordinate/members/{target.id}")

    assert page.status_code == 200
    assert "ana.lisboa@example.org" in page.text
    assert f'action="/coordinate/members/{target.id}/suspend"' in page.text
    # Only admins see the role form.
    assert f"/coordinate/members/{target.id}/role" not in page.text


ACTIONS = [
    ("suspend", {"suspend_reason": "spam"}),
    ("reinstate", {"reinstate_reason": "sorted"}),
    ("type", {"member_type": "researcher"}),
]


@pytest.mark.parametrize(("action", "form"), ACTIONS)
def test_a_coordinator_of_another_country_gets_403(
    client: PortalClient, db_session: Session, action: str, form: dict[str, str]
) -> None:
    status = "suspended" if action == "reinstate" else "active"
    target = member(country="PT", status=status, member_type="practitioner")
    client.sign_in_as(db_session, coordinator(["DE"]))
    db_session.commit()  # a refused request rolls its transaction back

    assert client.get(f"/coordinate/members/{target.id}").status_code == 403
    response = client.post_form(f"/coordinate/members/{target.id}/{action}", form)

    assert response.status_code == 403
    db_session.refresh(target)
    assert target.status == status
    assert target.member_type == "practitioner"
    assert events(db_session, "member." + action) == []


def test_an_unknown_member_is_404(client: PortalClient, db_session: Session) -> None:
    client.sign_in_as(db_session, coordinator(network=True))
    db_session.commit()

    assert client.get("/coordinate/members/999999").status_code == 404


def test_suspending_needs_a_reason_given_at_the_field(
    client: PortalClient, db_session: Session
) -> None:
    target = member(country="PT")
    client.sign_in_as(db_session, coordinator(["PT"]))

    response = client.post_form(f"/coordinate/members/{target.id}/suspend", {"suspend_reason": " "})

    assert response.status_code == 422
    assert 'id="suspend_reason-error"' in response.text
    assert 'aria-invalid="true"' in response.text
    db_session.refresh(target)
    assert target.status == "active"


def test_suspension_ends_the_members_sessions_at_once(
    client: PortalClient, other_client: PortalClient, db_session: Session
) -> None:
    target = member(country="PT", full_name="Sam Suspended", email="sam@example.org")
    national = coordinator(["PT"], full_name="Paula Coordinator")
    other_client.sign_in_as(db_session, target)
    assert "Sam Suspended" in other_client.get("/").text
    client.sign_in_as(db_session, national)

    response = client.post_form(
        f"/coordinate/members/{target.id}/suspend",
        {"suspend_reason": "Shared a members-only document publicly"},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/coordinate/members/{target.id}"
    # The member's very next request is anonymous.
    assert "Sam Suspended" not in other_client.get("/").text
    open_sessions = db_session.scalars(
        select(UserSession).where(
            UserSession.member_id == target.id, UserSession.revoked_at.is_(None)
        )
    ).all()
    assert open_sessions == []
    db_session.refresh(target)
    assert target.status == "suspended"
    assert target.status_reason == "Shared a members-only document publicly"
    notice = client.get(response.headers["location"]).text
    assert "Sam Suspended is suspended" in notice
    (mail,) = mails_to(db_session, "sam@example.org")
    assert "suspended" in mail.subject
    assert "Shared a members-only document publicly" in mail.body_text
    (event,) = events(db_session, "member.suspend")
    assert event.actor_id == national.id
    assert event.actor_label == "Paula Coordinator"
    assert event.subject_id == target.id
    assert event.country == "PT"
    assert event.before == {"status": "active"}
    assert event.after == {"status": "suspended"}
    assert event.reason == "Shared a members-only document publicly"


def test_reinstating_needs_a_reason_and_restores_the_member(
    client: PortalClient, db_session: Session
) -> None:
    target = member(country="PT", status="suspended", email="back@example.org")
    client.sign_in_as(db_session, coordinator(["PT"]))

    refused = client.post_form(
        f"/coordinate/members/{target.id}/reinstate", {"reinstate_reason": ""}
    )
    assert refused.status_code == 422
    assert 'id="reinstate_reason-error"' in refused.text

    response = client.post_form(
        f"/coordinate/members/{target.id}/reinstate",
        {"reinstate_reason": "Explained and apologised"},
        follow_redirects=False,
    )

    assert response.status_code == 303
    db_session.refresh(target)
    assert target.status == "active"
    assert target.status_reason is None
    (mail,) = mails_to(db_session, "back@example.org")
    assert "reinstated" in mail.subject
    (event,) = events(db_session, "member.reinstate")
    assert (event.before, event.after) == ({"status": "suspended"}, {"status": "active"})
    assert event.reason == "Explained and apologised"


def test_a_member_whose_membership_ran_out_is_reinstated_as_lapsed(db_session: Session) -> None:
    target = member(
        country="PT", status="suspended", membership_expires_on=date.today() - timedelta(days=3)
    )
    actor = coordinator(["PT"])

    management.reinstate(db_session, actor, target, "ok")

    assert target.status == "lapsed"


def test_changing_the_member_type_is_recorded(client: PortalClient, db_session: Session) -> None:
    target = member(country="PT", member_type="practitioner")
    client.sign_in_as(db_session, coordinator(["PT"]))

    response = client.post_form(
        f"/coordinate/members/{target.id}/type",
        {"member_type": "researcher", "type_reason": "Moved to a university"},
        follow_redirects=False,
    )

    assert response.status_code == 303
    db_session.refresh(target)
    assert target.member_type == "researcher"
    (event,) = events(db_session, "member.change_type")
    assert event.before == {"member_type": "practitioner"}
    assert event.after == {"member_type": "researcher"}
    assert event.reason == "Moved to a university"


def test_an_unknown_member_type_is_refused_at_the_field(
    client: PortalClient, db_session: Session
) -> None:
    target = member(country="PT")
    client.sign_in_as(db_session, coordinator(["PT"]))

    response = client.post_form(f"/coordinate/members/{target.id}/type", {"member_type": "spy"})

    assert response.status_code == 422
    assert 'id="member_type-error"' in response.text


def test_coordinators_cannot_act_on_themselves_or_on_admins(
    client: PortalClient, db_session: Session
) -> None:
    national = coordinator(["PT"], country="PT")
    an_admin = admin(country="PT")
    client.sign_in_as(db_session, national)
    db_session.commit()  # a refused request rolls its transaction back

    own_page = client.get(f"/coordinate/members/{national.id}").text
    assert f"/coordinate/members/{national.id}/suspend" not in own_page
    own = client.post_form(f"/coordinate/members/{national.id}/suspend", {"suspend_reason": "x"})
    on_admin = client.post_form(
        f"/coordinate/members/{an_admin.id}/suspend", {"suspend_reason": "x"}
    )

    assert own.status_code == 403
    assert on_admin.status_code == 403


# Roles --------------------------------------------------------------------------------------


@pytest.mark.parametrize("network", [False, True])
def test_only_admins_change_roles(client: PortalClient, db_session: Session, network: bool) -> None:
    target = member(country="PT")
    client.sign_in_as(db_session, coordinator(["PT"], network=network))
    db_session.commit()  # a refused request rolls its transaction back

    response = client.post_form(
        f"/coordinate/members/{target.id}/role", {"scope": "countries", "countries": "PT"}
    )

    assert response.status_code == 403
    db_session.refresh(target)
    assert target.role == "member"


def test_an_admin_grants_the_coordinator_role_for_countries(
    client: PortalClient, db_session: Session
) -> None:
    target = member(country="PT", email="new.coordinator@example.org")
    an_admin = admin(full_name="Ada Admin")
    client.sign_in_as(db_session, an_admin)
    assert (
        f"/coordinate/members/{target.id}/role"
        in client.get(f"/coordinate/members/{target.id}").text
    )

    response = client.post(
        f"/coordinate/members/{target.id}/role",
        data={
            "csrf_token": client.csrf_token("/"),
            "scope": "countries",
            "countries": ["PT", "ES"],
        },
        follow_redirects=False,
    )

    assert response.status_code == 303
    db_session.expire_all()
    granted = db_session.get(Member, target.id)
    assert granted is not None
    assert granted.role == "coordinator"
    assert granted.coordinates_network is False
    rows = db_session.scalars(
        select(CoordinatorCountry.country).where(CoordinatorCountry.member_id == target.id)
    ).all()
    assert sorted(rows) == ["ES", "PT"]
    (event,) = events(db_session, "member.grant_coordinator")
    assert event.actor_label == "Ada Admin"
    assert event.before == {"role": "member", "coordinator_countries": []}
    assert event.after == {"role": "coordinator", "coordinator_countries": ["ES", "PT"]}
    (mail,) = mails_to(db_session, "new.coordinator@example.org")
    assert "two-factor" in mail.body_text


def test_a_new_coordinator_is_sent_to_set_up_two_factor(
    client: PortalClient, other_client: PortalClient, db_session: Session
) -> None:
    target = member(country="PT")
    client.sign_in_as(db_session, admin())
    client.post_form(
        f"/coordinate/members/{target.id}/role", {"scope": "network"}, follow_redirects=False
    )
    other_client.sign_in_as(db_session, target)

    response = other_client.get("/coordinate/members", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/account/security/two-factor"


def test_an_admin_changes_the_scope_and_revokes_the_role(
    client: PortalClient, db_session: Session
) -> None:
    target = coordinator(["PT"], country="PT")
    client.sign_in_as(db_session, admin())

    to_network = client.post_form(
        f"/coordinate/members/{target.id}/role", {"scope": "network"}, follow_redirects=False
    )
    revoked = client.post_form(
        f"/coordinate/members/{target.id}/role",
        {"scope": "none", "role_reason": "Left the network's board"},
        follow_redirects=False,
    )

    assert to_network.status_code == 303
    assert revoked.status_code == 303
    db_session.expire_all()
    changed = db_session.get(Member, target.id)
    assert changed is not None
    assert changed.role == "member"
    assert changed.coordinates_network is False
    remaining = db_session.scalars(
        select(CoordinatorCountry).where(CoordinatorCountry.member_id == target.id)
    ).all()
    assert remaining == []
    (granted,) = events(db_session, "member.grant_coordinator")
    assert granted.before == {"coordinates_network": False, "coordinator_countries": ["PT"]}
    assert granted.after == {"coordinates_network": True, "coordinator_countries": []}
    (revoke,) = events(db_session, "member.revoke_coordinator")
    assert revoke.before == {"role": "coordinator", "coordinates_network": True}
    assert revoke.after == {"role": "member", "coordinates_network": False}
    assert revoke.reason == "Left the network's board"


def test_a_country_scope_without_countries_is_refused_at_the_field(
    client: PortalClient, db_session: Session
) -> None:
    target = member(country="PT")
    client.sign_in_as(db_session, admin())

    response = client.post_form(f"/coordinate/members/{target.id}/role", {"scope": "countries"})

    assert response.status_code == 422
    assert 'id="countries-error"' in response.text
    db_session.refresh(target)
    assert target.role == "member"


# Invitations ---------------------------------------------------------------------------------


def test_a_coordinator_invites_a_member_by_email(client: PortalClient, db_session: Session) -> None:
    helpline = organisation(name="Helpline Lisboa", country="PT")
    national = coordinator(["PT"], full_name="Paula Coordinator")
    client.sign_in_as(db_session, national)
    form = client.get("/coordinate/invite")
    assert form.status_code == 200

    response = client.post_form(
        "/coordinate/invite",
        {
            "email": " Nuno.Invited@Example.org ",
            "full_name": "Nuno Invited",
            "country": "PT",
            "member_type": "practitioner",
            "organisation": str(helpline.id),
        },
        follow_redirects=False,
    )

    assert response.status_code == 303
    invited = db_session.scalars(
        select(Member).where(Member.email == "nuno.invited@example.org")
    ).one()
    assert response.headers["location"] == f"/coordinate/members/{invited.id}"
    assert invited.password_hash is None
    assert invited.email_verified_at is None
    assert invited.membership_expires_on is not None
    token = db_session.scalars(
        select(AccountToken).where(AccountToken.member_id == invited.id)
    ).one()
    assert token.purpose == "set_password"
    (mail,) = mails_to(db_session, "nuno.invited@example.org")
    assert "Paula Coordinator" in mail.subject
    assert "Paula Coordinator" in mail.body_text
    link = re.search(r"\S+/account/set-password/(\S+)", mail.body_text)
    assert link is not None
    (event,) = events(db_session, "member.invite")
    assert event.actor_id == national.id
    assert event.country == "PT"
    assert event.after is not None
    assert event.after["organisations"] == ["Helpline Lisboa"]


def test_an_email_already_in_use_is_refused_at_the_field(
    client: PortalClient, db_session: Session
) -> None:
    member(email="taken@example.org")
    client.sign_in_as(db_session, coordinator(["PT"]))

    response = client.post_form(
        "/coordinate/invite",
        {
            "email": "TAKEN@example.org",
            "full_name": "Someone",
            "country": "PT",
            "member_type": "other",
        },
    )

    assert response.status_code == 422
    assert 'id="email-error"' in response.text
    assert "already exists" in response.text
    assert 'value="Someone"' in response.text
    assert events(db_session, "member.invite") == []


def test_a_national_coordinator_invites_only_into_their_countries(
    client: PortalClient, db_session: Session
) -> None:
    client.sign_in_as(db_session, coordinator(["PT"]))

    response = client.post_form(
        "/coordinate/invite",
        {"email": "x@example.org", "full_name": "X", "country": "DE", "member_type": "other"},
    )

    assert response.status_code == 422
    assert 'id="country-error"' in response.text
    assert db_session.scalars(select(Member).where(Member.email == "x@example.org")).first() is None


# Queries ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "most"),
    [
        # 3 for the signed-in coordinator (session, then their countries), then the page's.
        ("/coordinate/members", 3 + 3),
        ("/coordinate/members/{id}", 3 + 4),
        ("/coordinate/audit", 3 + 2),
        ("/coordinate/organisations", 3 + 1),
    ],
)
def test_the_busiest_pages_need_few_queries(
    client: PortalClient, db_session: Session, path: str, most: int
) -> None:
    organisations = [organisation(country="PT") for _ in range(3)]
    for number in range(12):
        member(country="PT", organisations=organisations[: number % 3 + 1])
    national = coordinator(["PT"])
    target = member(country="PT", organisations=organisations)
    for _ in range(5):
        management.change_type(db_session, national, target, "researcher")
        management.change_type(db_session, national, target, "practitioner")
    client.sign_in_as(db_session, national)
    client.get("/")
    statements: list[str] = []

    def count(*args: object) -> None:
        statement = str(args[2])
        if not statement.startswith(("SAVEPOINT", "RELEASE")):
            statements.append(statement)

    connection = db_session.connection()
    event.listen(connection, "before_cursor_execute", count)
    try:
        response = client.get(path.format(id=target.id))
    finally:
        event.remove(connection, "before_cursor_execute", count)

    assert response.status_code == 200
    assert len(statements) <= most, statements


def test_a_member_id_too_large_to_exist_is_404(client: PortalClient, db_session: Session) -> None:
    client.sign_in_as(db_session, coordinator(network=True))
    db_session.commit()

    page = client.get("/coordinate/members/99999999999999999999999")
    action = client.post_form(
        "/coordinate/members/99999999999999999999999/suspend", {"suspend_reason": "Spam"}
    )

    assert page.status_code == 404
    assert action.status_code == 404


def test_an_invitation_naming_an_organisation_id_too_large_keeps_the_input(
    client: PortalClient, db_session: Session
) -> None:
    client.sign_in_as(db_session, coordinator(network=True))
    db_session.commit()

    response = client.post_form(
        "/coordinate/invite",
        {
            "email": "invited.large@example.org",
            "full_name": "Invited Large",
            "country": "PT",
            "member_type": "researcher",
            "organisation": "99999999999999999999999",
        },
    )

    assert response.status_code == 422
    assert "Choose an organisation from the list." in response.text
    assert 'value="invited.large@example.org"' in response.text
