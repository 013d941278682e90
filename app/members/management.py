"""Rules of managing members: invite, suspend, reinstate, member type, coordinator role, renew.

Every change checks the permission rules in ``app.members.permissions``, writes an audit entry
and queues the e-mail that tells the member, all in the caller's transaction.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth import account_tokens, sessions
from app.config import get_settings
from app.kit.errors import PermissionDenied, PortalError
from app.kit.i18n import _
from app.members import permissions, service
from app.members.models import MEMBER_TYPES, CoordinatorCountry, Member
from app.members.vocabulary import COUNTRIES
from app.organisations.models import Organisation
from app.outbox import service as outbox

REASON_MAX_LENGTH = 2000


class ManagementError(PortalError):
    """A refused change; ``field`` names the form field the message belongs to."""

    status_code = 422

    def __init__(self, message: str, field: str = "form") -> None:
        super().__init__(message)
        self.field = field


def _require_manage(actor: Member, member: Member) -> None:
    if not permissions.can_manage_member(actor, member):
        raise PermissionDenied()


def _clean_reason(reason: str | None, field: str, *, required: bool) -> str | None:
    cleaned = (reason or "").strip()
    if required and not cleaned:
        raise ManagementError(_("Give a reason; the member and the audit log will see it."), field)
    if len(cleaned) > REASON_MAX_LENGTH:
        raise ManagementError(
            _("Keep the reason under %(count)s characters.", count=REASON_MAX_LENGTH), field
        )
    return cleaned or None


def _link(path: str) -> str:
    return get_settings().base_url.rstrip("/") + path


def _mail(session: Session, member: Member, template: str, **context: Any) -> None:
    outbox.enqueue(
        session, to=member.email, template=template, context={"name": member.full_name, **context}
    )


def suspend(session: Session, actor: Member, member: Member, reason: str | None) -> None:
    """Suspend: the member cannot sign in, every session ends now, the member is told why."""
    _require_manage(actor, member)
    cleaned = _clean_reason(reason, "suspend_reason", required=True)
    if member.status not in ("active", "lapsed"):
        raise ManagementError(_("Only active or lapsed members can be suspended."))
    before = member.status
    member.status = "suspended"
    member.status_reason = cleaned
    sessions.end_all(session, member.id)
    _mail(session, member, "member_suspended", reason=cleaned)
    _record(
        session,
        actor,
        member,
        "member.suspend",
        before={"status": before},
        after={"status": "suspended"},
        reason=cleaned,
    )
    session.flush()


def reinstate(
    session: Session, actor: Member, member: Member, reason: str | None, today: date | None = None
) -> None:
    """Lift a suspension: active again, or lapsed when the membership ran out meanwhile."""
    _require_manage(actor, member)
    cleaned = _clean_reason(reason, "reinstate_reason", required=True)
    if member.status != "suspended":
        raise ManagementError(_("Only suspended members can be reinstated."))
    today = today or date.today()
    expired = member.membership_expires_on is not None and member.membership_expires_on < today
    member.status = "lapsed" if expired else "active"
    member.status_reason = None
    _mail(
        session,
        member,
        "member_reinstated",
        reason=cleaned,
        lapsed=expired,
        membership_link=_link("/account/membership"),
    )
    _record(
        session,
        actor,
        member,
        "member.reinstate",
        before={"status": "suspended"},
        after={"status": member.status},
        reason=cleaned,
    )
    session.flush()


def change_type(
    session: Session, actor: Member, member: Member, member_type: str, reason: str | None = None
) -> bool:
    """Change the member type; returns False when it was already that type."""
    _require_manage(actor, member)
    if member_type not in MEMBER_TYPES:
        raise ManagementError(_("Choose one of the member types."), "member_type")
    cleaned = _clean_reason(reason, "type_reason", required=False)
    if member.member_type == member_type:
        return False
    before = member.member_type
    member.member_type = member_type
    _record(
        session,
        actor,
        member,
        "member.change_type",
        before={"member_type": before},
        after={"member_type": member_type},
        reason=cleaned,
    )
    session.flush()
    return True


def _record(
    session: Session,
    actor: Member,
    member: Member,
    action: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """The audit entry of a change to ``member``."""
    audit.record(
        session,
        actor=actor,
        action=action,
        subject_type="member",
        subject_id=member.id,
        subject_label=member.full_name,
        country=member.country,
        before=before,
        after=after,
        reason=reason,
    )


def _only_changed(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``before`` and ``after`` of an audit entry: only the fields that changed."""
    changed = [key for key in after if after[key] != before[key]]
    return {key: before[key] for key in changed}, {key: after[key] for key in changed}


def _role_state(member: Member) -> dict[str, Any]:
    return {
        "role": member.role,
        "coordinates_network": member.coordinates_network,
        "coordinator_countries": sorted(scope.country for scope in member.coordinator_countries),
    }


