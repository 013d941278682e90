"""The application pages: the public form, the applicant's page and the coordinators' side."""

from __future__ import annotations

import re

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.applications import service
from app.applications.models import Application
from app.members.models import Member
from tests.applications.helpers import form_data, outbox, secret_from, set_session, submit
from tests.conftest import PortalClient
from tests.factories import coordinator, member, organisation

# The public form


def test_the_form_has_every_field_with_a_label(client: PortalClient) -> None:
    html = client.get("/apply").text

    for name, label in [
        ("full_name", "Full name"),
        ("email", "E-mail address"),
        ("country", "Country where you work"),
        ("organisation_id", "Organisation"),
        ("organisation_name", "Name of the organisation"),
        ("organisation_type", "Type of organisation"),
        ("organisation_website", "Website (optional)"),
        ("motivation", "Why would you like to join?"),
    ]:
        assert f'<label for="{name}">{label}</label>' in html
    assert 'id="member_type-practitioner"' in html
    assert 'id="expertise-helplines"' in html
    assert 'id="languages-pt"' in html
    assert 'name="privacy_consent"' in html
    assert re.search(r'href="[^"]*/privacy">Read the privacy notice</a>', html)
    assert 'name="csrf_token"' in html
    assert "<h1>Apply to join the network</h1>" in html


def test_the_form_lists_organisations_grouped_by_country(client: PortalClient) -> None:
    organisation(name="Helpline Portugal", country="PT")
    organisation(name="Hilfetelefon", country="DE")

    html = client.get("/apply?country=PT").text

    assert html.index('<optgroup label="Portugal">') < html.index('<optgroup label="Germany">')
    assert "Helpline Portugal" in html
    assert "Hilfetelefon" in html
    assert '<option value="PT" selected>' in html


