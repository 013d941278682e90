"""factory_boy factories; each test binds them to its own session."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy.orm import Session

from app.auth.passwords import hash_password
from app.db import utcnow
from app.members.models import CoordinatorCountry, Member
from app.organisations.models import Organisation
from app.programmes.models import Programme

_session: Session | None = None
DEFAULT_PASSWORD = "a long test password"
# A fixed base32 secret, so tests can compute the current one-time code.
TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_DEFAULT_HASH = hash_password(DEFAULT_PASSWORD)


def bind(session: Session | None) -> None:
    global _session  # one test at a time owns the factories
    _session = session


def _current_session() -> Session:
    assert _session is not None, "factories used outside a test with db_session"
    return _session


class BaseFactory(SQLAlchemyModelFactory):  # type: ignore[misc]
    class Meta:
        abstract = True
        sqlalchemy_session_factory = _current_session
        sqlalchemy_session_persistence = "flush"


class OrganisationFactory(BaseFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Test Organisation {n}")
    country = "DE"
    organisation_type = "ngo"
    website = None


class MemberFactory(BaseFactory):
    class Meta:
        model = Member

    email = factory.Sequence(lambda n: f"member{n}@example.org")
    full_name = factory.Sequence(lambda n: f"Test Member {n}")
    password_hash = _DEFAULT_HASH
    role = "member"
    member_type = "practitioner"
    country = "DE"
    status = "active"
    organisations = factory.LazyFunction(list)
    email_verified_at = factory.LazyFunction(utcnow)
    membership_expires_on = factory.LazyFunction(lambda: date.today() + timedelta(days=365))
    profile_visibility = factory.LazyFunction(dict)


def organisation(**overrides: Any) -> Organisation:
    """A flushed organisation with sensible defaults."""
    created: Organisation = OrganisationFactory(**overrides)
    return created


def member(**overrides: Any) -> Member:
    """A flushed, active member who signs in with ``DEFAULT_PASSWORD``."""
    created: Member = MemberFactory(**overrides)
    return created


def coordinator(
    countries: list[str] | None = None, *, network: bool = False, **overrides: Any
) -> Member:
    """A coordinator with two-factor authentication on, for ``countries`` or the network."""
    values: dict[str, Any] = {
        "role": "coordinator",
        "coordinates_network": network,
        "totp_secret": TEST_TOTP_SECRET,
        "totp_enabled_at": utcnow(),
        "coordinator_countries": [CoordinatorCountry(country=code) for code in countries or []],
    }
    values.update(overrides)
    return member(**values)


def admin(**overrides: Any) -> Member:
    """An admin (who coordinates the whole network) with two-factor authentication on."""
    return coordinator(network=True, role="admin", **overrides)


def programme_content(**overrides: Any) -> dict[str, Any]:
    """Valid content of a programme for parents in Germany and Portugal."""
    values: dict[str, Any] = {
        "title": "Safe Families",
        "summary": "Evening sessions that help parents talk with their children about safety.",
        "description": "## How it works\n\nSix weekly sessions in small groups.",
        "content_language": "en",
        "target_groups": ["parents"],
        "target_subgroups": ["parents"],
        "prevention_level": "primary",
        "settings": ["community"],
        "delivery": ["face_to_face"],
        "abuse_addressed": "both",
        "countries": ["DE", "PT"],
        "languages": ["de", "pt"],
        "age_min": 25,
        "age_max": 60,
        "manual_available": True,
        "visibility": "public",
    }
    values.update(overrides)
    return values


def programme(
    creator: Member | None = None,
    *,
    state: str = "published",
    reviewer: Member | None = None,
    **overrides: Any,
) -> Programme:
    """A programme made through the workflow: ``draft``, ``submitted`` or ``published``."""
    from app.programmes import service as programmes_service

    session = _current_session()
    author = creator or member()
    created = programmes_service.create(session, author, programme_content(**overrides))
    if state in ("submitted", "published"):
        programmes_service.submit(session, author, created)
    if state == "published":
        programmes_service.review(
            session, reviewer or coordinator(network=True), created, "approve", ""
        )
    return created
