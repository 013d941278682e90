"""Rules of membership applications: apply, follow, answer, withdraw, and the decisions.

Functions take a Session and never commit. Every change of state mails the applicant in the
language they applied in; coordinators' decisions go to the audit log.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.applications import repository
from app.applications.models import OPEN_STATUSES, Application, ApplicationMessage
from app.audit import service as audit_service
from app.auth import account_tokens
from app.auth.models import OidcIdentity
from app.config import SUPPORTED_LANGUAGES, get_settings
from app.db import utcnow
from app.kit.errors import NotFound, PermissionDenied, PortalError
from app.kit.i18n import N_, _, format_date
from app.kit.pagination import Page
from app.kit.tokens import hash_token, new_token
from app.members import permissions, vocabulary
from app.members import repository as members_repository
from app.members import service as members_service
from app.members.models import MEMBER_TYPES, Member
from app.organisations import service as organisations_service
from app.organisations.models import ORGANISATION_TYPES, Organisation
from app.outbox import service as outbox
from app.pages.service import PRIVACY_NOTICE_VERSION

MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 320
MAX_WEBSITE_LENGTH = 500
MAX_TEXT_LENGTH = 5000

STATUS_LABELS: dict[str, str] = {
    "submitted": N_("Waiting for a coordinator"),
    "info_requested": N_("Information requested"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "withdrawn": N_("Withdrawn"),
}
# The queue's status filter: the open ones by default, or one status, or all.
STATUS_FILTERS: dict[str, tuple[str, ...]] = {
    "open": OPEN_STATUSES,
    "submitted": ("submitted",),
    "info_requested": ("info_requested",),
    "approved": ("approved",),
    "rejected": ("rejected",),
    "withdrawn": ("withdrawn",),
    "all": ("submitted", "info_requested", "approved", "rejected", "withdrawn"),
}
STATUS_FILTER_LABELS: dict[str, str] = {
    "open": N_("Open (waiting for a coordinator or for the applicant)"),
    **STATUS_LABELS,
    "all": N_("All"),
}


class InvalidApplication(PortalError):
    """Some fields are not valid; ``errors`` maps each field to its message."""

    status_code = 422
    title = N_("Some of the input is not valid")

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


class EmailInUse(PortalError):
    """A member, or an application under review, already has this e-mail address."""

    status_code = 409


class InvalidDecision(InvalidApplication):
    pass


class AlreadyDecided(PortalError):
    status_code = 409
    title = N_("This application has already been decided")


class ApplicantAlreadyMember(PortalError):
    status_code = 409


class ApplicationClosed(PortalError):
    status_code = 409
    title = N_("This application can no longer be changed")


class InvalidAccessLink(NotFound):
    title = N_("This link is not valid")


@dataclass
class ApplicationDraft:
    """What an applicant entered, as typed; ``validate`` says what is wrong with it."""

    full_name: str = ""
    email: str = ""
    country: str = ""
    organisation_id: int | None = None
    organisation_name: str = ""
    organisation_type: str = ""
    organisation_website: str = ""
    member_type: str = ""
    expertise: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    motivation: str = ""
    privacy_consent: bool = False


@dataclass(frozen=True)
class SsoIdentity:
    """The identity a person signed in with before applying (put in the session by SSO)."""

    provider: str
    subject: str
    email: str
    name: str

    @classmethod
    def from_session(cls, value: object) -> SsoIdentity | None:
        if not isinstance(value, dict):
            return None
        provider, subject = value.get("provider"), value.get("subject")
        if not isinstance(provider, str) or not isinstance(subject, str) or not subject:
            return None
        return cls(
            provider=provider,
            subject=subject,
            email=str(value.get("email") or ""),
            name=str(value.get("name") or ""),
        )


def provider_label(provider: str | None) -> str:
    """The configured button label of an SSO provider (its name if it is not configured)."""
    for configured in get_settings().oidc_providers:
        if configured.name == provider:
            return configured.label
    return provider or ""


def normalise_email(value: str) -> str:
    return value.strip().lower()


def _valid_website(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value


def validate(session: Session, draft: ApplicationDraft) -> dict[str, str]:
    """Each field with a problem and a message that says how to fix it."""
    errors: dict[str, str] = {}
    name = draft.full_name.strip()
    if not name:
        errors["full_name"] = _("Enter your full name.")
    elif len(name) > MAX_NAME_LENGTH:
        errors["full_name"] = _(
            "The name can have at most %(count)s characters.", count=MAX_NAME_LENGTH
        )

    email = normalise_email(draft.email)
    if not email:
        errors["email"] = _("Enter your e-mail address.")
    else:
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError:
            errors["email"] = _("Enter an e-mail address such as name@example.org.")
        else:
            if len(email) > MAX_EMAIL_LENGTH:
                errors["email"] = _("This e-mail address is too long.")

    if not draft.country:
        errors["country"] = _("Choose your country.")
    elif draft.country not in vocabulary.COUNTRIES:
        errors["country"] = _("Choose a country from the list.")

    _validate_organisation(session, draft, errors)

    if draft.member_type not in MEMBER_TYPES:
        errors["member_type"] = _("Choose what describes your work best.")

    if not draft.expertise:
        errors["expertise"] = _("Choose at least one area of expertise.")
    elif any(code not in vocabulary.EXPERTISE_AREAS for code in draft.expertise):
        errors["expertise"] = _("Choose areas of expertise from the list.")

    if not draft.languages:
        errors["languages"] = _("Choose at least one language you work in.")
    elif any(code not in vocabulary.LANGUAGES for code in draft.languages):
        errors["languages"] = _("Choose languages from the list.")

    motivation = draft.motivation.strip()
    if not motivation:
        errors["motivation"] = _("Tell the coordinators why you would like to join.")
    elif len(motivation) > MAX_TEXT_LENGTH:
        errors["motivation"] = _(
            "Keep your motivation to %(limit)s characters or fewer (it has %(count)s).",
            limit=MAX_TEXT_LENGTH,
            count=len(motivation),
        )

    if not draft.privacy_consent:
        errors["privacy_consent"] = _("To apply, agree to the privacy notice.")
    return errors


def _validate_organisation(
    session: Session, draft: ApplicationDraft, errors: dict[str, str]
) -> None:
    proposed = draft.organisation_name.strip()
    if draft.organisation_id is not None and proposed:
        errors["organisation_id"] = _(
            "Choose an organisation from the list or propose a new one, not both."
        )
        return
    if draft.organisation_id is None and not proposed:
        errors["organisation_id"] = _(
            "Choose your organisation from the list, or propose a new one below."
        )
        return
    if draft.organisation_id is not None:
        if session.get(Organisation, draft.organisation_id) is None:
            errors["organisation_id"] = _("Choose an organisation from the list.")
        return
    if len(proposed) > MAX_NAME_LENGTH:
        errors["organisation_name"] = _(
            "The name can have at most %(count)s characters.", count=MAX_NAME_LENGTH
        )
    if draft.organisation_type not in ORGANISATION_TYPES:
        errors["organisation_type"] = _("Choose the type of the organisation.")
    website = draft.organisation_website.strip()
    if website and (len(website) > MAX_WEBSITE_LENGTH or not _valid_website(website)):
        errors["organisation_website"] = _(
            "Enter the full address of the website, starting with https://"
        )


def _check_email_free(session: Session, email: str) -> None:
    if members_repository.get_by_email(session, email) is not None:
        raise EmailInUse(
            _(
                "A member already uses this e-mail address. Sign in instead, or reset your "
                "password if you have forgotten it."
            )
        )
    if repository.open_application_for_email(session, email) is not None:
        raise EmailInUse(
            _(
                "An application with this e-mail address is already being reviewed. Follow it "
                "through the link in the e-mail we sent you."
            )
        )


def _link(path: str) -> str:
    return get_settings().base_url.rstrip("/") + path


def access_link(secret: str) -> str:
    return _link(f"/applications/{secret}")


def coordinator_link(application: Application) -> str:
    return _link(f"/coordinate/applications/{application.id}")


def _mail_applicant(
    session: Session, application: Application, template: str, **context: Any
) -> None:
    outbox.enqueue(
        session,
        to=application.email,
        template=template,
        context={"application": application, "name": application.full_name, **context},
        language_code=application.language,
    )


def _mail_coordinators(
    session: Session, coordinators: Collection[Member], template: str, **context: Any
) -> None:
    for coordinator in coordinators:
        outbox.enqueue(
            session,
            to=coordinator.email,
            template=template,
            context={"coordinator_name": coordinator.full_name, **context},
            language_code=get_settings().default_language,
        )


def submit(
    session: Session,
    draft: ApplicationDraft,
    *,
    language: str,
    sso: SsoIdentity | None = None,
) -> tuple[Application, str]:
    """Store an application and mail the applicant their secret link; coordinators are told.

    Returns the application and the secret of the applicant's link (only its hash is kept).
    """
    errors = validate(session, draft)
    if errors:
        raise InvalidApplication(errors)
    email = normalise_email(draft.email)
    _check_email_free(session, email)
    proposed = draft.organisation_name.strip()
    secret = new_token()
    now = utcnow()
    application = Application(
        full_name=draft.full_name.strip(),
        email=email,
        country=draft.country,
        organisation_id=draft.organisation_id,
        proposed_organisation_name=proposed or None,
        proposed_organisation_type=draft.organisation_type if proposed else None,
        proposed_organisation_website=(draft.organisation_website.strip() or None)
        if proposed
        else None,
        member_type=draft.member_type,
        expertise=list(dict.fromkeys(draft.expertise)),
        languages=list(dict.fromkeys(draft.languages)),
        motivation=draft.motivation.strip(),
        privacy_notice_version=PRIVACY_NOTICE_VERSION,
        privacy_consented_at=now,
        status="submitted",
        access_token_hash=hash_token(secret),
        oidc_provider=sso.provider if sso else None,
        oidc_subject=sso.subject if sso else None,
        language=language if language in SUPPORTED_LANGUAGES else "en",
    )
    try:
        # The unique index on open applications' e-mail settles two simultaneous submissions.
        with session.begin_nested():
            session.add(application)
            session.flush()
    except IntegrityError as error:
        raise EmailInUse(
            _("An application with this e-mail address is already being reviewed.")
        ) from error
    _mail_applicant(session, application, "application_received", link=access_link(secret))
    coordinators = repository.coordinators_of_country(session, application.country, network=True)
    _mail_coordinators(
        session,
        coordinators,
        "application_new_for_coordinators",
        applicant_name=application.full_name,
        country=application.country,
        link=coordinator_link(application),
    )
    return application, secret


def by_secret(session: Session, secret: str) -> Application:
    """The application behind an applicant's link."""
    application = repository.get_by_token_hash(session, hash_token(secret)) if secret else None
    if application is None:
        raise InvalidAccessLink(
            _(
                "This link is not valid or has been replaced: every e-mail that asks you to act "
                "carries a new link. Use the one in the most recent e-mail from us."
            )
        )
    return application


