"""The rules of applications: submitting, the states, decisions and their e-mails."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.applications import service
from app.applications.models import Application, ApplicationMessage
from app.audit.models import AuditEvent
from app.auth import account_tokens
from app.auth.models import OidcIdentity
from app.kit.errors import NotFound, PermissionDenied
from app.kit.tokens import hash_token
from app.members.models import Member, MemberExpertise, MemberLanguage, member_organisation
from app.organisations.models import Organisation
from app.pages.service import PRIVACY_NOTICE_VERSION
from tests.applications.helpers import draft, outbox, secret_from, submit
from tests.factories import coordinator, member, organisation

# Submitting


def test_a_submitted_application_keeps_everything_and_only_the_links_hash(
    db_session: Session,
) -> None:
    application, secret = submit(db_session, email=" Maria@Example.ORG ", language="de")

    assert application.status == "submitted"
    assert application.email == "maria@example.org"
    assert application.full_name == "Maria Example"
    assert application.country == "PT"
    assert application.proposed_organisation_name == "Example Helpline"
    assert application.proposed_organisation_type == "ngo"
    assert application.expertise == ["helplines", "online_safety"]
    assert application.languages == ["pt", "en"]
    assert application.privacy_notice_version == PRIVACY_NOTICE_VERSION
    assert application.privacy_consented_at is not None
    assert application.language == "de"
    assert application.access_token_hash == hash_token(secret)
    assert secret not in application.access_token_hash


def test_the_applicant_gets_the_secret_link_in_their_language(db_session: Session) -> None:
    application, secret = submit(db_session, language="de")

    [mail] = outbox(db_session, to="maria@example.org")
    assert mail.language == "de"
    assert f"http://127.0.0.1:8000/applications/{secret}" in mail.body_text
    assert secret_from(mail.body_text) == secret
    assert service.by_secret(db_session, secret).id == application.id


def test_active_coordinators_of_the_country_and_the_network_are_told(
    db_session: Session,
) -> None:
    national = coordinator(["PT"], email="pt@example.org")
    network = coordinator(network=True, email="network@example.org")
    coordinator(["DE"], email="de@example.org")
    coordinator(["PT"], email="suspended@example.org", status="suspended")
    member(email="plain@example.org", country="PT")

    application, _secret = submit(db_session)

    recipients = {mail.recipient for mail in outbox(db_session)} - {"maria@example.org"}
    assert recipients == {national.email, network.email}
    [mail] = outbox(db_session, to=national.email)
    assert "Maria Example" in mail.subject
    assert f"/coordinate/applications/{application.id}" in mail.body_text


def test_an_existing_organisation_can_be_chosen(db_session: Session) -> None:
    employer = organisation(name="Helpline Portugal", country="PT")

    application, _secret = submit(
        db_session, organisation_id=employer.id, organisation_name="", organisation_type=""
    )

    assert application.organisation_id == employer.id
    assert application.proposed_organisation_name is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"full_name": "  "}, "full_name", "Enter your full name."),
        ({"full_name": "x" * 201}, "full_name", "at most 200 characters"),
        ({"email": ""}, "email", "Enter your e-mail address."),
        ({"email": "maria@"}, "email", "such as name@example.org"),
        ({"country": ""}, "country", "Choose your country."),
        ({"country": "XX"}, "country", "from the list"),
        ({"organisation_name": ""}, "organisation_id", "propose a new one below"),
        ({"organisation_id": 99999, "organisation_name": ""}, "organisation_id", "from the list"),
        ({"organisation_type": "club"}, "organisation_type", "type of the organisation"),
        ({"organisation_website": "helpline"}, "organisation_website", "https://"),
        ({"member_type": "spy"}, "member_type", "describes your work best"),
        ({"expertise": []}, "expertise", "at least one area"),
        ({"expertise": ["astrology"]}, "expertise", "from the list"),
        ({"languages": []}, "languages", "at least one language"),
        ({"languages": ["xx"]}, "languages", "from the list"),
        ({"motivation": " "}, "motivation", "why you would like to join"),
        ({"motivation": "x" * 5001}, "motivation", "5000 characters or fewer (it has 5001)"),
        ({"privacy_consent": False}, "privacy_consent", "agree to the privacy notice"),
    ],
)
def test_each_invalid_field_gets_its_own_message(
    db_session: Session, changes: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(service.InvalidApplication) as raised:
        submit(db_session, **changes)

    assert field in raised.value.errors
    assert message in raised.value.errors[field]
    assert db_session.scalars(select(Application)).all() == []
    assert outbox(db_session) == []


def test_choosing_and_proposing_an_organisation_at_once_is_refused(db_session: Session) -> None:
    employer = organisation(country="PT")

    with pytest.raises(service.InvalidApplication) as raised:
        submit(db_session, organisation_id=employer.id)

    assert "not both" in raised.value.errors["organisation_id"]


def test_the_email_of_a_member_cannot_apply(db_session: Session) -> None:
    member(email="maria@example.org")

    with pytest.raises(service.EmailInUse, match="A member already uses this e-mail address"):
        submit(db_session, email="MARIA@example.org")

    assert db_session.scalars(select(Application)).all() == []


def test_the_email_of_an_open_application_cannot_apply_again(db_session: Session) -> None:
    submit(db_session)

    with pytest.raises(service.EmailInUse, match="already being reviewed"):
        submit(db_session, full_name="Someone Else")

    assert len(db_session.scalars(select(Application)).all()) == 1


def test_after_a_rejection_the_person_may_apply_again(db_session: Session) -> None:
    decider = coordinator(["PT"])
    first, _secret = submit(db_session)
    service.decide(db_session, first.id, decider, "reject", "Not in the field of prevention.")

    second, _secret = submit(db_session)

    assert second.id != first.id
    assert second.status == "submitted"


# The applicant's link, answering and withdrawing


def test_an_unknown_link_is_not_found(db_session: Session) -> None:
    submit(db_session)

    with pytest.raises(NotFound, match="not valid or has been replaced"):
        service.by_secret(db_session, "not-the-secret")


def test_asking_for_information_sends_the_question_and_a_new_link(db_session: Session) -> None:
    decider = coordinator(["PT"], full_name="Carla Coordinator")
    application, old_secret = submit(db_session, language="fr")

    service.decide(db_session, application.id, decider, "request_info", "Which programmes?")

    assert application.status == "info_requested"
    assert application.decided_at is None
    mail = outbox(db_session, to="maria@example.org")[-1]
    assert mail.language == "fr"
    assert "Which programmes?" in mail.body_text
    new_secret = secret_from(mail.body_text)
    assert service.by_secret(db_session, new_secret).id == application.id
    with pytest.raises(NotFound):
        service.by_secret(db_session, old_secret)
    [question] = db_session.scalars(select(ApplicationMessage)).all()
    assert (question.kind, question.author_id, question.body) == (
        "info_request",
        decider.id,
        "Which programmes?",
    )


def test_the_answer_puts_the_application_back_in_the_queue(db_session: Session) -> None:
    decider = coordinator(network=True, email="asker@example.org")
    national = coordinator(["PT"], email="pt@example.org")
    coordinator(["DE"], email="de@example.org")
    application, _secret = submit(db_session)
    service.decide(db_session, application.id, decider, "request_info", "Which programmes?")
    before = len(outbox(db_session))

    service.answer(db_session, application, "  Stop It Now Portugal.  ")

    assert application.status == "submitted"
    kinds = [m.kind for m in db_session.scalars(select(ApplicationMessage))]
    assert kinds == ["info_request", "answer"]
    new_mails = outbox(db_session)[before:]
    assert {mail.recipient for mail in new_mails} == {
        "maria@example.org",
        national.email,
        decider.email,
    }
    to_coordinator = next(mail for mail in new_mails if mail.recipient == national.email)
    assert "Stop It Now Portugal." in to_coordinator.body_text


def test_an_answer_needs_a_question_and_some_text(db_session: Session) -> None:
    application, _secret = submit(db_session)

    with pytest.raises(service.ApplicationClosed):
        service.answer(db_session, application, "Nobody asked.")
    with pytest.raises(service.InvalidApplication) as raised:
        service.answer(db_session, application, " ")
    assert raised.value.errors == {"body": "Write your answer."}


def test_the_applicant_withdraws_once(db_session: Session) -> None:
    application, _secret = submit(db_session)

    service.withdraw(db_session, application)

    assert application.status == "withdrawn"
    assert "withdrawn" in outbox(db_session, to="maria@example.org")[-1].subject
    with pytest.raises(service.ApplicationClosed):
        service.withdraw(db_session, application)


# Decisions


def test_approval_creates_the_member_with_everything_the_application_said(
    db_session: Session,
) -> None:
    decider = coordinator(["PT"])
    application, _secret = submit(db_session)

    service.decide(db_session, application.id, decider, "approve", "")

    assert application.status == "approved"
    assert application.decided_by_id == decider.id
    assert application.decided_at is not None
    created = db_session.get(Member, application.member_id)
    assert created is not None
    assert (created.email, created.full_name, created.country, created.member_type) == (
        "maria@example.org",
        "Maria Example",
        "PT",
        "practitioner",
    )
    assert created.password_hash is None
    assert created.email_verified_at is None
    assert created.status == "active"
    areas = db_session.scalars(
        select(MemberExpertise.area).where(MemberExpertise.member_id == created.id)
    ).all()
    assert sorted(areas) == ["helplines", "online_safety"]
    languages = db_session.scalars(
        select(MemberLanguage.language).where(MemberLanguage.member_id == created.id)
    ).all()
    assert sorted(languages) == ["en", "pt"]
    proposed = db_session.scalars(
        select(Organisation).where(Organisation.name == "Example Helpline")
    ).one()
    assert (proposed.country, proposed.organisation_type, proposed.website) == (
        "PT",
        "ngo",
        "https://helpline.example",
    )
    linked = db_session.execute(
        select(member_organisation.c.organisation_id).where(
            member_organisation.c.member_id == created.id
        )
    ).scalars()
    assert list(linked) == [proposed.id]
    assert application.organisation_id == proposed.id


def test_approval_links_the_chosen_organisation(db_session: Session) -> None:
    decider = coordinator(["PT"])
    employer = organisation(name="Helpline Portugal", country="PT")
    application, _secret = submit(
        db_session, organisation_id=employer.id, organisation_name="", organisation_type=""
    )

    service.decide(db_session, application.id, decider, "approve", None)

    linked = db_session.execute(
        select(member_organisation.c.organisation_id).where(
            member_organisation.c.member_id == application.member_id
        )
    ).scalars()
    assert list(linked) == [employer.id]
    assert db_session.scalars(select(Organisation)).all() == [employer]


def test_approval_mails_a_working_set_password_link(db_session: Session) -> None:
    decider = coordinator(["PT"])
    application, _secret = submit(db_session, language="de")
    before = len(outbox(db_session, to="maria@example.org"))

    service.decide(db_session, application.id, decider, "approve", "Welcome aboard!")

    mails = outbox(db_session, to="maria@example.org")
    assert len(mails) == before + 1
    mail = mails[-1]
    assert mail.language == "de"
    assert "Welcome aboard!" in mail.body_text
    secret = secret_from(mail.body_text, "/account/set-password/")
    _token, new_member = account_tokens.check(db_session, secret, "set_password")
    assert new_member.id == application.member_id
    assert "sign in with" not in mail.body_text


def test_approval_of_a_single_sign_on_applicant_links_the_identity(db_session: Session) -> None:
    decider = coordinator(["PT"])
    identity = service.SsoIdentity(
        provider="orcid", subject="0000-0002-1825-0097", email="maria@example.org", name="Maria"
    )
    application, _secret = submit(db_session, sso=identity)
    assert (application.oidc_provider, application.oidc_subject) == (
        "orcid",
        "0000-0002-1825-0097",
    )

    service.decide(db_session, application.id, decider, "approve", "")

    linked = db_session.scalars(select(OidcIdentity)).one()
    assert (linked.member_id, linked.provider, linked.subject, linked.email) == (
        application.member_id,
        "orcid",
        "0000-0002-1825-0097",
        "maria@example.org",
    )
    assert "sign in with orcid" in outbox(db_session, to="maria@example.org")[-1].body_text


def test_rejection_needs_a_reason_which_the_applicant_receives(db_session: Session) -> None:
    decider = coordinator(["PT"])
    application, _secret = submit(db_session)

    with pytest.raises(service.InvalidDecision) as raised:
        service.decide(db_session, application.id, decider, "reject", "  ")
    assert "reason" in raised.value.errors["message"]
    assert application.status == "submitted"

    service.decide(db_session, application.id, decider, "reject", "Outside the network's field.")

    assert application.status == "rejected"
    assert application.decision_reason == "Outside the network's field."
    mail = outbox(db_session, to="maria@example.org")[-1]
    assert "Outside the network's field." in mail.body_text
    assert application.member_id is None
    assert db_session.scalars(select(Member).where(Member.email == "maria@example.org")).all() == []


def test_asking_for_information_needs_a_question(db_session: Session) -> None:
    decider = coordinator(["PT"])
    application, _secret = submit(db_session)

    with pytest.raises(service.InvalidDecision) as raised:
        service.decide(db_session, application.id, decider, "request_info", "")

    assert "would like to know" in raised.value.errors["message"]


def test_an_unknown_decision_is_refused(db_session: Session) -> None:
    application, _secret = submit(db_session)

    with pytest.raises(service.InvalidDecision) as raised:
        service.decide(db_session, application.id, coordinator(["PT"]), "maybe", "")

    assert raised.value.errors == {"decision": "Choose a decision."}


@pytest.mark.parametrize(
    ("decision", "message"),
    [("approve", ""), ("reject", "No."), ("request_info", "Why?")],
)
def test_every_decision_is_in_the_audit_log(
    db_session: Session, decision: str, message: str
) -> None:
    decider = coordinator(["PT"], full_name="Carla Coordinator")
    application, _secret = submit(db_session)

    service.decide(db_session, application.id, decider, decision, message)

    event = db_session.scalars(select(AuditEvent)).one()
    assert event.action == f"application.{decision}"
    assert (event.actor_id, event.actor_label) == (decider.id, "Carla Coordinator")
    assert (event.subject_type, event.subject_id, event.country) == (
        "application",
        application.id,
        "PT",
    )
    assert event.before == {"status": "submitted"}
    assert event.after is not None
    assert event.after["status"] == application.status
    assert event.reason == (message or None)


def test_a_national_coordinator_of_another_country_may_not_decide(db_session: Session) -> None:
    application, _secret = submit(db_session)
    before = len(outbox(db_session))

    with pytest.raises(PermissionDenied):
        service.decide(db_session, application.id, coordinator(["DE"]), "approve", "")

    assert application.status == "submitted"
    assert len(outbox(db_session)) == before


def test_a_network_coordinator_may_decide_anywhere(db_session: Session) -> None:
    application, _secret = submit(db_session)

    service.decide(db_session, application.id, coordinator(network=True), "approve", "")

    assert application.status == "approved"


def test_a_plain_member_may_not_decide(db_session: Session) -> None:
    application, _secret = submit(db_session)

    with pytest.raises(PermissionDenied):
        service.decide(db_session, application.id, member(country="PT"), "approve", "")


def test_an_unknown_application_is_not_found(db_session: Session) -> None:
    with pytest.raises(NotFound):
        service.decide(db_session, 4242, coordinator(["PT"]), "approve", "")


@pytest.mark.parametrize("second", ["approve", "reject", "request_info"])
def test_the_second_of_two_decisions_is_refused_and_sends_nothing(
    db_session: Session, second: str
) -> None:
    first_coordinator = coordinator(["PT"], full_name="Carla First")
    second_coordinator = coordinator(network=True, full_name="Nuno Second")
    application, _secret = submit(db_session)
    service.decide(db_session, application.id, first_coordinator, "approve", "")
    applicant_mails = len(outbox(db_session, to="maria@example.org"))
    all_mails = len(outbox(db_session))

    with pytest.raises(service.AlreadyDecided, match="already decided by Carla First at"):
        service.decide(db_session, application.id, second_coordinator, second, "A message")

    assert applicant_mails == 2  # received, then approved: exactly one per decision
    assert len(outbox(db_session)) == all_mails
    assert application.status == "approved"
    assert application.decided_by_id == first_coordinator.id
    assert db_session.scalars(select(Member).where(Member.email == "maria@example.org")).one()
    assert len(db_session.scalars(select(AuditEvent)).all()) == 1


def test_a_decision_made_elsewhere_meanwhile_wins(db_session: Session) -> None:
    """The second coordinator's copy of the application is stale when they decide."""
    first_coordinator = coordinator(["PT"], full_name="Carla First")
    second_coordinator = coordinator(["PT"])
    application, _secret = submit(db_session)
    stale = db_session.get(Application, application.id)
    assert stale is not None
    assert stale.status == "submitted"
    # The first decision lands in the database behind the session's back.
    db_session.execute(
        update(Application)
        .where(Application.id == application.id)
        .values(status="rejected", decided_by_id=first_coordinator.id, decided_at=stale.created_at)
        .execution_options(synchronize_session=False)
    )

    with pytest.raises(service.AlreadyDecided, match="Carla First"):
        service.decide(db_session, application.id, second_coordinator, "reject", "Also no.")

    assert outbox(db_session, to="maria@example.org")[-1].subject.startswith("We have received")


