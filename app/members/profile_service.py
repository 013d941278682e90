"""A member's own profile and personal data: edit, export everything, erase the account.

Functions take a Session and never commit; each route's transaction holds a whole change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, func, inspect, or_, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.applications.models import Application, ApplicationMessage
from app.audit import service as audit
from app.audit.models import AuditEvent
from app.auth import sessions
from app.auth.models import (
    AccountToken,
    ApiToken,
    OidcIdentity,
    RecoveryCode,
    SignInAttempt,
    UserSession,
)
from app.auth.passwords import verify_password
from app.db import utcnow
from app.kit.i18n import N_, _
from app.kit.ids import parse_id
from app.members.models import (
    PROFILE_FIELDS,
    VISIBILITY_LEVELS,
    CoordinatorCountry,
    Member,
    MemberExpertise,
    MemberLanguage,
    member_organisation,
)
from app.members.vocabulary import COUNTRIES, EXPERTISE_AREAS, LANGUAGES
from app.organisations.models import Organisation
from app.outbox import service as outbox
from app.outbox.models import OutboxMessage

BIO_MAX_LENGTH = 2000
NAME_MAX_LENGTH = 200
# Stored in English; pages show the translated label for erased members.
ERASED_NAME = "Former member"
ERASED_TEXT = "[erased]"
EXPORT_FORMAT_VERSION = 1

FIELD_LABELS: dict[str, str] = {
    "country": N_("Country"),
    "organisations": N_("Organisations"),
    "member_type": N_("Member type"),
    "expertise": N_("Expertise"),
    "languages": N_("Languages"),
    "bio": N_("About me"),
}


def field_label(code: str) -> str:
    return _(FIELD_LABELS[code]) if code in FIELD_LABELS else code


def display_name(member: Member) -> str:
    """The name pages show: erased members appear as "Former member" in the reader's language."""
    return _(ERASED_NAME) if member.status == "erased" else member.full_name


def erased_email(member_id: int) -> str:
    return f"erased-{member_id}@erased.invalid"


# ---------------------------------------------------------------------------------------
# The profile form


def load_profile(session: Session, member: Member) -> Member:
    """``member`` with organisations, expertise and languages loaded (one query each)."""
    statement = (
        select(Member)
        .where(Member.id == member.id)
        .options(
            selectinload(Member.organisations),
            selectinload(Member.expertise),
            selectinload(Member.languages),
        )
    )
    return session.scalars(statement).one()


def load_for_editing(session: Session, member: Member) -> list[Organisation]:
    """Load ``member``'s organisations, expertise and languages; return every organisation.

    Three queries: the organisations come with a flag for the member's own, which also
    fills the picker, and the member's row itself is not read again.
    """
    statement = (
        select(Organisation, member_organisation.c.member_id)
        .outerjoin(
            member_organisation,
            and_(
                member_organisation.c.organisation_id == Organisation.id,
                member_organisation.c.member_id == member.id,
            ),
        )
        .order_by(func.lower(Organisation.name), Organisation.id)
    )
    rows = session.execute(statement).all()
    set_committed_value(member, "organisations", [row[0] for row in rows if row[1] is not None])
    expertise = select(MemberExpertise).where(MemberExpertise.member_id == member.id)
    set_committed_value(member, "expertise", list(session.scalars(expertise)))
    languages = select(MemberLanguage).where(MemberLanguage.member_id == member.id)
    set_committed_value(member, "languages", list(session.scalars(languages)))
    return [row[0] for row in rows]