def answer(session: Session, application: Application, body: str) -> None:
    """The applicant answers a coordinator's question; the application waits again."""
    text = body.strip()
    if not text:
        raise InvalidApplication({"body": _("Write your answer.")})
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidApplication(
            {
                "body": _(
                    "Keep your answer to %(limit)s characters or fewer (it has %(count)s).",
                    limit=MAX_TEXT_LENGTH,
                    count=len(text),
                )
            }
        )
    changed = repository.change_status(
        session, application.id, from_statuses=("info_requested",), values={"status": "submitted"}
    )
    if not changed:
        raise ApplicationClosed(_("There is no question waiting for your answer."))
    session.refresh(application)
    session.add(ApplicationMessage(application_id=application.id, kind="answer", body=text))
    session.flush()
    _mail_applicant(session, application, "application_answer_received")
    coordinators = {
        member.id: member
        for member in repository.coordinators_of_country(
            session, application.country, network=False
        )
    }
    for asker in repository.info_requesters(session, application.id):
        if permissions.is_coordinator(asker):
            coordinators.setdefault(asker.id, asker)
    if not coordinators:
        fallback = repository.coordinators_of_country(session, application.country, network=True)
        coordinators = {member.id: member for member in fallback}
    _mail_coordinators(
        session,
        coordinators.values(),
        "application_answer_for_coordinators",
        applicant_name=application.full_name,
        answer=text,
        link=coordinator_link(application),
    )