def test_a_second_question_waits_for_the_answer(db_session: Session) -> None:
    first = coordinator(["PT"], full_name="Carla First")
    application, _secret = submit(db_session)
    service.decide(db_session, application.id, first, "request_info", "Which programmes?")

    with pytest.raises(service.AlreadyDecided, match="already requested by Carla First"):
        service.decide(db_session, application.id, coordinator(["PT"]), "request_info", "More?")


def test_a_withdrawn_application_cannot_be_decided(db_session: Session) -> None:
    application, _secret = submit(db_session)
    service.withdraw(db_session, application)

    with pytest.raises(service.AlreadyDecided, match="withdrawn"):
        service.decide(db_session, application.id, coordinator(["PT"]), "approve", "")


def test_approval_is_refused_when_the_email_became_a_members(db_session: Session) -> None:
    application, _secret = submit(db_session)
    member(email="maria@example.org")
    before = len(outbox(db_session))

    with pytest.raises(service.ApplicantAlreadyMember, match=r"maria@example\.org"):
        service.decide(db_session, application.id, coordinator(["PT"]), "approve", "")

    assert application.status == "submitted"
    assert len(outbox(db_session)) == before


# The queue


def _application_in(db_session: Session, country: str, email: str, **overrides: Any) -> Application:
    application, _secret = submit(db_session, country=country, email=email, **overrides)
    return application


