"""Coordinators list, add, edit and merge organisations; every change is audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.applications.models import Application
from app.audit.models import AuditEvent
from app.members.models import Member, member_organisation
from app.organisations import service
from app.organisations.models import Organisation
from tests.conftest import PortalClient
from tests.factories import coordinator, member, organisation


def events(session: Session, action: str) -> list[AuditEvent]:
    statement = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(session.scalars(statement))


def application_for(session: Session, organisation_id: int, email: str) -> Application:
    application = Application(
        full_name="An Applicant",
        email=email,
        country="PT",
        organisation_id=organisation_id,
        member_type="practitioner",
        expertise=[],
        languages=[],
        motivation="To learn",
        privacy_notice_version="1",
        privacy_consented_at=datetime.now(UTC),
        status="submitted",
        access_token_hash=email.ljust(64, "x")[:64],
    )
    session.add(application)
    session.flush()
    return application


def links_of(session: Session, organisation_id: int) -> set[int]:
    statement = select(member_organisation.c.member_id).where(
        member_organisation.c.organisation_id == organisation_id
    )
    return set(session.scalars(statement))


# The list ----------------------------------------------------------------------------------


def test_the_list_shows_member_counts_and_searches(
    client: PortalClient, db_session: Session
) -> None:
    helpline = organisation(name="Helpline Lisboa", country="PT")
    organisation(name="Berlin Research Institute", country="DE")
    member(organisations=[helpline])
    member(organisations=[helpline])
    client.sign_in_as(db_session, coordinator(["PT"]))

    everything = client.get("/coordinate/organisations")
    by_name = client.get("/coordinate/organisations?q=LISBOA").text
    by_country = client.get("/coordinate/organisations?country=DE").text

    assert everything.status_code == 200
    row = everything.text[everything.text.index("Helpline Lisboa") :]
    assert ">2<span" in row[: row.index("</tr>")]
    assert "Helpline Lisboa" in by_name
    assert "Berlin Research" not in by_name
    assert "Berlin Research" in by_country
    assert "Helpline Lisboa" not in by_country


def test_the_list_is_paginated(client: PortalClient, db_session: Session) -> None:
    for number in range(27):
        organisation(name=f"Paged Organisation {number:02d}")
    client.sign_in_as(db_session, coordinator(network=True))

    second = client.get("/coordinate/organisations?q=Paged&page=2").text

    assert "Paged Organisation 26" in second
    assert "Paged Organisation 00" not in second


def test_members_cannot_manage_organisations(client: PortalClient, db_session: Session) -> None:
    client.sign_in_as(db_session, member())
    db_session.commit()

    assert client.get("/coordinate/organisations").status_code == 403
    assert client.get("/coordinate/organisations/new").status_code == 403
    refused = client.post_form(
        "/coordinate/organisations/new",
        {"name": "X", "country": "PT", "organisation_type": "ngo"},
    )
    assert refused.status_code == 403


# Create and edit ---------------------------------------------------------------------------


def test_a_coordinator_adds_an_organisation(client: PortalClient, db_session: Session) -> None:
    actor = coordinator(["PT"], full_name="Paula Coordinator")
    client.sign_in_as(db_session, actor)
    assert client.get("/coordinate/organisations/new").status_code == 200

    response = client.post_form(
        "/coordinate/organisations/new",
        {
            "name": "  Helpline   Lisboa ",
            "country": "PT",
            "organisation_type": "ngo",
            "website": "https://helpline.example",
        },
        follow_redirects=False,
    )

    assert response.status_code == 303
    created = db_session.scalars(
        select(Organisation).where(Organisation.name == "Helpline Lisboa")
    ).one()
    assert (created.country, created.organisation_type, created.website) == (
        "PT",
        "ngo",
        "https://helpline.example",
    )
    assert "Helpline Lisboa is added" in client.get(response.headers["location"]).text
    (event,) = events(db_session, "organisation.create")
    assert event.actor_id == actor.id
    assert event.country == "PT"
    assert event.after is not None
    assert event.after["name"] == "Helpline Lisboa"


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"name": ""}, "name"),
        ({"country": "XX"}, "country"),
        ({"organisation_type": "club"}, "organisation_type"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"website": "ftp://files.example"}, "website"),
        ({"website": "helpline.example"}, "website"),
        ({"name": "existing name"}, "name"),
    ],
)
def test_bad_input_is_refused_at_the_field(
    client: PortalClient, db_session: Session, form: dict[str, str], field: str
) -> None:
    organisation(name="Existing Name", country="PT")
    client.sign_in_as(db_session, coordinator(network=True))
    values = {"name": "New One", "country": "PT", "organisation_type": "ngo", "website": ""}
    values.update(form)

    response = client.post_form("/coordinate/organisations/new", values)

    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    assert events(db_session, "organisation.create") == []


def test_a_coordinator_edits_an_organisation(client: PortalClient, db_session: Session) -> None:
    edited = organisation(name="Helpline", country="PT", organisation_type="ngo")
    client.sign_in_as(db_session, coordinator(network=True))
    form = client.get(f"/coordinate/organisations/{edited.id}/edit")
    assert 'value="Helpline"' in form.text

    response = client.post_form(
        f"/coordinate/organisations/{edited.id}/edit",
        {
            "name": "Helpline Portugal",
            "country": "PT",
            "organisation_type": "health_service",
            "website": "http://helpline.example/pt",
        },
        follow_redirects=False,
    )

    assert response.status_code == 303
    db_session.refresh(edited)
    assert edited.name == "Helpline Portugal"
    (event,) = events(db_session, "organisation.update")
    assert event.before == {"name": "Helpline", "organisation_type": "ngo", "website": None}
    assert event.after == {
        "name": "Helpline Portugal",
        "organisation_type": "health_service",
        "website": "http://helpline.example/pt",
    }


# Merge -----------------------------------------------------------------------------------------


def test_merging_keeps_every_link(client: PortalClient, db_session: Session) -> None:
    keep = organisation(name="Helpline Lisboa", country="PT")
    duplicate = organisation(name="Helpline Lisbon", country="PT")
    only_duplicate = member(full_name="Only In Duplicate", organisations=[duplicate])
    in_both = member(full_name="In Both", organisations=[duplicate, keep])
    only_keep = member(full_name="Only In Kept", organisations=[keep])
    application = application_for(db_session, duplicate.id, "applicant@example.org")
    duplicate_id = duplicate.id
    actor = coordinator(["PT"], full_name="Paula Coordinator")
    client.sign_in_as(db_session, actor)

    confirm = client.get(f"/coordinate/organisations/merge?duplicate={duplicate_id}&keep={keep.id}")
    assert confirm.status_code == 200
    assert "Only In Duplicate" in confirm.text
    assert "In Both" in confirm.text
    assert "1 application moves" in confirm.text
    assert "Only In Kept" not in confirm.text

    response = client.post_form(
        "/coordinate/organisations/merge",
        {"duplicate": str(duplicate_id), "keep": str(keep.id)},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert db_session.get(Organisation, duplicate_id) is None
    assert links_of(db_session, keep.id) == {only_duplicate.id, in_both.id, only_keep.id}
    assert links_of(db_session, duplicate_id) == set()
    db_session.refresh(application)
    assert application.organisation_id == keep.id
    (event,) = events(db_session, "organisation.merge")
    assert event.actor_id == actor.id
    assert event.before is not None
    assert "Helpline Lisbon" in event.before["organisation"]
    assert event.after is not None
    assert "Helpline Lisboa" in event.after["organisation"]
    assert event.after["members_moved"] == 1
    assert event.after["applications_moved"] == 1
    assert "is merged into" in client.get(response.headers["location"]).text


def test_merging_into_itself_is_refused(client: PortalClient, db_session: Session) -> None:
    single = organisation()
    client.sign_in_as(db_session, coordinator(network=True))

    preview = client.get(f"/coordinate/organisations/merge?duplicate={single.id}&keep={single.id}")
    response = client.post_form(
        "/coordinate/organisations/merge", {"duplicate": str(single.id), "keep": str(single.id)}
    )

    assert preview.status_code == 422
    assert 'id="keep-error"' in preview.text
    assert response.status_code == 422
    assert db_session.get(Organisation, single.id) is not None


def test_the_merge_service_leaves_loaded_members_consistent(db_session: Session) -> None:
    keep = organisation()
    duplicate = organisation()
    linked = member(organisations=[duplicate])

    report = service.merge(db_session, coordinator(network=True), duplicate, keep)

    assert report.members_moved == 1
    refreshed = db_session.scalars(
        select(Member).where(Member.id == linked.id).execution_options(populate_existing=True)
    ).one()
    db_session.refresh(refreshed, ["organisations"])
    assert refreshed.organisations == [keep]


def test_the_website_must_be_http_or_https() -> None:
    assert service.clean_website(" https://example.org/path ") == "https://example.org/path"
    assert service.clean_website("") is None
    for bad in ("javascript:alert(1)", "https://", "example.org", "https://exa mple.org"):
        with pytest.raises(ValueError, match="https://"):
            service.clean_website(bad)