def withdraw(session: Session, application: Application) -> None:
    """The applicant takes the application back."""
    changed = repository.change_status(
        session, application.id, from_statuses=OPEN_STATUSES, values={"status": "withdrawn"}
    )
    if not changed:
        raise ApplicationClosed(_("This application has already been closed."))
    session.refresh(application)
    _mail_applicant(session, application, "application_withdrawn")


def coordinator_scope(coordinator: Member) -> frozenset[str] | None:
    """The countries whose applications a coordinator sees; None is the whole network."""
    return permissions.coordinated_countries(coordinator)


def for_coordinator(
    session: Session, application_id: int, coordinator: Member
) -> repository.ApplicationDetail:
    """An application a coordinator may see and decide; 404 or 403 otherwise."""
    found = repository.detail(session, application_id)
    if found is None:
        raise NotFound()
    if not permissions.can_decide_application(coordinator, found.application.country):
        raise PermissionDenied(_("This application comes from a country you do not coordinate."))
    return found


def queue(
    session: Session,
    coordinator: Member,
    *,
    status: str = "open",
    country: str | None = None,
    page: int = 1,
    per_page: int = 25,
) -> Page[repository.QueueRow]:
    """The applications a coordinator looks after, oldest first."""
    return repository.queue(
        session,
        countries=coordinator_scope(coordinator),
        statuses=STATUS_FILTERS.get(status, OPEN_STATUSES),
        country=country or None,
        page=max(1, page),
        per_page=min(max(1, per_page), 100),
    )