def test_the_queue_holds_my_countries_open_applications_oldest_first(
    db_session: Session,
) -> None:
    portuguese = _application_in(db_session, "PT", "a@example.org")
    spanish = _application_in(db_session, "ES", "b@example.org")
    _application_in(db_session, "DE", "c@example.org")
    later = _application_in(db_session, "PT", "d@example.org")
    service.withdraw(db_session, later)
    national = coordinator(["PT", "ES"])

    page = service.queue(db_session, national)

    assert [row.application.id for row in page.items] == [portuguese.id, spanish.id]
    assert page.total == 2
    assert [r.application.id for r in service.queue(db_session, national, country="ES").items] == [
        spanish.id
    ]
    assert [r.application.id for r in service.queue(db_session, national, status="all").items] == [
        portuguese.id,
        spanish.id,
        later.id,
    ]


def test_a_network_coordinator_sees_every_country(db_session: Session) -> None:
    for index, country in enumerate(("PT", "DE", "FI")):
        _application_in(db_session, country, f"n{index}@example.org")

    assert service.queue(db_session, coordinator(network=True)).total == 3
    assert service.open_counts(db_session, coordinator(network=True)) == {
        "submitted": 3,
        "info_requested": 0,
    }
    assert service.open_counts(db_session, coordinator(["FI"])) == {
        "submitted": 1,
        "info_requested": 0,
    }


