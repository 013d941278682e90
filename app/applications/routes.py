"""Pages of applications: the public form, the applicant's page, the coordinators' queue."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from app.applications import repository, service
from app.applications.models import Application
from app.auth.deps import Coordinator, DbSession, load_viewer
from app.kit.errors import NotFound
from app.kit.i18n import _, get_locale
from app.kit.ids import parse_id
from app.members import permissions, vocabulary
from app.members.models import MEMBER_TYPES, Member
from app.organisations.models import ORGANISATION_TYPE_LABELS, ORGANISATION_TYPES, Organisation
from app.pages.service import PRIVACY_NOTICE_VERSION
from app.web import redirect, render, wants_fragment

router = APIRouter(dependencies=[Depends(load_viewer)])

# Put there by single sign-on when an unknown identity signs in: who they are at the provider.
SSO_SESSION_KEY = "oidc_application"
SUBMITTED_SESSION_KEY = "application_submitted_to"
PER_PAGE = 25

FormText = Annotated[str, Form()]
FormList = Annotated[list[str] | None, Form()]


def _organisation_groups(
    session: Session, country: str | None
) -> list[tuple[str, list[Organisation]]]:
    """Organisations for the select: the chosen country's first, then the others by country."""
    organisations = session.scalars(select(Organisation).order_by(Organisation.name)).all()
    by_country: dict[str, list[Organisation]] = {}
    for organisation in organisations:
        by_country.setdefault(organisation.country, []).append(organisation)
    groups: list[tuple[str, list[Organisation]]] = []
    if country and country in by_country:
        groups.append((vocabulary.country_name(country), by_country.pop(country)))
    others = sorted(by_country.items(), key=lambda item: vocabulary.country_name(item[0]))
    groups.extend((vocabulary.country_name(code), items) for code, items in others)
    return groups


def _form_context(
    session: Session,
    draft: service.ApplicationDraft,
    errors: dict[str, str],
    sso: service.SsoIdentity | None,
    organisation_value: str = "",
) -> dict[str, Any]:
    if not organisation_value and draft.organisation_id is not None:
        organisation_value = str(draft.organisation_id)
    return {
        "draft": draft,
        "errors": errors,
        "sso": sso,
        "sso_label": service.provider_label(sso.provider) if sso else "",
        "organisation_value": organisation_value,
        "organisation_groups": _organisation_groups(session, draft.country or None),
        "countries": vocabulary.country_choices(),
        "expertise_choices": vocabulary.expertise_choices(),
        "language_choices": vocabulary.language_choices(),
        "member_types": [(code, _(vocabulary.MEMBER_TYPE_LABELS[code])) for code in MEMBER_TYPES],
        "organisation_types": [
            (code, _(ORGANISATION_TYPE_LABELS[code])) for code in ORGANISATION_TYPES
        ],
        "privacy_version": PRIVACY_NOTICE_VERSION,
        "max_text": service.MAX_TEXT_LENGTH,
    }


@router.get("/apply", name="apply")
def apply_page(request: Request, session: DbSession, country: str = "") -> Response:
    """The application form, prefilled after a single sign-on."""
    sso = service.SsoIdentity.from_session(request.session.get(SSO_SESSION_KEY))
    draft = service.ApplicationDraft(
        full_name=sso.name if sso else "",
        email=sso.email if sso else "",
        country=country.upper() if country.upper() in vocabulary.COUNTRIES else "",
    )
    return render(request, "applications/apply.html", _form_context(session, draft, {}, sso))


@router.get("/apply/organisations", name="apply_organisations")
def organisation_options(
    request: Request, session: DbSession, country: str = "", organisation_id: str = ""
) -> Response:
    """The organisation select for the chosen country (htmx swaps it in)."""
    code = country.upper() if country.upper() in vocabulary.COUNTRIES else ""
    if not wants_fragment(request):
        return redirect("/apply" + (f"?country={code}" if code else ""))
    draft = service.ApplicationDraft(country=code)
    context = _form_context(session, draft, {}, None, organisation_value=organisation_id)
    return render(request, "applications/apply.html", context, block="organisation_select")


