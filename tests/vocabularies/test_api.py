"""The public vocabularies API: every vocabulary, its terms, and their labels in every language."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.auth import api_tokens
from app.members.models import Member
from app.vocabularies import service
from tests.conftest import PortalClient
from tests.factories import coordinator, member

NEW_LABELS = {"en": "Youth clubs", "de": "Jugendclubs", "fr": "Clubs de jeunes"}


def terms_by_code(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {term["code"]: term for term in body["terms"]}


def test_the_list_names_every_vocabulary_without_signing_in(client: PortalClient) -> None:
    response = client.get("/api/v1/vocabularies")

    assert response.status_code == 200
    items = {item["name"]: item for item in response.json()["items"]}
    assert list(items) == [
        "target_groups", "target_subgroups", "prevention_level", "settings", "delivery",
        "abuse_addressed", "countries", "languages",
    ]  # fmt: skip
    assert items["target_groups"] == {
        "name": "target_groups",
        "label": "Target groups",
        "multiple": True,
        "term_count": 4,
        "retired_count": 0,
    }
    assert items["prevention_level"]["multiple"] is False
    assert items["abuse_addressed"]["term_count"] == 3
    assert items["languages"]["term_count"] >= 24  # every official EU language, and more


def test_the_list_counts_retired_terms_apart(client: PortalClient, db_session: Session) -> None:
    service.retire_term(db_session, coordinator(network=True), "settings", "faith")

    items = {item["name"]: item for item in client.get("/api/v1/vocabularies").json()["items"]}

    assert (items["settings"]["term_count"], items["settings"]["retired_count"]) == (8, 1)


def test_labels_of_the_list_are_in_the_readers_language(client: PortalClient) -> None:
    response = client.get("/api/v1/vocabularies", headers={"Accept-Language": "de"})

    items = {item["name"]: item for item in response.json()["items"]}
    assert items["target_groups"]["label"] == "Zielgruppen"


def test_a_vocabulary_lists_its_terms_in_curated_order(client: PortalClient) -> None:
    response = client.get("/api/v1/vocabularies/target_groups")

    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["label"], body["multiple"]) == (
        "target_groups", "Target groups", True,
    )  # fmt: skip
    assert [term["code"] for term in body["terms"]] == [
        "offenders", "parents", "schools", "children",
    ]  # fmt: skip
    assert body["terms"][1] == {
        "code": "parents",
        "label": "Parents and carers",
        "labels": service.term_labels("target_groups", "parents", {}),
        "parent_code": None,
        "retired": False,
    }


def test_every_term_has_a_label_in_every_ui_language(client: PortalClient) -> None:
    countries = terms_by_code(client.get("/api/v1/vocabularies/countries").json())
    languages = terms_by_code(client.get("/api/v1/vocabularies/languages").json())

    assert countries["DE"]["labels"] == {"en": "Germany", "de": "Deutschland", "fr": "Allemagne"}
    assert languages["pt"]["labels"] == {"en": "Portuguese", "de": "Portugiesisch",
                                         "fr": "Portugais"}  # fmt: skip
    for name in ("settings", "target_subgroups", "delivery"):
        for term in client.get(f"/api/v1/vocabularies/{name}").json()["terms"]:
            assert set(term["labels"]) == {"en", "de", "fr"}
            assert all(term["labels"].values()), term


def test_the_label_follows_the_readers_language(client: PortalClient) -> None:
    body = client.get("/api/v1/vocabularies/countries", headers={"Accept-Language": "fr"}).json()

    assert terms_by_code(body)["DE"]["label"] == "Allemagne"
    assert body["label"] == "Pays"


def test_subgroups_name_their_target_group(client: PortalClient) -> None:
    terms = terms_by_code(client.get("/api/v1/vocabularies/target_subgroups").json())

    assert terms["teachers"]["parent_code"] == "schools"
    assert terms["help_seekers"]["parent_code"] == "offenders"
    assert len(terms) == 15


def test_retired_terms_are_left_out_unless_asked_for(
    client: PortalClient, db_session: Session
) -> None:
    service.retire_term(db_session, coordinator(network=True), "settings", "faith")

    default = terms_by_code(client.get("/api/v1/vocabularies/settings").json())
    everything = terms_by_code(
        client.get("/api/v1/vocabularies/settings?include_retired=true").json()
    )

    assert "faith" not in default
    assert all(term["retired"] is False for term in default.values())
    assert everything["faith"]["retired"] is True
    assert everything["faith"]["label"] == "Faith communities"
    assert set(everything) - set(default) == {"faith"}


def test_curated_terms_and_labels_appear_at_once(client: PortalClient, db_session: Session) -> None:
    curator = coordinator(network=True)
    service.add_term(db_session, curator, "settings", "youth_club", NEW_LABELS)
    service.relabel_term(
        db_session, curator, "settings", "school",
        {**service.term_labels("settings", "school", {}), "fr": "Établissement scolaire"},
    )  # fmt: skip

    terms = terms_by_code(client.get("/api/v1/vocabularies/settings").json())

    assert terms["youth_club"]["labels"] == NEW_LABELS
    assert list(terms)[-1] == "youth_club"
    assert terms["school"]["labels"]["fr"] == "Établissement scolaire"
    assert terms["school"]["labels"]["en"] == "School"


def test_an_unknown_vocabulary_is_a_404_problem(client: PortalClient) -> None:
    response = client.get("/api/v1/vocabularies/colours")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 404
    assert response.json()["detail"] == "There is no such vocabulary."


def test_a_bad_include_retired_value_is_a_422_problem(client: PortalClient) -> None:
    response = client.get("/api/v1/vocabularies/settings?include_retired=perhaps")

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "include_retired"]


def test_the_schemas_are_in_the_openapi_document(client: PortalClient) -> None:
    document = client.get("/api/v1/openapi.json").json()

    assert "/api/v1/vocabularies" in document["paths"]
    detail = document["paths"]["/api/v1/vocabularies/{name}"]["get"]
    assert "404" in detail["responses"]
    assert {"VocabularyList", "VocabularyDetail", "TermOut"} <= set(
        document["components"]["schemas"]
    )
    assert "labels" in document["components"]["schemas"]["TermOut"]["properties"]


# Curation by coordinators -----------------------------------------------------------------


def bearer(session: Session, holder: Member, scope: str = "coordinate") -> dict[str, str]:
    _token, secret = api_tokens.create(session, holder, name="tests", scope=scope)
    session.commit()
    return {"Authorization": f"Bearer {secret}"}


def audit_actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_a_coordinator_curates_a_term_through_the_api(
    client: PortalClient, db_session: Session
) -> None:
    headers = bearer(db_session, coordinator(["PT"]))

    added = client.post(
        "/api/v1/vocabularies/settings/terms",
        json={"code": "youth_club", "labels": NEW_LABELS},
        headers=headers,
    )
    relabelled = client.patch(
        "/api/v1/vocabularies/settings/terms/youth_club",
        json={"labels": {"fr": "Maisons de jeunes"}},
        headers=headers,
    )
    retired = client.post("/api/v1/vocabularies/settings/terms/youth_club/retire", headers=headers)
    reinstated = client.post(
        "/api/v1/vocabularies/settings/terms/youth_club/reinstate", headers=headers
    )

    assert added.status_code == 201
    assert added.json() == {
        "code": "youth_club",
        "label": "Youth clubs",
        "labels": NEW_LABELS,
        "parent_code": None,
        "retired": False,
    }
    assert relabelled.status_code == 200
    assert relabelled.json()["labels"] == {**NEW_LABELS, "fr": "Maisons de jeunes"}
    assert retired.status_code == 200
    assert retired.json()["retired"] is True
    assert reinstated.json()["retired"] is False
    assert audit_actions(db_session) == [
        "vocabulary.term_added",
        "vocabulary.term_relabelled",
        "vocabulary.term_retired",
        "vocabulary.term_reinstated",
    ]


def test_a_coordinator_adds_a_subgroup_from_the_browser_session(
    client: PortalClient, db_session: Session
) -> None:
    client.sign_in_as(db_session, coordinator(network=True))

    response = client.post(
        "/api/v1/vocabularies/target_subgroups/terms",
        json={"code": "grandparents", "labels": NEW_LABELS, "parent_code": "parents"},
        headers={"X-CSRF-Token": client.csrf_token("/")},
    )

    assert response.status_code == 201
    assert response.json()["parent_code"] == "parents"


def test_curation_mistakes_are_422_problems_naming_the_fields(
    client: PortalClient, db_session: Session
) -> None:
    headers = bearer(db_session, coordinator(["PT"]))

    broken = client.post(
        "/api/v1/vocabularies/target_subgroups/terms",
        json={"code": "Bad Code", "labels": {"en": "Grandparents", "de": " "}},
        headers=headers,
    )
    unknown_language = client.post(
        "/api/v1/vocabularies/settings/terms",
        json={"code": "youth_club", "labels": {**NEW_LABELS, "pt": "Clubes"}},
        headers=headers,
    )
    empty_label = client.patch(
        "/api/v1/vocabularies/settings/terms/school", json={"labels": {"de": ""}}, headers=headers
    )

    assert broken.status_code == 422
    assert broken.headers["content-type"].startswith("application/problem+json")
    locations = [error["loc"] for error in broken.json()["errors"]]
    assert locations == [
        ["body", "code"],
        ["body", "labels", "de"],
        ["body", "labels", "fr"],
        ["body", "parent_code"],
    ]
    assert unknown_language.status_code == 422
    assert "pt" in unknown_language.json()["errors"][0]["msg"]
    assert empty_label.status_code == 422
    assert empty_label.json()["errors"][0]["loc"] == ["body", "labels", "de"]
    assert audit_actions(db_session) == []


def test_a_status_change_against_the_rules_is_a_409_problem(
    client: PortalClient, db_session: Session
) -> None:
    headers = bearer(db_session, coordinator(["PT"]))

    response = client.post(
        "/api/v1/vocabularies/target_groups/terms/schools/retire", headers=headers
    )

    assert response.status_code == 409
    assert "subgroups" in response.json()["detail"]
    missing = client.post("/api/v1/vocabularies/settings/terms/moon/retire", headers=headers)
    assert missing.status_code == 404


def test_only_coordinators_curate_through_the_api(
    client: PortalClient, db_session: Session
) -> None:
    body = {"code": "youth_club", "labels": NEW_LABELS}
    path = "/api/v1/vocabularies/settings/terms"

    anonymous = client.post(path, json=body)
    as_member = client.post(path, json=body, headers=bearer(db_session, member(), "write"))
    write_scope = client.post(
        path, json=body, headers=bearer(db_session, coordinator(network=True), "write")
    )
    retire = client.post(
        "/api/v1/vocabularies/settings/terms/faith/retire",
        headers=bearer(db_session, member(), "write"),
    )

    assert anonymous.status_code == 401
    assert as_member.status_code == 403
    assert write_scope.status_code == 403
    assert retire.status_code == 403
    service.forget(db_session)
    assert service.snapshot(db_session).term("settings", "youth_club") is None
    assert "faith" in service.snapshot(db_session).active_codes("settings")