def test_the_queue_is_paginated(db_session: Session) -> None:
    emails = [f"p{index}@example.org" for index in range(5)]
    for email in emails:
        _application_in(db_session, "PT", email)
    national = coordinator(["PT"])

    second = service.queue(db_session, national, page=2, per_page=2)

    assert [row.application.email for row in second.items] == emails[2:4]
    assert (second.total, second.pages) == (5, 3)


def test_the_queue_shows_the_organisation_name(db_session: Session) -> None:
    employer = organisation(name="Helpline Portugal", country="PT")
    _application_in(
        db_session,
        "PT",
        "x@example.org",
        organisation_id=employer.id,
        organisation_name="",
        organisation_type="",
    )
    _application_in(db_session, "PT", "y@example.org", organisation_name="New Place")

    rows = service.queue(db_session, coordinator(["PT"])).items

    assert [row.organisation_name for row in rows] == ["Helpline Portugal", "New Place"]


def test_draft_defaults_are_not_valid(db_session: Session) -> None:
    errors = service.validate(db_session, service.ApplicationDraft())

    assert set(errors) == {
        "full_name",
        "email",
        "country",
        "organisation_id",
        "member_type",
        "expertise",
        "languages",
        "motivation",
        "privacy_consent",
    }
    assert draft().privacy_consent is True


