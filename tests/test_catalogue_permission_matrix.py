"""Every page of the programme catalogue and the evidence, called by every kind of visitor.

Roles: anonymous, lapsed member, member, maintainer (who created the programmes and the
evaluation), national coordinator of another country (France), national coordinator of
the programmes' country (Portugal), network coordinator, admin. The subjects: a public
published programme, a members-only published programme, a draft, and a published
evaluation, all in Portugal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from app.evidence import service as evidence_service
from app.evidence.models import Evaluation
from app.members.models import Member
from app.programmes.models import Programme
from tests.conftest import PortalClient
from tests.factories import admin, coordinator, member, programme

ROLES = (
    "anonymous",
    "lapsed",
    "member",
    "maintainer",
    "other_coordinator",
    "coordinator",
    "network_coordinator",
    "admin",
)
OK, SIGNIN, RENEW, FORBIDDEN, MISSING = "ok", "signin", "renew", "forbidden", "missing"


def _row(*outcomes: str) -> dict[str, str]:
    return dict(zip(ROLES, outcomes, strict=True))


EVERYONE = _row(OK, OK, OK, OK, OK, OK, OK, OK)
MEMBERS_SEE = _row(MISSING, MISSING, OK, OK, OK, OK, OK, OK)
EDITORS_SEE = _row(MISSING, MISSING, MISSING, OK, MISSING, OK, OK, OK)
ACTIVE_MEMBER = _row(SIGNIN, RENEW, OK, OK, OK, OK, OK, OK)
EDITORS = _row(SIGNIN, RENEW, FORBIDDEN, OK, FORBIDDEN, OK, OK, OK)
COORDINATORS = _row(SIGNIN, RENEW, FORBIDDEN, FORBIDDEN, OK, OK, OK, OK)
REVIEWERS = _row(SIGNIN, RENEW, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, OK, OK)
# The API of a kind only members search: 401 without a session, 403 for a lapsed member.
MEMBERS_API = _row(SIGNIN, FORBIDDEN, OK, OK, OK, OK, OK, OK)


@dataclass
class World:
    public: Programme
    members_only: Programme
    draft: Programme
    evaluation: Evaluation
    actors: dict[str, Member | None]


@pytest.fixture
def world(db_session: Session) -> World:
    maintainer = member(email="maintainer@example.org", country="PT", member_type="researcher")
    reviewer = coordinator(["PT"], email="pt.coordinator@example.org")
    content: dict[str, Any] = {"countries": ["PT"], "languages": ["pt"]}
    public = programme(maintainer, reviewer=reviewer, title="Public", **content)
    members_only = programme(
        maintainer, reviewer=reviewer, title="Members only", visibility="members", **content
    )
    draft = programme(maintainer, state="draft", title="Draft", **content)
    evaluation = evidence_service.create(
        db_session,
        maintainer,
        {
            "programme_ids": [public.id],
            "title": "A trial",
            "authors": ["Costa, Rui"],
            "year": 2022,
            "design": "rct",
            "country": "PT",
            "risk_of_bias": "low",
            "visibility": "public",
            "outcomes": [],
        },
    )
    actors: dict[str, Member | None] = {
        "anonymous": None,
        "lapsed": member(
            email="lapsed@example.org",
            status="lapsed",
            membership_expires_on=date.today() - timedelta(days=3),
        ),
        "member": member(email="member@example.org"),
        "maintainer": maintainer,
        "other_coordinator": coordinator(["FR"], email="fr.coordinator@example.org"),
        "coordinator": reviewer,
        "network_coordinator": coordinator(network=True, email="network@example.org"),
        "admin": admin(email="admin@example.org"),
    }
    db_session.commit()
    return World(public, members_only, draft, evaluation, actors)


def _outcome(response: httpx.Response) -> str:
    status = response.status_code
    if status in (302, 303, 307):
        location = response.headers["location"]
        if location.startswith("/sign-in"):
            return SIGNIN
        if location.startswith("/account/membership"):
            return RENEW
        return f"redirect {location}"
    if status == 401:
        return SIGNIN
    if status == 403:
        return FORBIDDEN
    if status == 404:
        return MISSING
    if 200 <= status < 300:
        return OK
    return f"status {status}"


PAGES: list[tuple[str, dict[str, str]]] = [
    ("/programmes", EVERYONE),
    ("/programmes/{public}", EVERYONE),
    ("/programmes/{public}/history", EVERYONE),
    ("/programmes/{public}/evidence", EVERYONE),
    ("/programmes/{public}/rating/history", EVERYONE),
    ("/programmes/{members_only}", MEMBERS_SEE),
    ("/programmes/{members_only}/history", MEMBERS_SEE),
    ("/programmes/{draft}", EDITORS_SEE),
    ("/programmes/new", ACTIVE_MEMBER),
    ("/programmes/mine", ACTIVE_MEMBER),
    ("/programmes/{public}/edit", EDITORS),
    ("/programmes/{public}/reports/new", ACTIVE_MEMBER),
    ("/programmes/{public}/rating/override", REVIEWERS),
    ("/coordinate/programmes", COORDINATORS),
    ("/coordinate/vocabularies", COORDINATORS),
    ("/coordinate/ratings", COORDINATORS),
    ("/coordinate/evaluations", COORDINATORS),
    ("/evaluations", EVERYONE),
    ("/evaluations/{evaluation}", EVERYONE),
    ("/evaluations/new", ACTIVE_MEMBER),
    ("/evaluations/{evaluation}/edit", EDITORS),
    ("/api/v1/programmes/{members_only}", MEMBERS_SEE),
    ("/api/v1/programmes/{draft}", EDITORS_SEE),
    ("/api/v1/programmes/{public}/evidence", EVERYONE),
    ("/api/v1/evaluations/{evaluation}", EVERYONE),
    ("/api/v1/vocabularies/countries", EVERYONE),
    ("/search", EVERYONE),
    ("/search?q=trial&type=evaluation", EVERYONE),
    ("/search/export.csv", EVERYONE),
    ("/search/export.json?type=evaluation", EVERYONE),
    ("/account/searches", ACTIVE_MEMBER),
    ("/api/v1/search", EVERYONE),
    ("/api/v1/search?type=member", MEMBERS_API),
    ("/api/v1/search?type=organisation", MEMBERS_API),
]


def _path(template: str, world: World) -> str:
    return template.format(
        public=world.public.id,
        members_only=world.members_only.id,
        draft=world.draft.id,
        evaluation=world.evaluation.id,
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("template", "expected"), PAGES, ids=[page for page, _ in PAGES])
def test_pages(
    client: PortalClient,
    db_session: Session,
    world: World,
    role: str,
    template: str,
    expected: dict[str, str],
) -> None:
    actor = world.actors[role]
    if actor is not None:
        client.sign_in_as(db_session, actor)

    response = client.get(_path(template, world), follow_redirects=False)

    assert _outcome(response) == expected[role]


ACTIONS: list[tuple[str, dict[str, str], dict[str, str]]] = [
    ("/programmes/{public}/archive", {"reason": "Replaced."}, EDITORS),
    ("/programmes/{public}/rating/confirm", {}, REVIEWERS),
    ("/evaluations/{evaluation}/unpublish", {"reason": "Retracted."}, REVIEWERS),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("template", "form", "expected"), ACTIONS, ids=[action for action, _, _ in ACTIONS]
)
def test_actions(
    client: PortalClient,
    db_session: Session,
    world: World,
    role: str,
    template: str,
    form: dict[str, str],
    expected: dict[str, str],
) -> None:
    actor = world.actors[role]
    if actor is not None:
        client.sign_in_as(db_session, actor)

    response = client.post_form(_path(template, world), form, follow_redirects=False)

    outcome = _outcome(response)
    # A carried-out action answers with a redirect back to the page it changed.
    assert (OK if outcome.startswith("redirect") else outcome) == expected[role]


# Who finds the members-only programme through the search (page, API, export, facets).
SEES_MEMBERS_ONLY = {role: role not in ("anonymous", "lapsed") for role in ROLES}


@pytest.mark.parametrize("role", ROLES)
def test_search_shows_members_only_programmes_to_members_only(
    client: PortalClient, db_session: Session, world: World, role: str
) -> None:
    actor = world.actors[role]
    if actor is not None:
        client.sign_in_as(db_session, actor)
    expected = SEES_MEMBERS_ONLY[role]

    page = client.get("/search", params={"countries": "PT"}).text
    api = client.get("/api/v1/search", params={"country": "PT"}).json()
    export = client.get("/search/export.json", params={"countries": "PT"}).json()

    assert ("Members only</a>" in page or "Members only</mark>" in page) is expected
    titles = {result["title"] for result in api["results"]}
    assert ("Members only" in titles) is expected
    assert api["total"] == (2 if expected else 1)
    assert api["facets"]["countries"] == {"PT": 2 if expected else 1}
    assert ("Members only" in {item["title"] for item in export["results"]}) is expected