@router.post("/apply")
def apply(
    request: Request,
    session: DbSession,
    full_name: FormText = "",
    email: FormText = "",
    country: FormText = "",
    organisation_id: FormText = "",
    organisation_name: FormText = "",
    organisation_type: FormText = "",
    organisation_website: FormText = "",
    member_type: FormText = "",
    expertise: FormList = None,
    languages: FormList = None,
    motivation: FormText = "",
    privacy_consent: FormText = "",
) -> Response:
    """Submit an application; on a problem the form comes back with everything kept."""
    sso = service.SsoIdentity.from_session(request.session.get(SSO_SESSION_KEY))
    chosen = organisation_id.strip()
    draft = service.ApplicationDraft(
        full_name=full_name,
        email=email,
        country=country.strip().upper(),
        # Anything but a listed id is "not in the list" (id 0 never exists).
        organisation_id=(parse_id(chosen) or 0) if chosen else None,
        organisation_name=organisation_name,
        organisation_type=organisation_type,
        organisation_website=organisation_website,
        member_type=member_type,
        expertise=list(expertise or []),
        languages=list(languages or []),
        motivation=motivation,
        privacy_consent=privacy_consent == "yes",
    )
    try:
        application, _secret = service.submit(session, draft, language=get_locale(), sso=sso)
    except service.InvalidApplication as error:
        context = _form_context(session, draft, error.errors, sso, organisation_value=chosen)
        return render(request, "applications/apply.html", context, status_code=422)
    except service.EmailInUse as error:
        context = _form_context(session, draft, {"email": error.message}, sso, chosen)
        return render(request, "applications/apply.html", context, status_code=422)
    request.session.pop(SSO_SESSION_KEY, None)
    request.session[SUBMITTED_SESSION_KEY] = application.email
    return redirect("/apply/submitted")


@router.get("/apply/submitted", name="apply_submitted")
def apply_submitted(request: Request) -> Response:
    """Thanks, and where the link to follow the application went."""
    email = request.session.pop(SUBMITTED_SESSION_KEY, None)
    return render(
        request,
        "applications/submitted.html",
        {"email": email if isinstance(email, str) else None},
    )


# The applicant's page, reached through the secret link in their e-mail.

DONE_MESSAGES = ("answered", "withdrawn")