def test_a_proposed_organisation_that_exists_already_is_reused(db_session: Session) -> None:
    existing = organisation(name="Example Helpline", country="PT", organisation_type="ngo")
    application, _secret = submit(db_session)  # proposes "Example Helpline" in Portugal

    service.decide(db_session, application.id, coordinator(["PT"]), "approve", "")

    assert db_session.scalars(select(Organisation)).all() == [existing]
    assert application.organisation_id == existing.id
    event = db_session.scalars(select(AuditEvent)).one()
    assert event.after is not None
    assert event.after["organisation_created"] is False


def test_the_database_refuses_a_second_open_application_for_an_email(
    db_session: Session,
) -> None:
    """What settles two submissions that pass the check at the same moment."""
    application, _secret = submit(db_session)
    twin = Application(
        **{
            column.key: getattr(application, column.key)
            for column in Application.__table__.columns
            if column.key not in ("id", "access_token_hash")
        },
        access_token_hash=hash_token("another secret"),
    )

    nested = db_session.begin_nested()
    db_session.add(twin)
    with pytest.raises(IntegrityError):
        db_session.flush()
    nested.rollback()

    service.withdraw(db_session, application)
    closed_twin = Application(
        **{
            column.key: getattr(application, column.key)
            for column in Application.__table__.columns
            if column.key not in ("id", "access_token_hash", "status")
        },
        status="submitted",
        access_token_hash=hash_token("a third secret"),
    )
    db_session.add(closed_twin)
    db_session.flush()  # a withdrawn application does not count
