"""The programmes API: catalogue, records, edits with optimistic locking, workflow, versions."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.auth import api_tokens
from app.members.models import Member
from app.programmes import content, service
from app.programmes.models import Programme
from tests import factories
from tests.conftest import PortalClient

PARENTS_IN_GERMANY = {"target_groups": "parents", "countries": "DE"}


def bearer(session: Session, holder: Member, scope: str = "write") -> dict[str, str]:
    _token, secret = api_tokens.create(session, holder, name="tests", scope=scope)
    session.commit()
    return {"Authorization": f"Bearer {secret}"}


def lapsed_member() -> Member:
    return factories.member(status="lapsed", membership_expires_on=date.today() - timedelta(days=1))


def titles(response: Any) -> list[str]:
    return [item["title"] for item in response.json()["items"]]


def edit_token(session: Session, programme: Programme) -> str:
    return service.version_token(service.editable_base(session, programme))


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


# --- the catalogue -----------------------------------------------------------------------


def test_anonymous_callers_never_see_members_only_programmes(
    client: PortalClient, db_session: Session
) -> None:
    factories.programme(title="Open Doors")
    hidden = factories.programme(title="Closed Circle", visibility="members")
    factories.programme(title="Still A Draft", state="draft")
    reader = bearer(db_session, factories.member(), "read")
    lapsed = bearer(db_session, lapsed_member(), "read")

    anonymous = client.get("/api/v1/programmes")
    as_member = client.get("/api/v1/programmes", headers=reader)
    as_lapsed = client.get("/api/v1/programmes", headers=lapsed)

    assert anonymous.status_code == 200
    assert titles(anonymous) == ["Open Doors"]
    assert anonymous.json()["total"] == 1
    assert sorted(titles(as_member)) == ["Closed Circle", "Open Doors"]
    assert as_member.json()["total"] == 2
    assert titles(as_lapsed) == ["Open Doors"]
    assert as_lapsed.json()["total"] == 1
    for path in (f"/api/v1/programmes/{hidden.id}", f"/api/v1/programmes/{hidden.id}/versions"):
        assert_problem(client.get(path), 404)
        assert_problem(client.get(path, headers=lapsed), 404)
        assert client.get(path, headers=reader).status_code == 200
    assert_problem(client.get(f"/api/v1/programmes/{hidden.id}/versions/1"), 404)


def test_the_browser_session_counts_as_the_caller(
    client: PortalClient, db_session: Session
) -> None:
    factories.programme(title="Closed Circle", visibility="members")
    client.sign_in_as(db_session, factories.member())
    db_session.commit()

    assert titles(client.get("/api/v1/programmes")) == ["Closed Circle"]


def test_filters_take_repeated_and_comma_separated_codes(
    client: PortalClient, db_session: Session
) -> None:
    factories.programme(title="Parents DE PT")
    factories.programme(
        title="Schools FR",
        target_groups=["schools"],
        target_subgroups=["teachers"],
        countries=["FR"],
        languages=["fr"],
        settings=["school"],
        prevention_level="secondary",
    )
    factories.programme(
        title="Helpline AT",
        target_groups=["offenders"],
        target_subgroups=["help_seekers"],
        countries=["AT"],
        delivery=["helpline"],
        prevention_level="secondary",
    )

    def found(params: Any) -> list[str]:
        response = client.get("/api/v1/programmes", params=params)
        assert response.status_code == 200, response.text
        return sorted(titles(response))

    assert found(PARENTS_IN_GERMANY) == ["Parents DE PT"]
    assert found([("countries", "DE"), ("countries", "FR")]) == ["Parents DE PT", "Schools FR"]
    assert found({"countries": "at,fr"}) == ["Helpline AT", "Schools FR"]
    assert found({"languages": "FR"}) == ["Schools FR"]
    assert found({"prevention_level": "secondary", "delivery": "helpline"}) == ["Helpline AT"]
    assert found({"settings": "school"}) == ["Schools FR"]
    assert found({"target_subgroups": "help_seekers,teachers"}) == ["Helpline AT", "Schools FR"]
    assert found({"abuse_addressed": "both", "target_groups": "children"}) == []
    assert found({"q": "helpline"}) == ["Helpline AT"]
    ordered = client.get("/api/v1/programmes", params={"sort": "title"})
    assert titles(ordered) == ["Helpline AT", "Parents DE PT", "Schools FR"]


def test_pages_default_to_20_and_are_capped_at_100(
    client: PortalClient, db_session: Session
) -> None:
    for number in range(3):
        factories.programme(title=f"Paged {number}")

    default = client.get("/api/v1/programmes").json()
    capped = client.get("/api/v1/programmes", params={"per_page": 500}).json()
    second = client.get(
        "/api/v1/programmes", params={"per_page": 2, "page": 2, "sort": "title"}
    ).json()

    assert (default["page"], default["per_page"], default["total"]) == (1, 20, 3)
    assert capped["per_page"] == 100
    assert [item["title"] for item in second["items"]] == ["Paged 2"]
    assert second["total"] == 3


def test_an_unknown_code_in_a_filter_names_the_parameter_and_the_allowed_codes(
    client: PortalClient, db_session: Session
) -> None:
    response = client.get(
        "/api/v1/programmes",
        params=[("target_groups", "parents,aliens"), ("countries", "DE"), ("delivery", "owl")],
    )

    body = assert_problem(response, 422)
    errors = {tuple(error["loc"]): error["msg"] for error in body["errors"]}
    assert set(errors) == {("query", "target_groups"), ("query", "delivery")}
    assert errors[("query", "target_groups")] == (
        "Unknown code for target_groups: aliens. "
        "Allowed codes: offenders, parents, schools, children."
    )
    assert "owl" in errors[("query", "delivery")]
    assert "face_to_face" in errors[("query", "delivery")]
    assert_problem(client.get("/api/v1/programmes", params={"sort": "random"}), 422)


def test_archived_programmes_are_left_out_unless_asked_for(
    client: PortalClient, db_session: Session
) -> None:
    old = factories.programme(title="Old Programme")
    service.archive(db_session, factories.member(), old, "Replaced by a newer one.")
    db_session.commit()

    assert titles(client.get("/api/v1/programmes")) == []
    listed = client.get("/api/v1/programmes", params={"archived": "true"}).json()["items"]
    assert [(item["archived"], item["archive_reason"]) for item in listed] == [
        (True, "Replaced by a newer one.")
    ]


# --- one programme -----------------------------------------------------------------------


def test_a_published_programme_shows_its_content_as_codes(
    client: PortalClient, db_session: Session
) -> None:
    original = factories.programme(
        title="Safe Families",
        translations=[{"language": "de", "title": "Sichere Familien", "summary": "Kurz."}],
    )
    open_adaptation = factories.programme(title="Familias Seguras", adapted_from_id=original.id)
    factories.programme(
        title="Closed Adaptation", adapted_from_id=original.id, visibility="members"
    )
    db_session.commit()

    response = client.get(f"/api/v1/programmes/{original.id}")
    listed = client.get("/api/v1/programmes", params={"q": "safe families"}).json()["items"]

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == original.id
    assert (body["status"], body["visibility"], body["version"]) == ("published", "public", 1)
    assert body["target_groups"] == ["parents"]
    assert body["countries"] == ["DE", "PT"]
    assert body["languages"] == ["de", "pt"]
    assert (body["prevention_level"], body["abuse_addressed"]) == ("primary", "both")
    assert (body["age_min"], body["age_max"], body["manual_available"]) == (25, 60, True)
    assert body["translations"] == [
        {"language": "de", "title": "Sichere Familien", "summary": "Kurz."}
    ]
    assert body["published_at"] is not None
    assert body["archived"] is False
    assert body["adaptation_ids"] == [open_adaptation.id]
    # Only those who may edit get the revision.
    assert body["revision"] is None
    assert body["working_version"] is None
    assert "etag" not in response.headers
    assert listed == [body]


def test_who_sees_a_draft_and_who_gets_its_revision(
    client: PortalClient, db_session: Session
) -> None:
    author = factories.member()
    draft = factories.programme(author, state="draft")
    token = edit_token(db_session, draft)
    callers = {
        "anonymous": {},
        "member": bearer(db_session, factories.member(), "read"),
        "lapsed maintainer": {},
        "maintainer": bearer(db_session, author, "read"),
        "coordinator elsewhere": bearer(db_session, factories.coordinator(["FR"]), "read"),
        "coordinator of DE": bearer(db_session, factories.coordinator(["DE"]), "read"),
        "network coordinator": bearer(db_session, factories.coordinator(network=True), "read"),
    }
    lapsed_author = lapsed_member()
    service.add_maintainer(db_session, draft, lapsed_author)
    callers["lapsed maintainer"] = bearer(db_session, lapsed_author, "read")

    seen = {}
    for role, headers in callers.items():
        response = client.get(f"/api/v1/programmes/{draft.id}", headers=headers)
        history = client.get(f"/api/v1/programmes/{draft.id}/versions", headers=headers)
        seen[role] = response.status_code
        assert history.status_code == response.status_code, role
        if response.status_code == 200:
            assert response.json()["revision"] == token, role
            assert response.headers["etag"] == f'"{token}"', role
            assert response.json()["working_version"]["state"] == "draft", role
            assert [item["state"] for item in history.json()["items"]] == ["draft"], role

    assert seen == {
        "anonymous": 404,
        "member": 404,
        "lapsed maintainer": 404,
        "maintainer": 200,
        "coordinator elsewhere": 404,
        "coordinator of DE": 200,
        "network coordinator": 200,
    }
    assert_problem(client.get("/api/v1/programmes/999999"), 404)


def test_a_bad_token_is_a_401(client: PortalClient, db_session: Session) -> None:
    body = assert_problem(
        client.get("/api/v1/programmes", headers={"Authorization": "Bearer pnp_nonsense"}), 401
    )
    assert body["title"]


# --- creating ----------------------------------------------------------------------------


def test_who_may_create(client: PortalClient, db_session: Session) -> None:
    content = factories.programme_content()
    reader = bearer(db_session, factories.member(), "read")
    lapsed = bearer(db_session, lapsed_member(), "write")

    assert_problem(client.post("/api/v1/programmes", json=content), 401)
    assert_problem(client.post("/api/v1/programmes", json=content, headers=reader), 403)
    assert_problem(client.post("/api/v1/programmes", json=content, headers=lapsed), 403)
    assert db_session.query(Programme).count() == 0


def test_a_member_creates_a_draft(client: PortalClient, db_session: Session) -> None:
    author = factories.member()
    organisation = factories.organisation(name="Helpline Lisboa", country="PT")
    headers = bearer(db_session, author)

    response = client.post(
        "/api/v1/programmes",
        json=factories.programme_content(
            title="  Safe   Families ",
            countries=["de", "PT"],
            target_subgroups=["parents", "families"],
            provider_organisation_id=organisation.id,
            contact_email="Team@Example.org",
            website="https://safe.example",
            start_year=2019,
            still_running=False,
            training_required=True,
            cost="Free",
            duration="6 weeks",
            translations=[{"language": "pt", "title": "Famílias Seguras"}],
        ),
        headers=headers,
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/api/v1/programmes/{body['id']}"
    assert body["status"] == "draft"
    assert body["title"] == "Safe Families"
    assert body["countries"] == ["DE", "PT"]
    assert body["target_subgroups"] == ["parents", "families"]
    assert body["provider_organisation_id"] == organisation.id
    assert body["contact_email"] == "Team@example.org"
    assert (body["start_year"], body["still_running"], body["training_required"]) == (
        2019,
        False,
        True,
    )
    assert (body["cost"], body["duration"]) == ("Free", "6 weeks")
    assert body["translations"] == [{"language": "pt", "title": "Famílias Seguras", "summary": ""}]
    assert body["version"] is None
    assert body["revision"] == response.headers["etag"].strip('"')
    assert body["working_version"]["number"] == 1
    programme = db_session.get(Programme, body["id"])
    assert programme is not None
    assert service.maintainer_ids(db_session, programme.id) == {author.id}
    # A draft is nobody else's business.
    assert_problem(client.get(f"/api/v1/programmes/{body['id']}"), 404)


def test_an_unknown_code_is_a_422_naming_the_field_and_the_allowed_codes(
    client: PortalClient, db_session: Session
) -> None:
    headers = bearer(db_session, factories.member())

    response = client.post(
        "/api/v1/programmes",
        json=factories.programme_content(target_groups=["parents", "aliens"], settings=["moon"]),
        headers=headers,
    )

    body = assert_problem(response, 422)
    errors = {tuple(error["loc"]): error["msg"] for error in body["errors"]}
    assert errors[("body", "target_groups")] == (
        "Unknown code for target_groups: aliens. "
        "Allowed codes: offenders, parents, schools, children."
    )
    assert "moon" in errors[("body", "settings")]
    assert "school" in errors[("body", "settings")]
    assert db_session.query(Programme).count() == 0


def test_types_required_fields_and_unknown_fields_are_checked(
    client: PortalClient, db_session: Session
) -> None:
    headers = bearer(db_session, factories.member())

    wrong_type = client.post(
        "/api/v1/programmes",
        json=factories.programme_content(age_min="twelve", countries="DE"),
        headers=headers,
    )
    missing = client.post("/api/v1/programmes", json={"summary": "Only this."}, headers=headers)
    unknown_field = client.post(
        "/api/v1/programmes",
        json=factories.programme_content(target_group=["parents"]),
        headers=headers,
    )
    bad_visibility = client.post(
        "/api/v1/programmes",
        json=factories.programme_content(visibility="secret"),
        headers=headers,
    )

    wrong = {tuple(error["loc"]) for error in assert_problem(wrong_type, 422)["errors"]}
    assert wrong == {("body", "age_min"), ("body", "countries")}
    required = {error["loc"][1] for error in assert_problem(missing, 422)["errors"]}
    assert required == {"title", "target_groups", "countries", "languages"}
    extra = assert_problem(unknown_field, 422)["errors"]
    assert [error["loc"] for error in extra] == [["body", "target_group"]]
    [visibility] = assert_problem(bad_visibility, 422)["errors"]
    assert visibility["loc"] == ["body", "visibility"]
    assert "public, members" in visibility["msg"]


# --- editing -----------------------------------------------------------------------------


def test_a_patch_needs_the_revision_it_edits(client: PortalClient, db_session: Session) -> None:
    author = factories.member()
    draft = factories.programme(author, state="draft")
    headers = bearer(db_session, author)
    path = f"/api/v1/programmes/{draft.id}"
    read = client.get(path, headers=headers)

    missing = client.patch(path, json={"title": "No revision"}, headers=headers)
    by_header = client.patch(
        path, json={"title": "By header"}, headers={**headers, "If-Match": read.headers["etag"]}
    )
    stale = client.patch(
        path,
        json={"title": "Too late", "countries": ["DE"]},
        headers={**headers, "If-Match": read.headers["etag"]},
    )

    assert_problem(missing, 428)
    assert by_header.status_code == 200, by_header.text
    assert by_header.json()["title"] == "By header"
    problem = assert_problem(stale, 409)
    assert problem["revision"] == by_header.json()["revision"]
    assert stale.headers["etag"] == f'"{problem["revision"]}"'
    assert problem["changes"] == [
        {"field": "title", "label": "Title", "yours": "Too late", "saved": "By header"},
        {
            "field": "countries",
            "label": content.field_label("countries"),
            "yours": ["DE"],
            "saved": ["DE", "PT"],
        },
    ]
    # Nothing of the stale edit was saved; sending it again with the new revision works.
    assert client.get(path, headers=headers).json()["title"] == "By header"
    retried = client.patch(
        path, json={"title": "Too late", "revision": problem["revision"]}, headers=headers
    )
    assert retried.status_code == 200, retried.text
    assert retried.json()["title"] == "Too late"


def test_a_partial_patch_keeps_the_other_fields(client: PortalClient, db_session: Session) -> None:
    author = factories.member()
    draft = factories.programme(author, state="draft", cost="Free")
    headers = bearer(db_session, author)

    response = client.patch(
        f"/api/v1/programmes/{draft.id}",
        json={
            "summary": "A shorter summary.",
            "cost": None,
            "revision": edit_token(db_session, draft),
        },
        headers=headers,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["summary"] == "A shorter summary."
    assert body["cost"] is None
    expected = factories.programme_content()
    for name in ("title", "description", "target_groups", "countries", "languages", "age_min"):
        assert body[name] == expected[name], name


def test_a_patch_is_validated_like_a_new_programme(
    client: PortalClient, db_session: Session
) -> None:
    author = factories.member()
    draft = factories.programme(author, state="draft")
    headers = bearer(db_session, author)
    path = f"/api/v1/programmes/{draft.id}"
    token = edit_token(db_session, draft)

    unknown = client.patch(
        path, json={"countries": ["DE", "XX"], "revision": token}, headers=headers
    )
    emptied = client.patch(path, json={"title": "", "revision": token}, headers=headers)
    nothing = client.patch(path, json={"revision": token}, headers=headers)

    [error] = assert_problem(unknown, 422)["errors"]
    assert error["loc"] == ["body", "countries"]
    assert error["msg"].startswith("Unknown code for countries: XX. Allowed codes: AT, BE,")
    assert [error["loc"] for error in assert_problem(emptied, 422)["errors"]] == [["body", "title"]]
    assert_problem(nothing, 422)
    assert client.get(path, headers=headers).json()["revision"] == token


def test_an_edit_of_a_published_programme_waits_for_review(
    client: PortalClient, db_session: Session
) -> None:
    author = factories.member()
    published = factories.programme(author)
    headers = bearer(db_session, author)
    path = f"/api/v1/programmes/{published.id}"
    read = client.get(path, headers=headers).json()
    assert read["working_version"] is None

    response = client.patch(
        path, json={"title": "Safe Families 2", "revision": read["revision"]}, headers=headers
    )

    assert response.status_code == 200, response.text
    body = response.json()
    # The catalogue keeps the published content until a coordinator approves the edit.
    assert (body["title"], body["version"], body["status"]) == ("Safe Families", 1, "published")
    assert body["working_version"] == {
        "number": 2,
        "state": "draft",
        "token": body["revision"],
        "changes": ["title"],
    }
    assert titles(client.get("/api/v1/programmes")) == ["Safe Families"]
    # The published revision is stale now: the edit in progress is what a PATCH edits.
    stale = client.patch(
        path, json={"title": "Other", "revision": read["revision"]}, headers=headers
    )
    assert assert_problem(stale, 409)["revision"] == body["revision"]


def test_who_may_patch(client: PortalClient, db_session: Session) -> None:
    author = factories.member()
    published = factories.programme(author)
    draft = factories.programme(author, state="draft", title="Draft")
    lapsed_author = lapsed_member()
    service.add_maintainer(db_session, published, lapsed_author)
    db_session.commit()

    def patch(programme: Programme, headers: dict[str, str]) -> int:
        response = client.patch(
            f"/api/v1/programmes/{programme.id}",
            json={"title": "Changed", "revision": edit_token(db_session, programme)},
            headers=headers,
        )
        db_session.expire_all()
        status: int = response.status_code
        return status

    assert patch(published, {}) == 401
    assert patch(published, bearer(db_session, author, "read")) == 403
    assert patch(published, bearer(db_session, lapsed_author)) == 403
    assert patch(published, bearer(db_session, factories.member())) == 403
    assert patch(draft, bearer(db_session, factories.member())) == 404
    assert patch(published, bearer(db_session, factories.coordinator(["FR"]))) == 403
    assert patch(draft, bearer(db_session, factories.coordinator(["FR"]))) == 404
    assert patch(published, bearer(db_session, factories.coordinator(["PT"]))) == 200
    assert patch(draft, bearer(db_session, factories.coordinator(network=True))) == 200
    assert patch(draft, bearer(db_session, author)) == 200


# --- the workflow ------------------------------------------------------------------------


def test_submit_is_for_maintainers_and_needs_a_draft(
    client: PortalClient, db_session: Session
) -> None:
    author = factories.member()
    draft = factories.programme(author, state="draft")
    db_session.commit()
    path = f"/api/v1/programmes/{draft.id}/submit"

    assert_problem(client.post(path), 401)
    assert_problem(client.post(path, headers=bearer(db_session, author, "read")), 403)
    assert_problem(client.post(path, headers=bearer(db_session, factories.member())), 404)
    submitted = client.post(
        path, json={"comment": "Ready for review."}, headers=bearer(db_session, author)
    )
    again = client.post(path, headers=bearer(db_session, author))

    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["working_version"]["state"] == "submitted"
    assert_problem(again, 409)


def test_who_may_review(client: PortalClient, db_session: Session) -> None:
    author = factories.member()
    submitted = factories.programme(author, state="submitted")
    published = factories.programme(author, title="Published")
    token = edit_token(db_session, published)
    service.save(db_session, author, published, factories.programme_content(title="P2"), token)
    service.submit(db_session, author, published)
    german = factories.coordinator(["DE"])
    french = factories.coordinator(["FR"])
    approve = {"decision": "approve"}
    db_session.commit()

    def review(programme: Programme, headers: dict[str, str], body: Any = approve) -> Any:
        return client.post(f"/api/v1/programmes/{programme.id}/review", json=body, headers=headers)

    assert_problem(review(submitted, {}), 401)
    assert_problem(review(submitted, bearer(db_session, author)), 403)
    assert_problem(review(submitted, bearer(db_session, german, "write")), 403)
    assert_problem(review(submitted, bearer(db_session, french, "coordinate")), 404)
    assert_problem(review(published, bearer(db_session, french, "coordinate")), 403)
    no_second_factor = factories.coordinator(["DE"], totp_enabled_at=None, totp_secret=None)
    client.sign_in_as(db_session, no_second_factor)
    db_session.commit()
    assert review(submitted, {"X-CSRF-Token": client.csrf_token("/")}).status_code == 403
    client.cookies.clear()

    coordinate = bearer(db_session, german, "coordinate")
    missing_comment = review(submitted, coordinate, {"decision": "reject", "comment": " "})
    unknown = review(submitted, coordinate, {"decision": "maybe"})
    approved = review(submitted, coordinate)
    nothing_left = review(submitted, coordinate)
    network = review(
        published, bearer(db_session, factories.coordinator(network=True), "coordinate")
    )

    [error] = assert_problem(missing_comment, 422)["errors"]
    assert error["loc"] == ["body", "comment"]
    assert [error["loc"] for error in assert_problem(unknown, 422)["errors"]] == [
        ["body", "decision"]
    ]
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["version"]) == ("published", 1)
    assert_problem(nothing_left, 409)
    assert network.status_code == 200, network.text
    assert (network.json()["title"], network.json()["version"]) == ("P2", 2)


def test_the_whole_workflow_through_the_api(client: PortalClient, db_session: Session) -> None:
    author = factories.member(full_name="Maria Author")
    reviewer = factories.coordinator(["DE"], full_name="Klaus Coordinator")
    maintainer = bearer(db_session, author)
    coordinator = bearer(db_session, reviewer, "coordinate")

    created = client.post(
        "/api/v1/programmes",
        json=factories.programme_content(title="Talking Safety"),
        headers=maintainer,
    )
    assert created.status_code == 201, created.text
    path = created.headers["location"]
    assert client.post(path + "/submit", headers=maintainer).json()["status"] == "submitted"
    sent_back = client.post(
        path + "/review",
        json={"decision": "request_changes", "comment": "Add the age range."},
        headers=coordinator,
    )
    assert sent_back.json()["status"] == "changes_requested"
    revision = client.get(path, headers=maintainer).json()["revision"]
    edited = client.patch(
        path,
        json={"age_min": 30, "age_max": 50},
        headers={**maintainer, "If-Match": f'"{revision}"'},
    )
    assert (edited.json()["age_min"], edited.json()["age_max"]) == (30, 50)
    assert client.post(path + "/submit", headers=maintainer).json()["status"] == "submitted"
    assert titles(client.get("/api/v1/programmes", params=PARENTS_IN_GERMANY)) == []
    approved = client.post(path + "/review", json={"decision": "approve"}, headers=coordinator)
    assert approved.json()["status"] == "published"

    found = client.get("/api/v1/programmes", params=PARENTS_IN_GERMANY)
    assert titles(found) == ["Talking Safety"]
    assert client.get("/api/v1/programmes", params={"countries": "FR"}).json()["total"] == 0

    # A maintainer's edit of the published programme: a second version after review.
    revision = client.get(path, headers=maintainer).json()["revision"]
    client.patch(
        path, json={"title": "Talking Safety at Home", "revision": revision}, headers=maintainer
    )
    client.post(path + "/submit", headers=maintainer)
    client.post(path + "/review", json={"decision": "approve"}, headers=coordinator)

    # Saving a version sent back for changes starts a new one: the reviewed one is kept.
    history = client.get(path + "/versions")
    assert history.status_code == 200
    items = history.json()["items"]
    assert [(item["number"], item["state"]) for item in items] == [
        (3, "published"),
        (2, "superseded"),
    ]
    assert items[0]["changes"] == ["title"]
    assert "target_groups" in items[1]["changes"]
    assert (items[0]["submitted_by"], items[0]["decided_by"]) == (
        "Maria Author",
        "Klaus Coordinator",
    )
    everything = client.get(path + "/versions", headers=maintainer).json()["items"]
    assert [(item["number"], item["state"]) for item in everything] == [
        (3, "published"),
        (2, "superseded"),
        (1, "revised"),
    ]
    first = client.get(path + "/versions/2").json()
    assert first["content"]["title"] == "Talking Safety"
    assert (first["content"]["age_min"], first["content"]["age_max"]) == (30, 50)
    assert_problem(client.get(path + "/versions/1"), 404)
    reviewed = client.get(path + "/versions/1", headers=maintainer).json()
    assert (reviewed["content"]["age_min"], reviewed["content"]["age_max"]) == (25, 60)
    assert titles(client.get("/api/v1/programmes", params=PARENTS_IN_GERMANY)) == [
        "Talking Safety at Home"
    ]


def test_editors_see_every_version_others_the_published_ones(
    client: PortalClient, db_session: Session
) -> None:
    author = factories.member(full_name="Erased Soon")
    published = factories.programme(author)
    service.save(
        db_session,
        author,
        published,
        factories.programme_content(title="Work in progress"),
        edit_token(db_session, published),
    )
    author.status = "erased"
    other = factories.member()
    service.add_maintainer(db_session, published, other)
    db_session.commit()
    path = f"/api/v1/programmes/{published.id}/versions"
    editor = bearer(db_session, other, "read")

    public = client.get(path).json()["items"]
    full = client.get(path, headers=editor).json()["items"]

    assert [(item["number"], item["state"]) for item in public] == [(1, "published")]
    assert public[0]["submitted_by"] == "Former member"
    assert public[0]["decided_by"] is not None
    assert [(item["number"], item["state"]) for item in full] == [(2, "draft"), (1, "published")]
    assert full[0]["changes"] == ["title"]
    assert full[0]["submitted_by"] is None
    assert_problem(client.get(path + "/2"), 404)
    assert client.get(path + "/2", headers=editor).json()["content"]["title"] == "Work in progress"
    assert_problem(client.get(path + "/9"), 404)


# --- documentation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("get", "/api/v1/programmes", {"200", "401", "422"}),
        ("post", "/api/v1/programmes", {"201", "401", "403", "422"}),
        ("get", "/api/v1/programmes/{programme_id}", {"200", "401", "404", "422"}),
        (
            "patch",
            "/api/v1/programmes/{programme_id}",
            {"200", "401", "403", "404", "409", "422", "428"},
        ),
        (
            "post",
            "/api/v1/programmes/{programme_id}/submit",
            {"200", "401", "403", "404", "409", "422"},
        ),
        (
            "post",
            "/api/v1/programmes/{programme_id}/review",
            {"200", "401", "403", "404", "409", "422"},
        ),
        ("get", "/api/v1/programmes/{programme_id}/versions", {"200", "401", "404", "422"}),
        (
            "get",
            "/api/v1/programmes/{programme_id}/versions/{number}",
            {"200", "401", "404", "422"},
        ),
    ],
)
def test_every_route_is_documented(
    client: PortalClient, method: str, path: str, statuses: set[str]
) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"][path][method]

    assert operation["summary"]
    assert operation["tags"] == ["programmes"]
    assert set(operation["responses"]) == statuses
    parameters = {parameter["name"] for parameter in operation.get("parameters", [])}
    if path == "/api/v1/programmes" and method == "get":
        assert {"target_groups", "countries", "languages", "sort", "per_page"} <= parameters


def test_the_documented_problems_resolve(client: PortalClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    components = schema["components"]["schemas"]
    create = schema["paths"]["/api/v1/programmes"]["post"]["responses"]
    patch = schema["paths"]["/api/v1/programmes/{programme_id}"]["patch"]["responses"]

    invalid = create["422"]["content"]["application/problem+json"]["schema"]["$ref"]
    assert invalid == "#/components/schemas/ValidationProblem"
    assert "errors" in components["ValidationProblem"]["properties"]
    assert "Problem" in components
    assert "changes" in components["StaleProblem"]["properties"]
    assert "ETag" in patch["200"]["headers"]
    assert "Location" in create["201"]["headers"]