def set_coordinator_scope(
    session: Session,
    actor: Member,
    member: Member,
    *,
    network: bool,
    countries: list[str],
    reason: str | None = None,
) -> bool:
    """Admins make a member a coordinator of the network or of some countries (or change it).

    Needs ``member.coordinator_countries`` loaded. Returns False when nothing changed.
    """
    if not (permissions.can_grant_roles(actor) and permissions.can_manage_member(actor, member)):
        raise PermissionDenied()
    if member.is_admin:
        raise ManagementError(_("Administrators keep their role; it is changed on the server."))
    if member.status != "active":
        raise ManagementError(_("Only active members can become coordinators."))
    chosen = sorted({code.strip().upper() for code in countries if code.strip()})
    unknown = [code for code in chosen if code not in COUNTRIES]
    if unknown:
        raise ManagementError(_("Choose countries from the list."), "countries")
    if not network and not chosen:
        raise ManagementError(_("Choose at least one country, or the whole network."), "countries")
    cleaned = _clean_reason(reason, "role_reason", required=False)
    before = _role_state(member)
    member.role = "coordinator"
    member.coordinates_network = network
    scope = [] if network else chosen
    kept = [row for row in member.coordinator_countries if row.country in scope]
    known = {row.country for row in kept}
    member.coordinator_countries = kept + [
        CoordinatorCountry(country=code) for code in scope if code not in known
    ]
    session.flush()
    after = _role_state(member)
    if after == before:
        return False
    _mail(
        session,
        member,
        "coordinator_role_changed",
        granted=True,
        network=network,
        countries=scope,
        needs_two_factor=member.totp_enabled_at is None,
        link=_link("/coordinate"),
        two_factor_link=_link("/account/security/two-factor"),
    )
    before, after = _only_changed(before, after)
    _record(
        session,
        actor,
        member,
        "member.grant_coordinator",
        before=before,
        after=after,
        reason=cleaned,
    )
    return True


def revoke_coordinator(
    session: Session, actor: Member, member: Member, reason: str | None = None
) -> bool:
    """Admins take the coordinator role back; returns False when the member had none."""
    if not (permissions.can_grant_roles(actor) and permissions.can_manage_member(actor, member)):
        raise PermissionDenied()
    if member.is_admin:
        raise ManagementError(_("Administrators keep their role; it is changed on the server."))
    cleaned = _clean_reason(reason, "role_reason", required=False)
    if member.role != "coordinator":
        return False
    before = _role_state(member)
    member.role = "member"
    member.coordinates_network = False
    member.coordinator_countries = []
    session.flush()
    after = _role_state(member)
    _mail(session, member, "coordinator_role_changed", granted=False)
    before, after = _only_changed(before, after)
    _record(
        session,
        actor,
        member,
        "member.revoke_coordinator",
        before=before,
        after=after,
        reason=cleaned,
    )
    return True


def invite(
    session: Session,
    actor: Member,
    *,
    email: str,
    full_name: str,
    country: str,
    member_type: str,
    organisation: Organisation | None,
) -> Member:
    """Create the member, issue a set-password link and mail an invitation from ``actor``.

    Raises ManagementError with the field of the first problem found.
    """
    errors = invitation_errors(
        actor, email=email, full_name=full_name, country=country, member_type=member_type
    )
    if errors:
        field, message = next(iter(errors.items()))
        raise ManagementError(message, field)
    try:
        member = service.create_member(
            session,
            email=email,
            full_name=full_name,
            password=None,
            member_type=member_type,
            country=country,
            organisations=[organisation] if organisation else [],
            email_verified=False,
        )
    except service.MemberExists as error:
        raise ManagementError(
            _("A member with this e-mail address already exists."), "email"
        ) from error
    except service.InvalidMember as error:
        raise ManagementError(error.message, "email") from error
    settings = get_settings()
    secret = account_tokens.issue(
        session, member, "set_password", timedelta(days=settings.set_password_days)
    )
    _mail(
        session,
        member,
        "invitation",
        inviter=actor.full_name,
        link=_link("/account/set-password/" + secret),
        days=settings.set_password_days,
        network_name=settings.network_name,
    )
    _record(
        session,
        actor,
        member,
        "member.invite",
        after={
            "email": member.email,
            "country": member.country,
            "member_type": member.member_type,
            "organisations": [organisation.name] if organisation else [],
        },
    )
    return member


def invitation_errors(
    actor: Member, *, email: str, full_name: str, country: str, member_type: str
) -> dict[str, str]:
    """Messages per field for an invitation form (empty when it may go ahead)."""
    errors: dict[str, str] = {}
    address = email.strip()
    if not address:
        errors["email"] = _("Enter the e-mail address of the person you invite.")
    elif "@" not in address or address.startswith("@") or address.endswith("@"):
        errors["email"] = _("Enter an e-mail address such as name@example.org.")
    if not full_name.strip():
        errors["full_name"] = _("Enter the person's name.")
    elif len(full_name.strip()) > 200:
        errors["full_name"] = _("Keep the name under 200 characters.")
    if country not in COUNTRIES:
        errors["country"] = _("Choose a country.")
    elif not permissions.coordinates_country(actor, country):
        errors["country"] = _("You can invite members only to the countries you coordinate.")
    if member_type not in MEMBER_TYPES:
        errors["member_type"] = _("Choose a member type.")
    return errors


def renew(session: Session, member: Member, today: date | None = None) -> date:
    """Renew one period from the later of today and the current expiry; returns the new date."""
    if member.status not in ("active", "lapsed"):
        raise PermissionDenied()
    today = today or date.today()
    current = member.membership_expires_on or today
    before = {"status": member.status, "membership_expires_on": current.isoformat()}
    new_expiry = max(today, current) + timedelta(days=get_settings().membership_period_days)
    member.membership_expires_on = new_expiry
    member.status = "active"
    member.last_reminder_days = None
    after = {"status": "active", "membership_expires_on": new_expiry.isoformat()}
    _mail(
        session,
        member,
        "membership_renewed",
        expires_on=new_expiry,
        link=_link("/account/membership"),
    )
    before, after = _only_changed(before, after)
    _record(
        session,
        member,
        member,
        "member.renew",
        before=before,
        after=after,
    )
    session.flush()
    return new_expiry
