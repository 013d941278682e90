"""Every route of the membership work, called by every kind of visitor.

Roles: anonymous, applicant (a person with the secret link of their application, no
account), lapsed member, member, national coordinator of another country, network
coordinator, admin. The subjects (a member, an application, an organisation) are in
Portugal; the national coordinator looks after France.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy.orm import Session

from app.applications.models import Application
from app.db import utcnow
from app.kit.tokens import hash_token
from app.members.models import Member
from tests.conftest import PortalClient
from tests.factories import admin, coordinator, member, organisation

ROLES = (
    "anonymous",
    "applicant",
    "lapsed",
    "member",
    "other_coordinator",
    "network_coordinator",
    "admin",
)
APPLICATION_SECRET = "matrix-application-secret-0123456789"

# What a role may expect: ok (2xx), done (303 to a page other than sign-in or renewal, i.e.
# the action was carried out), signin (303 to sign-in, or 401 under /api/), renew (303 to the
# renewal page, or 403 under /api/), forbidden (403), missing (404).
OK, DONE, SIGNIN, RENEW, FORBIDDEN, MISSING = (
    "ok",
    "done",
    "signin",
    "renew",
    "forbidden",
    "missing",
)


@dataclass
class World:
    subject: Member
    application: Application
    actors: dict[str, Member | None]


@pytest.fixture
def world(db_session: Session) -> World:
    employer = organisation(name="Matrix Organisation", country="PT")
    subject = member(
        email="subject@example.org",
        full_name="Matrix Subject",
        country="PT",
        organisations=[employer],
    )
    application = Application(
        full_name="Matrix Applicant",
        email="applicant@example.org",
        country="PT",
        organisation_id=employer.id,
        member_type="practitioner",
        expertise=["parenting_support"],
        languages=["pt"],
        motivation="I run a parenting programme.",
        privacy_notice_version="2026-11",
        privacy_consented_at=utcnow(),
        status="submitted",
        access_token_hash=hash_token(APPLICATION_SECRET),
        language="en",
    )
    db_session.add(application)
    db_session.flush()
    actors: dict[str, Member | None] = {
        "anonymous": None,
        "applicant": None,
        "lapsed": member(
            country="PT", status="lapsed", membership_expires_on=date.today() - timedelta(days=3)
        ),
        "member": member(country="PT"),
        "other_coordinator": coordinator(["FR"], country="FR"),
        "network_coordinator": coordinator(network=True, country="DE"),
        "admin": admin(country="BE"),
    }
    return World(subject=subject, application=application, actors=actors)


def _as(client: PortalClient, db_session: Session, world: World, role: str) -> None:
    actor = world.actors[role]
    if actor is not None:
        client.sign_in_as(db_session, actor)


def _outcome(response: httpx.Response, *, api: bool) -> str:
    status = response.status_code
    if status in (301, 302, 303, 307):
        location = response.headers["location"]
        if location.startswith("/sign-in"):
            return SIGNIN
        if location.startswith("/account/membership"):
            return RENEW
        return DONE
    if api and status == 401:
        return SIGNIN
    if status == 403:
        return FORBIDDEN
    if status == 404:
        return MISSING
    if 200 <= status < 300:
        return OK
    return f"status {status}"


def _row(
    anonymous: str, applicant: str, lapsed: str, member_: str, other: str, network: str, admin_: str
) -> dict[str, str]:
    return dict(
        zip(ROLES, (anonymous, applicant, lapsed, member_, other, network, admin_), strict=True)
    )


PUBLIC = _row(OK, OK, OK, OK, OK, OK, OK)
SIGNED_IN = _row(SIGNIN, SIGNIN, OK, OK, OK, OK, OK)
ACTIVE_MEMBER = _row(SIGNIN, SIGNIN, RENEW, OK, OK, OK, OK)
COORDINATOR = _row(SIGNIN, SIGNIN, RENEW, FORBIDDEN, OK, OK, OK)
IN_SCOPE = _row(SIGNIN, SIGNIN, RENEW, FORBIDDEN, FORBIDDEN, OK, OK)
IN_SCOPE_ACTION = _row(SIGNIN, SIGNIN, RENEW, FORBIDDEN, FORBIDDEN, DONE, DONE)
ADMIN_ACTION = _row(SIGNIN, SIGNIN, RENEW, FORBIDDEN, FORBIDDEN, FORBIDDEN, DONE)

PAGES: list[tuple[str, dict[str, str]]] = [
    ("/apply", PUBLIC),
    ("/sign-in", PUBLIC),
    ("/password-reset", PUBLIC),
    ("/privacy", PUBLIC),
    ("/account/profile", SIGNED_IN),
    ("/account/security", SIGNED_IN),
    ("/account/membership", SIGNED_IN),
    ("/account/data", SIGNED_IN),
    ("/account/data/export", SIGNED_IN),
    ("/account/delete", SIGNED_IN),
    ("/account/identities", SIGNED_IN),
    ("/account/tokens", ACTIVE_MEMBER),
    ("/directory", ACTIVE_MEMBER),
    ("/directory/{subject}", ACTIVE_MEMBER),
    ("/coordinate", COORDINATOR),
    ("/coordinate/applications", COORDINATOR),
    ("/coordinate/members", COORDINATOR),
    ("/coordinate/invite", COORDINATOR),
    ("/coordinate/audit", COORDINATOR),
    ("/coordinate/organisations", COORDINATOR),
    ("/coordinate/organisations/new", COORDINATOR),
    ("/coordinate/applications/{application}", IN_SCOPE),
    ("/coordinate/members/{subject}", IN_SCOPE),
]

ACTIONS: list[tuple[str, dict[str, str], dict[str, str]]] = [
    ("/coordinate/members/{subject}/suspend", {"suspend_reason": "Matrix check"}, IN_SCOPE_ACTION),
    (
        "/coordinate/members/{subject}/type",
        {"member_type": "researcher", "type_reason": "x"},
        IN_SCOPE_ACTION,
    ),
    (
        "/coordinate/applications/{application}/decision",
        {"decision": "request_info", "message": "Which programme do you run?"},
        IN_SCOPE_ACTION,
    ),
    (
        "/coordinate/members/{subject}/role",
        {"scope": "countries", "countries": "PT", "role_reason": "Matrix check"},
        ADMIN_ACTION,
    ),
    # Renewing returns to the membership page, which is what the renew outcome means here.
    ("/account/membership/renew", {}, _row(SIGNIN, SIGNIN, RENEW, RENEW, RENEW, RENEW, RENEW)),
]

API_READS: list[tuple[str, dict[str, str]]] = [
    ("/api/v1/me", _row(SIGNIN, SIGNIN, OK, OK, OK, OK, OK)),
    ("/api/v1/members", _row(SIGNIN, SIGNIN, FORBIDDEN, OK, OK, OK, OK)),
    ("/api/v1/members/{subject}", _row(SIGNIN, SIGNIN, FORBIDDEN, OK, OK, OK, OK)),
    ("/api/v1/applications", _row(SIGNIN, SIGNIN, FORBIDDEN, FORBIDDEN, OK, OK, OK)),
    ("/api/v1/organisations", PUBLIC),
]

API_WRITES: list[tuple[str, dict[str, object], dict[str, str]]] = [
    (
        "/api/v1/applications/{application}/decision",
        {"decision": "request_info", "message": "Which programme do you run?"},
        _row(SIGNIN, SIGNIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, OK),
    ),
    (
        "/api/v1/organisations",
        {"name": "Matrix New Organisation", "country": "PT", "type": "ngo"},
        _row(SIGNIN, SIGNIN, FORBIDDEN, FORBIDDEN, OK, OK, OK),
    ),
]


def _path(template: str, world: World) -> str:
    return template.format(subject=world.subject.id, application=world.application.id)


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
    _as(client, db_session, world, role)

    response = client.get(_path(template, world), follow_redirects=False)

    assert _outcome(response, api=False) == expected[role]


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
    _as(client, db_session, world, role)

    response = client.post_form(_path(template, world), form, follow_redirects=False)

    assert _outcome(response, api=False) == expected[role]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("template", "expected"), API_READS, ids=[p for p, _ in API_READS])
def test_api_reads(
    client: PortalClient,
    db_session: Session,
    world: World,
    role: str,
    template: str,
    expected: dict[str, str],
) -> None:
    _as(client, db_session, world, role)

    response = client.get(_path(template, world))

    assert _outcome(response, api=True) == expected[role]
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("template", "body", "expected"), API_WRITES, ids=[p for p, _, _ in API_WRITES]
)
def test_api_writes(
    client: PortalClient,
    db_session: Session,
    world: World,
    role: str,
    template: str,
    body: dict[str, object],
    expected: dict[str, str],
) -> None:
    _as(client, db_session, world, role)
    headers = {}
    if world.actors[role] is not None:
        headers["X-CSRF-Token"] = client.csrf_token("/")

    response = client.post(_path(template, world), json=body, headers=headers)

    assert _outcome(response, api=True) == expected[role]


def test_renewal_by_each_kind_of_member_extends_the_membership(
    client: PortalClient, db_session: Session, world: World
) -> None:
    lapsed = world.actors["lapsed"]
    assert lapsed is not None
    _as(client, db_session, world, "lapsed")

    client.post_form("/account/membership/renew", {}, follow_redirects=False)

    db_session.refresh(lapsed)
    assert lapsed.status == "active"
    assert lapsed.membership_expires_on is not None
    assert lapsed.membership_expires_on > date.today()


@pytest.mark.parametrize("role", ROLES)
def test_the_applicants_link_is_the_applicants_key(
    client: PortalClient, db_session: Session, world: World, role: str
) -> None:
    """The secret link works for whoever holds it; a wrong secret shows nothing."""
    _as(client, db_session, world, role)

    with_secret = client.get(f"/applications/{APPLICATION_SECRET}")
    without = client.get("/applications/not-the-secret")

    assert with_secret.status_code == 200
    assert "Matrix Applicant" in with_secret.text
    assert without.status_code == 404


@pytest.mark.parametrize(("template", "expected"), PAGES, ids=[page for page, _ in PAGES])
def test_pages_render_as_htmx_fragments(
    client: PortalClient,
    db_session: Session,
    world: World,
    template: str,
    expected: dict[str, str],
) -> None:
    """What htmx swaps in: the page's content block alone, for whoever may see the page."""
    _as(client, db_session, world, "admin")

    response = client.get(_path(template, world), headers={"HX-Request": "true"})

    assert expected["admin"] == OK
    assert response.status_code == 200
    if response.headers["content-type"].startswith("text/html"):
        assert "<html" not in response.text
        assert "<main" not in response.text