def open_counts(session: Session, coordinator: Member) -> dict[str, int]:
    return repository.open_counts(session, coordinator_scope(coordinator))


def _when(moment: datetime | None) -> str:
    return format_date(moment, "medium") if moment else ""


def _refusal(session: Session, application_id: int) -> AlreadyDecided:
    """Why a decision found the application no longer open (or already waiting)."""
    status, decided_by_name, decided_at = repository.decided_by(session, application_id)
    if status == "info_requested":
        asked = repository.last_info_request(session, application_id)
        return AlreadyDecided(
            _(
                "Information was already requested by %(name)s at %(time)s; the applicant has "
                "not answered yet.",
                name=(asked.author_name if asked else None) or _("a coordinator"),
                time=_when(asked.message.created_at if asked else None),
            )
        )
    if status == "withdrawn":
        return AlreadyDecided(_("The applicant has withdrawn this application."))
    return AlreadyDecided(
        _(
            "This application was already decided by %(name)s at %(time)s: %(status)s.",
            name=decided_by_name or _("a coordinator"),
            time=_when(decided_at),
            status=_(STATUS_LABELS.get(status, status)),
        )
    )


def decide(
    session: Session,
    application_id: int,
    coordinator: Member,
    decision: str,
    message: str | None,
) -> Application:
    """Approve, reject or ask for information; exactly one of simultaneous decisions wins.

    Needs ``coordinator.coordinator_countries`` loaded. Raises NotFound, PermissionDenied,
    InvalidDecision, AlreadyDecided or ApplicantAlreadyMember; on success the applicant has
    one e-mail queued and the audit log one entry.
    """
    application = for_coordinator(session, application_id, coordinator).application
    text = (message or "").strip()
    errors: dict[str, str] = {}
    if decision not in ("approve", "reject", "request_info"):
        errors["decision"] = _("Choose a decision.")
    elif decision == "reject" and not text:
        errors["message"] = _("Give the reason for the rejection; the applicant will read it.")
    elif decision == "request_info" and not text:
        errors["message"] = _("Write what you would like to know; the applicant will read it.")
    if len(text) > MAX_TEXT_LENGTH:
        errors["message"] = _(
            "Keep the message to %(limit)s characters or fewer (it has %(count)s).",
            limit=MAX_TEXT_LENGTH,
            count=len(text),
        )
    if errors:
        raise InvalidDecision(errors)
    if decision == "approve":
        return _approve(session, application, coordinator, text)
    if decision == "reject":
        return _reject(session, application, coordinator, text)
    return _request_info(session, application, coordinator, text)


def _audit(
    session: Session,
    application: Application,
    coordinator: Member,
    action: str,
    before: str,
    reason: str | None,
    **after: Any,
) -> None:
    audit_service.record(
        session,
        actor=coordinator,
        action=action,
        subject_type="application",
        subject_id=application.id,
        subject_label=f"{application.full_name} <{application.email}>",
        country=application.country,
        before={"status": before},
        after={"status": application.status, **after},
        reason=reason or None,
    )