def _applicant_page(
    request: Request,
    session: Session,
    application: Application,
    secret: str,
    *,
    errors: dict[str, str] | None = None,
    answer: str = "",
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    found = repository.detail(session, application.id)
    if found is None:  # found by its link a moment ago: cannot happen
        raise NotFound()
    done = request.query_params.get("done")
    context = {
        "application": found.application,
        "organisation": found.organisation,
        "thread": repository.thread(session, application.id),
        "secret": secret,
        "errors": errors or {},
        "answer": answer,
        "notice": notice,
        "done": done if done in DONE_MESSAGES else None,
        "status_labels": service.STATUS_LABELS,
        "member_type_labels": vocabulary.MEMBER_TYPE_LABELS,
        "max_text": service.MAX_TEXT_LENGTH,
    }
    return render(request, "applications/status.html", context, status_code=status_code)


@router.get("/applications/{secret}", name="application_status")
def application_status(request: Request, session: DbSession, secret: str) -> Response:
    """The applicant follows their application: status, messages, answer or withdraw."""
    application = service.by_secret(session, secret)
    return _applicant_page(request, session, application, secret)


@router.post("/applications/{secret}/answer")
def application_answer(
    request: Request, session: DbSession, secret: str, body: FormText = ""
) -> Response:
    """The applicant answers the coordinator's question."""
    application = service.by_secret(session, secret)
    try:
        service.answer(session, application, body)
    except service.InvalidApplication as error:
        return _applicant_page(
            request, session, application, secret, errors=error.errors, answer=body,
            status_code=422,
        )  # fmt: skip
    except service.ApplicationClosed as error:
        return _applicant_page(
            request, session, application, secret, notice=error.message, status_code=409
        )
    return redirect(f"/applications/{secret}?done=answered")


@router.post("/applications/{secret}/withdraw")
def application_withdraw(request: Request, session: DbSession, secret: str) -> Response:
    """The applicant withdraws the application."""
    application = service.by_secret(session, secret)
    try:
        service.withdraw(session, application)
    except service.ApplicationClosed as error:
        return _applicant_page(
            request, session, application, secret, notice=error.message, status_code=409
        )
    return redirect(f"/applications/{secret}?done=withdrawn")


# Coordinators


def _scope_countries(coordinator: Member) -> list[tuple[str, str]]:
    """The countries a coordinator may filter by, as (code, name)."""
    return vocabulary.country_choices(service.coordinator_scope(coordinator))


@router.get("/coordinate", name="coordinate_dashboard")
def dashboard(request: Request, session: DbSession, coordinator: Coordinator) -> Response:
    """The coordinators' start page: what waits for them, and their tools."""
    counts = service.open_counts(session, coordinator)
    scope = service.coordinator_scope(coordinator)
    context = {
        "counts": counts,
        "open_total": sum(counts.values()),
        "scope": sorted(scope, key=vocabulary.country_name) if scope is not None else None,
        "is_admin": permissions.is_admin(coordinator),
    }
    return render(request, "coordinate/dashboard.html", context)


@router.get("/coordinate/applications", name="coordinate_applications")
def queue(
    request: Request,
    session: DbSession,
    coordinator: Coordinator,
    status: str = "open",
    country: str = "",
    page: int = 1,
) -> Response:
    """Applications from my countries, oldest first."""
    status = status if status in service.STATUS_FILTERS else "open"
    countries = _scope_countries(coordinator)
    code = country.upper() if country.upper() in {code for code, _name in countries} else ""
    found = service.queue(
        session, coordinator, status=status, country=code, page=page, per_page=PER_PAGE
    )
    filters = {"status": status, **({"country": code} if code else {})}
    context = {
        "page": found,
        "status": status,
        "country": code,
        "countries": countries,
        "status_filters": service.STATUS_FILTER_LABELS,
        "status_labels": service.STATUS_LABELS,
        "member_type_labels": vocabulary.MEMBER_TYPE_LABELS,
        "page_link": lambda number: "?" + urlencode({**filters, "page": number}),
    }
    return render(request, "coordinate/applications.html", context)


DECIDED_MESSAGES = ("approve", "reject", "request_info")


def _detail_page(
    request: Request,
    session: Session,
    coordinator: Member,
    application_id: int,
    *,
    errors: dict[str, str] | None = None,
    decision: str = "",
    message: str = "",
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    found = service.for_coordinator(session, application_id, coordinator)
    application = found.application
    done = request.query_params.get("done")
    context = {
        "application": application,
        "organisation": found.organisation,
        "decided_by_name": found.decided_by_name,
        "thread": repository.thread(session, application.id),
        "existing_member": found.existing_member_id is not None
        and application.status in ("submitted", "info_requested"),
        "errors": errors or {},
        "decision": decision,
        "message": message,
        "notice": notice,
        "done": done if done in DECIDED_MESSAGES and not notice else None,
        "status_labels": service.STATUS_LABELS,
        "member_type_labels": vocabulary.MEMBER_TYPE_LABELS,
        "organisation_type_labels": ORGANISATION_TYPE_LABELS,
        "sso_label": service.provider_label(application.oidc_provider)
        if application.oidc_provider
        else "",
        "max_text": service.MAX_TEXT_LENGTH,
    }
    return render(request, "coordinate/applications_detail.html", context, status_code=status_code)


@router.get("/coordinate/applications/{application_id}", name="coordinate_application")
def application_detail(
    request: Request, session: DbSession, coordinator: Coordinator, application_id: int
) -> Response:
    """Everything about one application, its thread, and the decision form."""
    return _detail_page(request, session, coordinator, application_id)


@router.post("/coordinate/applications/{application_id}/decision")
def application_decision(
    request: Request,
    session: DbSession,
    coordinator: Coordinator,
    application_id: int,
    decision: FormText = "",
    message: FormText = "",
) -> Response:
    """Approve, reject or ask for information; if someone was quicker, say so."""
    try:
        service.decide(session, application_id, coordinator, decision, message)
    except service.InvalidDecision as error:
        return _detail_page(
            request, session, coordinator, application_id, errors=error.errors,
            decision=decision, message=message, status_code=422,
        )  # fmt: skip
    except (service.AlreadyDecided, service.ApplicantAlreadyMember) as error:
        return _detail_page(
            request, session, coordinator, application_id, notice=error.message,
            decision=decision, message=message, status_code=409,
        )  # fmt: skip
    return redirect(f"/coordinate/applications/{application_id}?done={decision}")