def test_htmx_refreshes_the_organisations_for_the_chosen_country(client: PortalClient) -> None:
    local = organisation(name="Helpline Portugal", country="PT")
    organisation(name="Hilfetelefon", country="DE")

    response = client.get(
        f"/apply/organisations?country=PT&organisation_id={local.id}",
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div class="field" id="organisation-select">')
    assert "<html" not in response.text
    assert f'<option value="{local.id}" selected>Helpline Portugal</option>' in response.text
    assert response.text.index("Portugal") < response.text.index("Hilfetelefon")
    without_js = client.get("/apply/organisations?country=PT", follow_redirects=False)
    assert without_js.status_code == 303
    assert without_js.headers["location"] == "/apply?country=PT"


def test_a_valid_application_is_stored_and_the_applicant_told_where_to_look(
    client: PortalClient, db_session: Session
) -> None:
    response = client.post_form("/apply", form_data(), follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/apply/submitted"
    application = db_session.scalars(select(Application)).one()
    assert application.email == "maria@example.org"
    assert application.expertise == ["helplines", "online_safety"]
    thanks = client.get("/apply/submitted").text
    assert "We have sent an e-mail to maria@example.org" in thanks
    assert "maria@example.org" not in client.get("/apply/submitted").text


def test_the_application_is_in_the_language_of_the_page(
    client: PortalClient, db_session: Session
) -> None:
    client.cookies.set("portal_lang", "fr")

    client.post_form("/apply", form_data(), follow_redirects=False)

    application = db_session.scalars(select(Application)).one()
    assert application.language == "fr"
    assert outbox(db_session, to="maria@example.org")[0].language == "fr"


def test_errors_are_shown_at_each_field_and_the_input_is_kept(
    client: PortalClient, db_session: Session
) -> None:
    response = client.post_form(
        "/apply",
        form_data(
            full_name="",
            email="maria@",
            expertise=[],
            motivation="<b>Keep me</b>",
            privacy_consent="",
            organisation_website="helpline",
        ),
    )
    html = response.text

    assert response.status_code == 422
    assert 'id="full_name-error"' in html
    assert "Enter your full name." in html
    assert 'aria-describedby="email-hint email-error"' in html
    assert 'aria-invalid="true"' in html
    assert 'id="expertise-error"' in html
    assert 'id="privacy_consent-error"' in html
    assert 'id="organisation_website-error"' in html
    assert 'value="maria@"' in html
    assert "&lt;b&gt;Keep me&lt;/b&gt;</textarea>" in html
    assert re.search(r'id="languages-pt"[^>]*checked', html)
    assert re.search(r'id="member_type-practitioner"[^>]*checked', html)
    assert 'value="Example Helpline"' in html
    assert 'href="#full_name"' in html  # the error summary links to the field
    assert db_session.scalars(select(Application)).all() == []


def test_an_existing_organisation_stays_chosen_after_an_error(client: PortalClient) -> None:
    local = organisation(name="Helpline Portugal", country="PT")

    html = client.post_form(
        "/apply",
        form_data(organisation_id=str(local.id), organisation_name="", motivation=""),
    ).text

    assert f'<option value="{local.id}" selected>' in html


def test_the_email_of_a_member_gets_a_message_at_the_email_field(
    client: PortalClient, db_session: Session
) -> None:
    member(email="maria@example.org")

    response = client.post_form("/apply", form_data(email="Maria@Example.org"))

    assert response.status_code == 422
    error = re.search(r'<p class="field__error" id="email-error">([^<]+)</p>', response.text)
    assert error is not None
    assert "A member already uses this e-mail address" in error.group(1)
    assert db_session.scalars(select(Application)).all() == []
    assert outbox(db_session) == []


def test_the_email_of_an_open_application_gets_a_message(
    client: PortalClient, db_session: Session
) -> None:
    submit(db_session)

    response = client.post_form("/apply", form_data())

    assert response.status_code == 422
    assert "already being reviewed" in response.text
    assert len(db_session.scalars(select(Application)).all()) == 1


def test_single_sign_on_prefills_the_form_and_is_stored(
    client: PortalClient, db_session: Session
) -> None:
    set_session(
        client,
        {
            "oidc_application": {
                "provider": "orcid",
                "subject": "0000-0002-1825-0097",
                "email": "maria.sso@example.org",
                "name": "Maria From Orcid",
            }
        },
    )

    html = client.get("/apply").text
    assert "You signed in with orcid; complete your application." in html
    assert 'value="Maria From Orcid"' in html
    assert 'value="maria.sso@example.org"' in html

    response = client.post_form(
        "/apply",
        form_data(full_name="Maria From Orcid", email="maria.sso@example.org"),
        follow_redirects=False,
    )

    assert response.status_code == 303
    application = db_session.scalars(select(Application)).one()
    assert (application.oidc_provider, application.oidc_subject) == (
        "orcid",
        "0000-0002-1825-0097",
    )
    assert "You signed in with" not in client.get("/apply").text


# The applicant's page


def test_the_applicant_follows_the_application_through_the_link(
    client: PortalClient, db_session: Session
) -> None:
    _application, secret = submit(db_session)

    html = client.get(f"/applications/{secret}").text

    assert "<h1>Your application</h1>" in html
    assert "Waiting for a coordinator" in html
    assert "Example Helpline" in html
    assert "Withdraw my application" in html
    assert 'name="body"' not in html  # no question, nothing to answer
    assert client.get("/applications/not-the-secret").status_code == 404


def test_the_applicant_answers_a_question(client: PortalClient, db_session: Session) -> None:
    decider = coordinator(["PT"], email="pt@example.org")
    application, _secret = submit(db_session)
    service.decide(db_session, application.id, decider, "request_info", "Which programmes?")
    secret = secret_from(outbox(db_session, to="maria@example.org")[-1].body_text)

    page = client.get(f"/applications/{secret}").text
    assert "Which programmes?" in page
    assert "from a coordinator" in page
    assert '<label for="body">Answer to the coordinator</label>' in page

    empty = client.post_form(f"/applications/{secret}/answer", {"body": " "})
    assert empty.status_code == 422
    assert 'id="body-error"' in empty.text

    response = client.post_form(
        f"/applications/{secret}/answer", {"body": "Stop It Now."}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/applications/{secret}?done=answered"
    db_session.refresh(application)
    assert application.status == "submitted"
    answered = client.get(response.headers["location"]).text
    assert "your answer has been sent" in answered
    assert "Stop It Now." in answered
    assert any(mail.recipient == "pt@example.org" for mail in outbox(db_session))

    again = client.post_form(f"/applications/{secret}/answer", {"body": "More."})
    assert again.status_code == 409
    assert "no question waiting" in again.text


def test_the_applicant_withdraws(client: PortalClient, db_session: Session) -> None:
    application, secret = submit(db_session)

    response = client.post_form(f"/applications/{secret}/withdraw", {}, follow_redirects=False)

    assert response.status_code == 303
    db_session.refresh(application)
    assert application.status == "withdrawn"
    page = client.get(f"/applications/{secret}?done=withdrawn").text
    assert "You have withdrawn your application" in page
    assert "Withdraw my application" not in page
    assert client.post_form(f"/applications/{secret}/withdraw", {}).status_code == 409


# Coordinators


def test_the_coordinator_pages_need_a_signed_in_coordinator(
    client: PortalClient, db_session: Session
) -> None:
    application, _secret = submit(db_session)
    plain_member = member(country="PT")
    db_session.commit()  # a refused request rolls back its transaction
    paths = [
        "/coordinate",
        "/coordinate/applications",
        f"/coordinate/applications/{application.id}",
    ]

    for path in paths:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/sign-in?next=")

    client.sign_in_as(db_session, plain_member)
    db_session.commit()
    for path in paths:
        assert client.get(path).status_code == 403


def test_a_coordinator_without_two_factor_is_sent_to_set_it_up(
    client: PortalClient, db_session: Session
) -> None:
    client.sign_in_as(db_session, coordinator(["PT"], totp_secret=None, totp_enabled_at=None))

    response = client.get("/coordinate/applications", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/account/security/two-factor"


def test_the_dashboard_counts_what_waits_in_my_countries(
    client: PortalClient, db_session: Session
) -> None:
    decider = coordinator(["PT"])
    first, _secret = submit(db_session, email="a@example.org")
    submit(db_session, email="b@example.org")
    submit(db_session, email="c@example.org", country="DE")
    service.decide(db_session, first.id, decider, "request_info", "Why?")
    client.sign_in_as(db_session, decider)

    html = client.get("/coordinate").text

    counts = re.findall(r"<dd>(\d+)</dd>", html)
    assert counts == ["1", "1"]
    assert "You coordinate: Portugal." in html
    assert "Open the application queue (2 open)" in html
    for link in ("/coordinate/applications", "/coordinate/members", "/coordinate/organisations"):
        assert f'href="{link}' in html
    assert 'href="/coordinate/audit"' in html


def test_the_queue_shows_only_my_countries(client: PortalClient, db_session: Session) -> None:
    submit(db_session, email="a@example.org", full_name="Ana Portuguesa")
    submit(db_session, email="b@example.org", country="DE", full_name="Berta Deutsch")
    client.sign_in_as(db_session, coordinator(["PT"]))

    html = client.get("/coordinate/applications").text

    assert "Ana Portuguesa" in html
    assert "Berta Deutsch" not in html
    assert "1 application" in html
    # A country outside my scope in the filter is ignored, not obeyed.
    assert "Berta Deutsch" not in client.get("/coordinate/applications?country=DE").text


def test_the_queue_filters_by_status_and_country(client: PortalClient, db_session: Session) -> None:
    first, _secret = submit(db_session, email="a@example.org", full_name="Ana Portuguesa")
    submit(db_session, email="b@example.org", country="DE", full_name="Berta Deutsch")
    service.withdraw(db_session, first)
    client.sign_in_as(db_session, coordinator(network=True))

    open_ones = client.get("/coordinate/applications").text
    assert "Berta Deutsch" in open_ones
    assert "Ana Portuguesa" not in open_ones
    withdrawn = client.get("/coordinate/applications?status=withdrawn").text
    assert "Ana Portuguesa" in withdrawn
    assert "Berta Deutsch" not in withdrawn
    german = client.get("/coordinate/applications?status=all&country=DE").text
    assert "Berta Deutsch" in german
    assert "Ana Portuguesa" not in german


def test_the_queue_is_paginated(client: PortalClient, db_session: Session) -> None:
    for index in range(27):
        submit(db_session, email=f"p{index}@example.org", full_name=f"Person {index:02d}")
    client.sign_in_as(db_session, coordinator(["PT"]))

    first = client.get("/coordinate/applications").text
    second = client.get("/coordinate/applications?status=open&page=2").text

    assert "Person 00" in first
    assert "Person 25" not in first
    assert "Person 25" in second
    assert 'href="?status=open&amp;page=2"' in first
    assert "Page 2 of 2" in second


def test_the_detail_page_shows_everything_and_the_decision_form(
    client: PortalClient, db_session: Session
) -> None:
    application, _secret = submit(db_session)
    client.sign_in_as(db_session, coordinator(["PT"]))

    html = client.get(f"/coordinate/applications/{application.id}").text

    assert "<h1>Application from Maria Example</h1>" in html
    for text in (
        "maria@example.org",
        "Portugal",
        "Example Helpline",
        "https://helpline.example",
        "Practitioner",
        "Helplines and anonymous support",
        "I run a helpline",
    ):
        assert text in html
    assert 'id="decision-approve"' in html
    assert '<label for="message">Message to the applicant</label>' in html


def test_a_national_coordinator_of_another_country_gets_403(
    client: PortalClient, db_session: Session
) -> None:
    application, _secret = submit(db_session)
    client.sign_in_as(db_session, coordinator(["DE"]))
    db_session.commit()  # a refused request rolls back its transaction

    assert client.get(f"/coordinate/applications/{application.id}").status_code == 403
    response = client.post_form(
        f"/coordinate/applications/{application.id}/decision", {"decision": "approve"}
    )

    assert response.status_code == 403
    db_session.refresh(application)
    assert application.status == "submitted"


def test_a_coordinator_approves_through_the_form(client: PortalClient, db_session: Session) -> None:
    application, _secret = submit(db_session)
    client.sign_in_as(db_session, coordinator(["PT"]))

    response = client.post_form(
        f"/coordinate/applications/{application.id}/decision",
        {"decision": "approve", "message": ""},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/coordinate/applications/{application.id}?done=approve"
    db_session.refresh(application)
    assert application.status == "approved"
    page = client.get(response.headers["location"]).text
    assert "Approved: the member account exists" in page
    assert 'id="decision-approve"' not in page
    assert db_session.scalars(select(Member).where(Member.email == "maria@example.org")).one()


def test_a_rejection_without_reason_comes_back_with_the_message_at_the_field(
    client: PortalClient, db_session: Session
) -> None:
    application, _secret = submit(db_session)
    client.sign_in_as(db_session, coordinator(["PT"]))

    response = client.post_form(
        f"/coordinate/applications/{application.id}/decision", {"decision": "reject"}
    )

    assert response.status_code == 422
    assert 'id="message-error"' in response.text
    assert re.search(r'id="decision-reject"[^>]*checked', response.text)


def test_the_second_decision_gets_a_notice_and_no_mail(
    client: PortalClient, db_session: Session
) -> None:
    first = coordinator(["PT"], full_name="Carla First")
    application, _secret = submit(db_session)
    service.decide(db_session, application.id, first, "reject", "Not our field.")
    mails = len(outbox(db_session))
    client.sign_in_as(db_session, coordinator(["PT"]))

    response = client.post_form(
        f"/coordinate/applications/{application.id}/decision",
        {"decision": "approve", "message": ""},
    )

    assert response.status_code == 409
    assert "This application was already decided by Carla First at" in response.text
    assert len(outbox(db_session)) == mails


def test_approving_an_email_that_became_a_members_is_refused_on_the_page(
    client: PortalClient, db_session: Session
) -> None:
    application, _secret = submit(db_session)
    member(email="maria@example.org")
    client.sign_in_as(db_session, coordinator(["PT"]))

    assert "already exists" in client.get(f"/coordinate/applications/{application.id}").text
    response = client.post_form(
        f"/coordinate/applications/{application.id}/decision", {"decision": "approve"}
    )

    assert response.status_code == 409
    assert "would make a second account" in response.text
    db_session.refresh(application)
    assert application.status == "submitted"


def test_the_queue_and_the_detail_page_query_the_applications_twice_at_most(
    client: PortalClient, db_session: Session
) -> None:
    """No query per row or per message: the count stays the same however much there is."""
    decider = coordinator(["PT"])
    for index in range(12):
        application, _secret = submit(
            db_session, email=f"q{index}@example.org", organisation_name=f"Place {index}"
        )
    service.decide(db_session, application.id, decider, "request_info", "Why?")
    client.sign_in_as(db_session, decider)
    db_session.commit()
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    engine = db_session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        counts = {}
        for path in ("/coordinate/applications", f"/coordinate/applications/{application.id}"):
            statements.clear()
            assert client.get(path).status_code == 200
            counts[path] = len([s for s in statements if "application" in s])
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert counts == {
        "/coordinate/applications": 1,  # one page of them, counted in the same query
        f"/coordinate/applications/{application.id}": 2,  # the application, its thread
    }


def test_an_organisation_id_too_large_to_exist_is_a_message_at_the_field(
    client: PortalClient,
) -> None:
    response = client.post_form(
        "/apply",
        form_data(organisation_id="99999999999999999999999", organisation_name=""),
    )

    assert response.status_code == 422
    assert 'id="organisation_id-error"' in response.text
    assert "Choose an organisation from the list." in response.text
    assert "I run a helpline and would like to share what we learn." in response.text