def _approve(
    session: Session, application: Application, coordinator: Member, text: str
) -> Application:
    status, _name, _at = repository.decided_by(session, application.id)
    if status not in OPEN_STATUSES:
        raise _refusal(session, application.id)
    if members_repository.get_by_email(session, application.email) is not None:
        raise ApplicantAlreadyMember(
            _(
                "A member with the e-mail address %(email)s exists already, so approving would "
                "make a second account. Reject this application, or ask the person to sign in "
                "with their account.",
                email=application.email,
            )
        )
    changed = repository.change_status(
        session,
        application.id,
        from_statuses=OPEN_STATUSES,
        values={
            "status": "approved",
            "decided_by_id": coordinator.id,
            "decided_at": utcnow(),
            "decision_reason": text or None,
        },
    )
    if not changed:
        raise _refusal(session, application.id)
    session.refresh(application)

    organisations: list[Organisation] = []
    organisation_created = False
    if application.organisation_id is not None:
        existing = session.get(Organisation, application.organisation_id)
        if existing is not None:
            organisations.append(existing)
    elif application.proposed_organisation_name:
        organisation, organisation_created = organisations_service.get_or_create(
            session,
            name=application.proposed_organisation_name,
            country=application.country,
            organisation_type=application.proposed_organisation_type or "other",
            website=application.proposed_organisation_website,
        )
        organisations.append(organisation)
        # From now on the application points at the organisation its proposal became.
        application.organisation_id = organisation.id

    member = members_service.create_member_from_application(
        session,
        email=application.email,
        full_name=application.full_name,
        country=application.country,
        member_type=application.member_type,
        organisations=organisations,
        expertise=list(application.expertise or []),
        languages=list(application.languages or []),
    )
    application.member_id = member.id
    sso_linked = _link_sso_identity(session, application, member)
    if text:
        session.add(
            ApplicationMessage(
                application_id=application.id, author_id=coordinator.id, kind="decision", body=text
            )
        )
    settings = get_settings()
    secret = account_tokens.issue(
        session, member, "set_password", timedelta(days=settings.set_password_days)
    )
    session.flush()
    _mail_applicant(
        session,
        application,
        "application_approved",
        link=_link(f"/account/set-password/{secret}"),
        days=settings.set_password_days,
        message=text,
        sso_label=provider_label(application.oidc_provider) if sso_linked else "",
    )
    _audit(
        session,
        application,
        coordinator,
        "application.approve",
        status,
        text,
        member_id=member.id,
        organisation_id=organisations[0].id if organisations else None,
        organisation_created=organisation_created,
    )
    return application


def _link_sso_identity(session: Session, application: Application, member: Member) -> bool:
    """Let an applicant who came through single sign-on sign in with it once approved."""
    if not application.oidc_provider or not application.oidc_subject:
        return False
    taken = session.scalars(
        select(OidcIdentity.id).where(
            OidcIdentity.provider == application.oidc_provider,
            OidcIdentity.subject == application.oidc_subject,
        )
    ).first()
    if taken is not None:
        return False
    session.add(
        OidcIdentity(
            member_id=member.id,
            provider=application.oidc_provider,
            subject=application.oidc_subject,
            email=application.email,
        )
    )
    return True


def _reject(
    session: Session, application: Application, coordinator: Member, reason: str
) -> Application:
    before = application.status
    changed = repository.change_status(
        session,
        application.id,
        from_statuses=OPEN_STATUSES,
        values={
            "status": "rejected",
            "decided_by_id": coordinator.id,
            "decided_at": utcnow(),
            "decision_reason": reason,
        },
    )
    if not changed:
        raise _refusal(session, application.id)
    session.refresh(application)
    session.add(
        ApplicationMessage(
            application_id=application.id, author_id=coordinator.id, kind="decision", body=reason
        )
    )
    session.flush()
    _mail_applicant(session, application, "application_rejected", reason=reason)
    _audit(session, application, coordinator, "application.reject", before, reason)
    return application


def _request_info(
    session: Session, application: Application, coordinator: Member, question: str
) -> Application:
    # Only the hash of the applicant's link is kept, so the e-mail carries a new link.
    secret = new_token()
    changed = repository.change_status(
        session,
        application.id,
        from_statuses=("submitted",),
        values={"status": "info_requested", "access_token_hash": hash_token(secret)},
    )
    if not changed:
        raise _refusal(session, application.id)
    session.refresh(application)
    session.add(
        ApplicationMessage(
            application_id=application.id,
            author_id=coordinator.id,
            kind="info_request",
            body=question,
        )
    )
    session.flush()
    _mail_applicant(
        session,
        application,
        "application_info_requested",
        question=question,
        link=access_link(secret),
    )
    _audit(session, application, coordinator, "application.request_info", "submitted", question)
    return application
