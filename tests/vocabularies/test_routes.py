"""The coordinators' curation pages: who may use them, the forms, and what they change."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.vocabularies import service
from tests.conftest import PortalClient
from tests.factories import admin, coordinator, member

NEW_TERM = {
    "code": "youth_club",
    "label_en": "Youth clubs",
    "label_de": "Jugendclubs",
    "label_fr": "Clubs de jeunes",
}
PAGES = [
    "/coordinate/vocabularies",
    "/coordinate/vocabularies/settings",
    "/coordinate/vocabularies/settings/terms/faith",
]
ACTIONS = [
    ("/coordinate/vocabularies/settings/terms", NEW_TERM),
    ("/coordinate/vocabularies/settings/terms/faith", {**NEW_TERM, "label_en": "Faith"}),
    ("/coordinate/vocabularies/settings/terms/faith/retire", {}),
    ("/coordinate/vocabularies/settings/terms/faith/reinstate", {}),
]


def events(session: Session, action: str) -> list[AuditEvent]:
    statement = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(session.scalars(statement))


def row_of(html: str, code: str) -> str:
    start = html.index(f'id="term-{code}"')
    return html[start : html.index("</tr>", start)]


def error_at(html: str, field: str) -> str:
    match = re.search(rf'<p class="field__error" id="{field}-error">([^<]*)</p>', html)
    assert match, f"no error at {field}"
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', html, re.S)
    assert re.search(rf'id="{field}"[^>]*aria-describedby="[^"]*{field}-error', html, re.S)
    return match.group(1)


# Who may curate ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client: PortalClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == f"/sign-in?next={path.replace('/', '%2F')}"


@pytest.mark.parametrize(("path", "data"), ACTIONS)
def test_anonymous_visitors_change_nothing(
    client: PortalClient, db_session: Session, path: str, data: dict[str, str]
) -> None:
    response = client.post_form(path, data, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in")
    assert service.snapshot(db_session).term("settings", "youth_club") is None
    assert db_session.scalars(select(AuditEvent)).first() is None


@pytest.mark.parametrize("path", PAGES)
def test_members_are_refused(client: PortalClient, db_session: Session, path: str) -> None:
    client.sign_in_as(db_session, member())
    db_session.commit()

    assert client.get(path).status_code == 403


@pytest.mark.parametrize(("path", "data"), ACTIONS)
def test_members_cannot_curate(
    client: PortalClient, db_session: Session, path: str, data: dict[str, str]
) -> None:
    client.sign_in_as(db_session, member())
    db_session.commit()

    response = client.post_form(path, data)

    assert response.status_code == 403
    service.forget(db_session)
    assert service.snapshot(db_session).term("settings", "youth_club") is None
    assert db_session.scalars(select(AuditEvent)).first() is None


def test_a_coordinator_without_two_factor_is_sent_to_set_it_up(
    client: PortalClient, db_session: Session
) -> None:
    client.sign_in_as(db_session, coordinator(["PT"], totp_secret=None, totp_enabled_at=None))

    response = client.get("/coordinate/vocabularies", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/account/security/two-factor"


def test_a_lapsed_coordinator_is_sent_to_renew(client: PortalClient, db_session: Session) -> None:
    client.sign_in_as(db_session, coordinator(["PT"], status="lapsed"))

    response = client.get("/coordinate/vocabularies", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/account/membership"


@pytest.mark.parametrize("who", ["national", "network", "admin"])
def test_every_coordinator_curates(client: PortalClient, db_session: Session, who: str) -> None:
    if who == "national":
        viewer = coordinator(["PT"])
    elif who == "network":
        viewer = coordinator(network=True)
    else:
        viewer = admin()
    client.sign_in_as(db_session, viewer)

    for path in PAGES:
        assert client.get(path).status_code == 200, path
    response = client.post_form("/coordinate/vocabularies/settings/terms", NEW_TERM)
    assert response.status_code == 200
    assert "youth_club" in response.text


# The pages ------------------------------------------------------------------------------


def test_the_list_shows_every_vocabulary_with_its_counts(
    client: PortalClient, db_session: Session
) -> None:
    curator = coordinator(["PT"])
    service.retire_term(db_session, curator, "settings", "faith")
    client.sign_in_as(db_session, curator)

    html = client.get("/coordinate/vocabularies").text

    assert "<h1>Vocabularies</h1>" in html
    for name in ("target_groups", "target_subgroups", "prevention_level", "settings",
                 "delivery", "abuse_addressed", "countries", "languages"):  # fmt: skip
        assert f'href="/coordinate/vocabularies/{name}"' in html
    settings_row = html[html.index('href="/coordinate/vocabularies/settings"') :]
    settings_row = settings_row[: settings_row.index("</tr>")]
    assert re.findall(r'class="table__num">(\d+)<', settings_row) == ["8", "1"]


def test_the_dashboard_links_to_the_vocabularies(client: PortalClient, db_session: Session) -> None:
    client.sign_in_as(db_session, coordinator(["PT"]))

    assert 'href="/coordinate/vocabularies"' in client.get("/coordinate").text


def test_a_vocabulary_page_shows_codes_labels_status_and_actions(
    client: PortalClient, db_session: Session
) -> None:
    curator = coordinator(["PT"])
    service.retire_term(db_session, curator, "settings", "faith")
    client.sign_in_as(db_session, curator)

    html = client.get("/coordinate/vocabularies/settings").text

    school = row_of(html, "school")
    assert "<code>school</code>" in school
    assert '<th scope="row">School</th>' in school
    assert 'lang="de">' in school
    assert 'lang="fr">' in school
    assert "Offered" in school
    assert "/coordinate/vocabularies/settings/terms/school/retire" in school
    assert 'href="/coordinate/vocabularies/settings/terms/school"' in school
    faith = row_of(html, "faith")
    assert "Retired" in faith
    assert "/coordinate/vocabularies/settings/terms/faith/reinstate" in faith
    assert "/retire" not in faith
    # No target group column outside the subgroups, and no parent field in the form.
    assert "parent_code" not in html


def test_the_subgroups_page_shows_each_subgroups_target_group(
    client: PortalClient, db_session: Session
) -> None:
    client.sign_in_as(db_session, coordinator(["PT"]))

    html = client.get("/coordinate/vocabularies/target_subgroups").text

    assert "Schools and educators" in row_of(html, "teachers")
    assert '<select id="parent_code" name="parent_code"' in html
    # Subgroups are listed under their group, in the groups' order.
    assert html.index('id="term-help_seekers"') < html.index('id="term-parents"')
    assert html.index('id="term-families"') < html.index('id="term-teachers"')


def test_the_page_is_in_the_readers_language(client: PortalClient, db_session: Session) -> None:
    client.sign_in_as(db_session, coordinator(["PT"]))

    html = client.get("/coordinate/vocabularies/countries?lang=de").text

    assert '<th scope="row">Deutschland</th>' in row_of(html, "DE")
    assert 'lang="en">Germany<' in row_of(html, "DE")
    assert 'lang="de">' not in row_of(html, "DE")


def test_an_unknown_vocabulary_or_term_is_404(client: PortalClient, db_session: Session) -> None:
    client.sign_in_as(db_session, coordinator(["PT"]))
    db_session.commit()

    assert client.get("/coordinate/vocabularies/colours").status_code == 404
    assert client.get("/coordinate/vocabularies/settings/terms/moon").status_code == 404
    assert client.post_form("/coordinate/vocabularies/colours/terms", NEW_TERM).status_code == 404
    retire = client.post_form("/coordinate/vocabularies/settings/terms/moon/retire", {})
    assert retire.status_code == 404


def test_htmx_gets_only_the_content(client: PortalClient, db_session: Session) -> None:
    client.sign_in_as(db_session, coordinator(["PT"]))

    response = client.get("/coordinate/vocabularies/settings", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="term-school"' in response.text
    assert response.headers["vary"].startswith("HX-Request")


@pytest.mark.parametrize(
    "path", ["/coordinate/vocabularies", "/coordinate/vocabularies/target_subgroups"]
)
def test_the_pages_need_few_queries(client: PortalClient, db_session: Session, path: str) -> None:
    client.sign_in_as(db_session, coordinator(["PT"]))
    client.get("/")
    service.forget(db_session)  # as in a new request, the terms are read again
    statements: list[str] = []

    def count(*args: object) -> None:
        statement = str(args[2])
        if not statement.startswith(("SAVEPOINT", "RELEASE")):
            statements.append(statement)

    connection = db_session.connection()
    event.listen(connection, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(connection, "before_cursor_execute", count)

    assert response.status_code == 200
    assert len(statements) <= 3 + 1, statements


# Adding a term ---------------------------------------------------------------------------


def test_a_coordinator_adds_a_term(client: PortalClient, db_session: Session) -> None:
    curator = coordinator(["PT"])
    client.sign_in_as(db_session, curator)

    response = client.post_form(
        "/coordinate/vocabularies/settings/terms", NEW_TERM, follow_redirects=False
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/coordinate/vocabularies/settings"
    page = client.get("/coordinate/vocabularies/settings").text
    assert "The term “Youth clubs” (youth_club) is added." in page
    assert '<th scope="row">Youth clubs</th>' in row_of(page, "youth_club")
    assert "The term “Youth clubs”" not in client.get("/coordinate/vocabularies/settings").text
    [added] = events(db_session, "vocabulary.term_added")
    assert added.actor_id == curator.id
    assert ("youth_club", "Youth clubs") in service.snapshot(db_session).choices("settings")


def test_a_coordinator_adds_a_subgroup_under_its_group(
    client: PortalClient, db_session: Session
) -> None:
    client.sign_in_as(db_session, coordinator(["PT"]))

    client.post_form(
        "/coordinate/vocabularies/target_subgroups/terms",
        {**NEW_TERM, "code": "grandparents", "parent_code": "parents"},
    )

    term = service.snapshot(db_session).term("target_subgroups", "grandparents")
    assert term is not None
    assert term.parent_code == "parents"


def test_mistakes_are_shown_at_their_fields_and_the_input_is_kept(
    client: PortalClient, db_session: Session
) -> None:
    client.sign_in_as(db_session, coordinator(["PT"]))

    response = client.post_form(
        "/coordinate/vocabularies/target_subgroups/terms",
        {"code": "Grand Parents", "label_en": "Grandparents <b>", "label_de": "",
         "label_fr": "Grands-parents", "parent_code": ""},
    )  # fmt: skip

    assert response.status_code == 422
    html = response.text
    assert "lower-case letters" in error_at(html, "code")
    assert "every language" in error_at(html, "label_de")
    assert "target group" in error_at(html, "parent_code")
    assert 'value="Grand Parents"' in html
    assert 'value="Grandparents &lt;b&gt;"' in html
    assert 'value="Grands-parents"' in html
    assert "Please correct the marked fields." in html
    assert response.headers["hx-push-url"] == "/coordinate/vocabularies/target_subgroups"
    assert service.snapshot(db_session).term("target_subgroups", "grand parents") is None
    assert events(db_session, "vocabulary.term_added") == []


def test_a_duplicate_code_is_refused_at_the_field(
    client: PortalClient, db_session: Session
) -> None:
    client.sign_in_as(db_session, coordinator(["PT"]))

    response = client.post_form(
        "/coordinate/vocabularies/settings/terms", {**NEW_TERM, "code": "school"}
    )

    assert response.status_code == 422
    assert error_at(response.text, "code") == "This vocabulary already has that code."
    assert 'value="Jugendclubs"' in response.text


# Relabelling -----------------------------------------------------------------------------


def test_the_relabel_form_shows_the_current_labels(
    client: PortalClient, db_session: Session
) -> None:
    client.sign_in_as(db_session, coordinator(["PT"]))

    html = client.get("/coordinate/vocabularies/countries/terms/DE").text

    assert "<h1>Labels of DE</h1>" in html
    assert re.search(r'id="label_en"[^>]*value="Germany"', html)
    assert re.search(r'id="label_de"[^>]*lang="de" value="Deutschland"', html)
    assert re.search(r'id="label_fr"[^>]*value="Allemagne"', html)
    assert "/coordinate/vocabularies/countries/terms/DE/retire" in html


def test_a_coordinator_relabels_a_term(client: PortalClient, db_session: Session) -> None:
    client.sign_in_as(db_session, coordinator(["PT"]))
    labels = service.term_labels("settings", "faith", {})

    response = client.post_form(
        "/coordinate/vocabularies/settings/terms/faith",
        {"label_en": "Faith and belief communities", "label_de": labels["de"],
         "label_fr": labels["fr"]},
        follow_redirects=False,
    )  # fmt: skip

    assert response.status_code == 303
    assert response.headers["location"] == "/coordinate/vocabularies/settings"
    page = client.get("/coordinate/vocabularies/settings").text
    assert "The labels of “faith” are saved." in page
    assert '<th scope="row">Faith and belief communities</th>' in row_of(page, "faith")
    [relabelled] = events(db_session, "vocabulary.term_relabelled")
    assert relabelled.after == {"label_en": "Faith and belief communities"}


def test_saving_the_same_labels_changes_nothing(client: PortalClient, db_session: Session) -> None:
    client.sign_in_as(db_session, coordinator(["PT"]))
    labels = service.term_labels("settings", "faith", {})

    response = client.post_form(
        "/coordinate/vocabularies/settings/terms/faith",
        {f"label_{locale}": text for locale, text in labels.items()},
    )

    assert events(db_session, "vocabulary.term_relabelled") == []
    assert "Nothing changed." in response.text


def test_a_missing_label_is_shown_at_its_field_and_the_input_is_kept(
    client: PortalClient, db_session: Session
) -> None:
    client.sign_in_as(db_session, coordinator(["PT"]))

    response = client.post_form(
        "/coordinate/vocabularies/settings/terms/faith",
        {"label_en": "Faith and belief", "label_de": "Glaube", "label_fr": " "},
    )

    assert response.status_code == 422
    assert "every language" in error_at(response.text, "label_fr")
    assert 'value="Faith and belief"' in response.text
    assert 'value="Glaube"' in response.text
    assert events(db_session, "vocabulary.term_relabelled") == []


# Retiring and reinstating ------------------------------------------------------------------


def test_a_coordinator_retires_and_reinstates_a_term(
    client: PortalClient, db_session: Session
) -> None:
    client.sign_in_as(db_session, coordinator(["PT"]))

    retired = client.post_form(
        "/coordinate/vocabularies/settings/terms/faith/retire", {}, follow_redirects=False
    )

    assert retired.status_code == 303
    page = client.get(retired.headers["location"]).text
    assert "“Faith communities” (faith) is retired" in page
    assert "Retired" in row_of(page, "faith")
    assert "faith" not in service.snapshot(db_session).active_codes("settings")
    api = client.get("/api/v1/vocabularies/settings").json()
    assert "faith" not in [term["code"] for term in api["terms"]]

    reinstated = client.post_form(
        "/coordinate/vocabularies/settings/terms/faith/reinstate", {}, follow_redirects=False
    )

    assert reinstated.status_code == 303
    page = client.get(reinstated.headers["location"]).text
    assert "is offered in the pickers again" in page
    assert "Offered" in row_of(page, "faith")
    assert len(events(db_session, "vocabulary.term_retired")) == 1
    assert len(events(db_session, "vocabulary.term_reinstated")) == 1


def test_a_refused_retirement_says_why(client: PortalClient, db_session: Session) -> None:
    client.sign_in_as(db_session, coordinator(["PT"]))

    response = client.post_form("/coordinate/vocabularies/target_groups/terms/schools/retire", {})

    assert response.status_code == 422
    assert 'class="notice notice--error" role="alert"' in response.text
    assert "Retire the subgroups of this target group first" in response.text
    assert "schools" in service.snapshot(db_session).active_codes("target_groups")


def test_the_forms_need_the_csrf_token(client: PortalClient, db_session: Session) -> None:
    client.sign_in_as(db_session, coordinator(["PT"]))
    db_session.commit()

    response = client.post("/coordinate/vocabularies/settings/terms/faith/retire")

    assert response.status_code == 403
    assert "faith" in service.snapshot(db_session).active_codes("settings")
