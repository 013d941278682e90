"""Rules of the members domain. Functions take a Session and never commit."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from app.auth.passwords import hash_password, password_problem, verify_password
from app.config import get_settings
from app.db import utcnow
from app.kit.errors import PortalError
from app.kit.i18n import _
from app.members import repository
from app.members.models import MEMBER_TYPES, ROLES, Member
from app.organisations.models import Organisation


class MemberExists(PortalError):
    status_code = 409


class InvalidMember(PortalError):
    status_code = 422


def create_member(
    session: Session,
    *,
    email: str,
    full_name: str,
    password: str | None,
    role: str = "member",
    member_type: str = "other",
    country: str | None = None,
    organisations: list[Organisation] | None = None,
    is_demo: bool = False,
    coordinates_network: bool = False,
    email_verified: bool = False,
    membership_days: int | None = None,
) -> Member:
    """Create an active member; the password is hashed, the e-mail stored lower-cased."""
    normalised = email.strip().lower()
    if "@" not in normalised or normalised.startswith("@") or normalised.endswith("@"):
        raise InvalidMember(_("Enter an e-mail address such as name@example.org."))
    if role not in ROLES:
        raise InvalidMember(_("Unknown role: %(role)s", role=role))
    if member_type not in MEMBER_TYPES:
        raise InvalidMember(_("Unknown member type: %(type)s", type=member_type))
    if password is not None:
        problem = password_problem(password, normalised)
        if problem:
            raise InvalidMember(problem)
    if repository.get_by_email(session, normalised) is not None:
        raise MemberExists(_("A member with this e-mail address already exists."))
    member = Member(
        email=normalised,
        full_name=full_name.strip(),
        password_hash=hash_password(password) if password else None,
        role=role,
        member_type=member_type,
        country=country,
        is_demo=is_demo,
        status="active",
        coordinates_network=coordinates_network,
        email_verified_at=utcnow() if email_verified else None,
        membership_expires_on=date.today()
        + timedelta(days=membership_days or get_settings().membership_period_days),
        profile_visibility={},
    )
    member.organisations = list(organisations or [])
    session.add(member)
    session.flush()
    return member


def authenticate(session: Session, email: str, password: str) -> Member | None:
    """The active member with this e-mail and password, or None (same effort either way)."""
    member = repository.get_by_email(session, email)
    valid = verify_password(member.password_hash if member else None, password)
    if member is None or not valid or not member.can_sign_in:
        return None
    return member


# Applications


def create_member_from_application(
    session: Session,
    *,
    email: str,
    full_name: str,
    country: str,
    member_type: str,
    organisations: list[Organisation],
    expertise: list[str],
    languages: list[str],
) -> Member:
    """The member an approved application becomes: no password yet, e-mail not verified.

    The applicant sets a password through a mailed link (or signs in with single sign-on).
    """
    from app.members.models import MemberExpertise, MemberLanguage

    member = create_member(
        session,
        email=email,
        full_name=full_name,
        password=None,
        member_type=member_type,
        country=country,
        organisations=organisations,
        email_verified=False,
    )
    session.add_all(
        MemberExpertise(member_id=member.id, area=area) for area in dict.fromkeys(expertise)
    )
    session.add_all(
        MemberLanguage(member_id=member.id, language=code) for code in dict.fromkeys(languages)
    )
    session.flush()
    return member