@dataclass
class ProfileForm:
    """What the member submitted, kept as typed so an invalid form comes back unchanged."""

    full_name: str = ""
    country: str = ""
    organisation_ids: list[int] = field(default_factory=list)
    expertise: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    bio: str = ""
    visibility: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_member(cls, member: Member) -> ProfileForm:
        """The form filled with the member's current profile (relationships loaded)."""
        return cls(
            full_name=member.full_name,
            country=member.country or "",
            organisation_ids=[organisation.id for organisation in member.organisations],
            expertise=[item.area for item in member.expertise],
            languages=[item.language for item in member.languages],
            bio=member.bio or "",
            visibility={name: member.field_visibility(name) for name in PROFILE_FIELDS},
        )

    @classmethod
    def from_input(
        cls,
        *,
        full_name: str,
        country: str,
        organisations: Iterable[str],
        add_organisation: str,
        expertise: Iterable[str],
        languages: Iterable[str],
        bio: str,
        visibility: dict[str, str],
    ) -> ProfileForm:
        ids: list[int] = []
        for value in [*organisations, add_organisation]:
            organisation_id = parse_id(value)
            if organisation_id is not None and organisation_id not in ids:
                ids.append(organisation_id)
        return cls(
            full_name=full_name.strip(),
            country=country.strip().upper(),
            organisation_ids=ids,
            expertise=list(dict.fromkeys(expertise)),
            languages=list(dict.fromkeys(languages)),
            bio=bio.replace("\r\n", "\n").strip(),
            visibility=dict(visibility),
        )


def validate_profile(form: ProfileForm, organisations: dict[int, Organisation]) -> dict[str, str]:
    """Errors by field name; empty when the form can be saved.

    ``organisations`` are all organisations a member may choose from; while there are
    none, nobody can be asked to choose one.
    """
    errors: dict[str, str] = {}
    if not form.full_name:
        errors["full_name"] = _("Enter your full name.")
    elif len(form.full_name) > NAME_MAX_LENGTH:
        errors["full_name"] = _(
            "Your name can have at most %(count)s characters.", count=NAME_MAX_LENGTH
        )
    if form.country not in COUNTRIES:
        errors["country"] = _("Choose your country.")
    if any(organisation_id not in organisations for organisation_id in form.organisation_ids):
        errors["organisations"] = _("Choose organisations from the list.")
    elif not form.organisation_ids and organisations:
        errors["organisations"] = _("Choose at least one organisation you belong to.")
    if any(code not in EXPERTISE_AREAS for code in form.expertise):
        errors["expertise"] = _("Choose areas of expertise from the list.")
    if any(code not in LANGUAGES for code in form.languages):
        errors["languages"] = _("Choose languages from the list.")
    if len(form.bio) > BIO_MAX_LENGTH:
        errors["bio"] = _(
            "Write at most %(count)s characters (you wrote %(length)s).",
            count=BIO_MAX_LENGTH,
            length=len(form.bio),
        )
    for name in PROFILE_FIELDS:
        if form.visibility.get(name, "members") not in VISIBILITY_LEVELS:
            errors[f"visibility_{name}"] = _("Choose who sees this field.")
    return errors


def update_profile(
    member: Member, form: ProfileForm, organisations: dict[int, Organisation]
) -> None:
    """Apply a validated form to ``member`` (relationships loaded)."""
    member.full_name = form.full_name
    member.country = form.country
    member.bio = form.bio or None
    member.organisations = [
        organisations[organisation_id] for organisation_id in form.organisation_ids
    ]
    wanted_areas = set(form.expertise)
    member.expertise = [item for item in member.expertise if item.area in wanted_areas] + [
        MemberExpertise(area=code)
        for code in form.expertise
        if code not in {item.area for item in member.expertise}
    ]
    wanted_languages = set(form.languages)
    member.languages = [item for item in member.languages if item.language in wanted_languages] + [
        MemberLanguage(language=code)
        for code in form.languages
        if code not in {item.language for item in member.languages}
    ]
    # A new dict, so the JSON column is seen as changed.
    member.profile_visibility = {
        name: form.visibility.get(name, "members") for name in PROFILE_FIELDS
    }


# ---------------------------------------------------------------------------------------
# Export of everything the portal holds about a member

# Columns that are secrets or their hashes: never exported.
SECRET_COLUMNS = frozenset({"password_hash", "totp_secret", "token_hash", "code_hash"})
SECRET_COLUMNS_BY_TABLE = {"application": frozenset({"access_token_hash"})}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _columns(record: object, *, skip: Iterable[str] = ()) -> dict[str, Any]:
    """Every column of ``record`` as JSON-ready values, secrets left out."""
    mapper = inspect(type(record))
    table_name = getattr(type(record), "__tablename__", "")
    excluded = SECRET_COLUMNS | SECRET_COLUMNS_BY_TABLE.get(table_name, frozenset()) | set(skip)
    return {
        column.key: _json_value(getattr(record, column.key))
        for column in mapper.column_attrs
        if column.key not in excluded
    }


def export_data(session: Session, member: Member) -> dict[str, Any]:
    """Everything the portal holds about ``member``, as JSON-ready data without secrets."""
    profile = load_profile(session, member)
    session.refresh(profile, ["coordinator_countries"])
    account = _columns(profile)
    account["two_factor_enabled"] = profile.totp_enabled_at is not None
    account["profile_visibility"] = {
        name: profile.field_visibility(name) for name in PROFILE_FIELDS
    }
    account["organisations"] = [
        _columns(organisation, skip=("is_demo",)) for organisation in profile.organisations
    ]
    account["expertise"] = [item.area for item in profile.expertise]
    account["languages"] = [item.language for item in profile.languages]
    account["coordinator_countries"] = sorted(
        scope.country for scope in profile.coordinator_countries
    )

    def rows(statement: Any, *, skip: Iterable[str] = ("member_id",)) -> list[dict[str, Any]]:
        return [_columns(record, skip=skip) for record in session.scalars(statement)]

    applications = list(
        session.scalars(
            select(Application)
            .where(or_(Application.email == profile.email, Application.member_id == profile.id))
            .options(selectinload(Application.messages))
            .order_by(Application.id)
        )
    )
    exported_applications = []
    for application in applications:
        item = _columns(application)
        item["messages"] = [
            {
                "created_at": _json_value(message.created_at),
                "kind": message.kind,
                "from": "applicant" if message.author_id is None else "coordinator",
                "body": message.body,
            }
            for message in application.messages
        ]
        exported_applications.append(item)

    recovery_codes = list(
        session.scalars(select(RecoveryCode).where(RecoveryCode.member_id == profile.id))
    )
    audit_events = select(AuditEvent).where(
        or_(
            AuditEvent.actor_id == profile.id,
            (AuditEvent.subject_type == "member") & (AuditEvent.subject_id == profile.id),
        )
    )
    return {
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": _json_value(utcnow()),
        "member": account,
        "sessions": rows(
            select(UserSession)
            .where(UserSession.member_id == profile.id)
            .order_by(UserSession.created_at)
        ),
        "sign_in_attempts": rows(
            select(SignInAttempt)
            .where(SignInAttempt.email == profile.email)
            .order_by(SignInAttempt.attempted_at),
            skip=(),
        ),
        "linked_identities": rows(
            select(OidcIdentity)
            .where(OidcIdentity.member_id == profile.id)
            .order_by(OidcIdentity.id)
        ),
        "api_tokens": rows(
            select(ApiToken).where(ApiToken.member_id == profile.id).order_by(ApiToken.id)
        ),
        "account_links": rows(
            select(AccountToken)
            .where(AccountToken.member_id == profile.id)
            .order_by(AccountToken.id)
        ),
        "recovery_codes": {
            "total": len(recovery_codes),
            "unused": sum(1 for code in recovery_codes if code.used_at is None),
        },
        "applications": exported_applications,
        "audit_events": rows(audit_events.order_by(AuditEvent.id), skip=()),
        "emails": rows(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == profile.email)
            .order_by(OutboxMessage.id),
            # Bodies may hold links with single-use secrets; the subjects say what was sent.
            skip=("body_text", "body_html", "last_error", "attempts", "next_attempt_at"),
        ),
    }


# ---------------------------------------------------------------------------------------
# Erasure


def erasure_errors(member: Member, *, password: str, email: str, confirmed: bool) -> dict[str, str]:
    """Errors by field; the member proves it is them by password, or by e-mail without one."""
    errors: dict[str, str] = {}
    if member.password_hash:
        if not password:
            errors["password"] = _("Enter your current password.")
        elif not verify_password(member.password_hash, password):
            errors["password"] = _("The password is not correct.")
    elif email.strip().lower() != member.email:
        errors["email"] = _("Type the e-mail address of your account exactly.")
    if not confirmed:
        errors["confirm"] = _("Tick the box to confirm that your account should be deleted.")
    return errors


def erase(session: Session, member: Member) -> None:
    """Erase ``member``'s personal data in the caller's transaction.

    The account row stays (published content keeps pointing at it, shown as "Former
    member"); everything that identifies the person is removed or replaced, every session
    ends, and a last e-mail to the old address confirms the deletion.
    """
    old_email = member.email
    old_status = member.status
    country = member.country
    new_email = erased_email(member.id)

    # Mail still queued for the old address must not go out after the erasure, and sent
    # mail holds the person's name; the confirmation below is the only one left.
    session.execute(delete(OutboxMessage).where(OutboxMessage.recipient == old_email))
    outbox.enqueue(
        session,
        to=old_email,
        template="account_deleted",
        context={"name": member.full_name},
    )

    application_ids = select(Application.id).where(
        or_(Application.email == old_email, Application.member_id == member.id)
    )
    session.execute(
        update(ApplicationMessage)
        .where(ApplicationMessage.application_id.in_(application_ids))
        .values(body=ERASED_TEXT)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Application)
        .where(or_(Application.email == old_email, Application.member_id == member.id))
        .values(
            full_name=ERASED_NAME,
            email=new_email,
            motivation=ERASED_TEXT,
            oidc_provider=None,
            oidc_subject=None,
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Application)
        .where(Application.email == new_email, Application.decision_reason.is_not(None))
        .values(decision_reason=ERASED_TEXT)
        .execution_options(synchronize_session=False)
    )

    for model in (MemberExpertise, MemberLanguage, CoordinatorCountry):
        session.execute(
            delete(model)
            .where(model.member_id == member.id)
            .execution_options(synchronize_session=False)
        )
    session.execute(delete(member_organisation).where(member_organisation.c.member_id == member.id))
    for token_model in (RecoveryCode, OidcIdentity, ApiToken, AccountToken):
        session.execute(
            delete(token_model)
            .where(token_model.member_id == member.id)
            .execution_options(synchronize_session=False)
        )
    session.execute(delete(SignInAttempt).where(SignInAttempt.email == old_email))

    sessions.end_all(session, member.id)
    # Ended sessions are kept as records, but without the address and browser they came from.
    session.execute(
        update(UserSession)
        .where(UserSession.member_id == member.id)
        .values(ip_address=None, user_agent=None)
        .execution_options(synchronize_session=False)
    )

    member.status = "erased"
    member.status_reason = None
    member.full_name = ERASED_NAME
    member.email = new_email
    member.password_hash = None
    member.password_changed_at = None
    member.email_verified_at = None
    member.totp_secret = None
    member.totp_enabled_at = None
    if hasattr(member, "totp_last_used_step"):  # added by the two-factor work
        member.totp_last_used_step = None
    member.bio = None
    member.country = None
    member.profile_visibility = {}
    member.role = "member"
    member.coordinates_network = False
    member.membership_expires_on = None
    member.last_reminder_days = None
    member.last_sign_in_at = None
    session.flush()
    # After the renaming, so the entry's actor label is "Former member" as well.
    audit.record(
        session,
        actor=member,
        action="member.erase",
        subject_type="member",
        subject_id=member.id,
        subject_label=ERASED_NAME,
        country=country,
        before={"status": old_status},
        after={"status": "erased"},
    )
    # Everything loaded before the bulk statements is stale now.
    session.expire_all()
