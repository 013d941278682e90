"""The applications API: anyone applies; coordinators list and decide."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError

from app.applications import repository, service
from app.applications.models import Application
from app.applications.schemas import (
    ApplicationCreate,
    ApplicationCreated,
    ApplicationList,
    ApplicationOut,
    DecisionIn,
    Problem,
)
from app.auth.api_deps import ApiCoordinator
from app.auth.deps import DbSession
from app.kit.errors import NotFound
from app.kit.i18n import get_locale

router = APIRouter(prefix="/api/v1", tags=["applications"])

CoordinatorCaller = ApiCoordinator

_PROBLEM: dict[str, Any] = {
    "model": Problem,
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}
# The service names the applicant's name field as the form does.
_API_FIELD_NAMES = {"full_name": "name", "body": "message"}


def _as_validation_error(error: service.InvalidApplication) -> RequestValidationError:
    return RequestValidationError(
        [
            {
                "loc": ("body", _API_FIELD_NAMES.get(name, name)),
                "msg": message,
                "type": "value_error",
            }
            for name, message in error.errors.items()
        ]
    )


def _out(application: Application, organisation_name: str | None) -> ApplicationOut:
    return ApplicationOut(
        id=application.id,
        name=application.full_name,
        email=application.email,
        country=application.country,
        organisation_id=application.organisation_id,
        organisation_name=organisation_name or application.proposed_organisation_name,
        proposed_organisation_type=application.proposed_organisation_type,
        proposed_organisation_website=application.proposed_organisation_website,
        member_type=application.member_type,
        expertise=list(application.expertise or []),
        languages=list(application.languages or []),
        motivation=application.motivation,
        status=application.status,
        privacy_notice_version=application.privacy_notice_version,
        privacy_consented_at=application.privacy_consented_at,
        created_at=application.created_at,
        decided_at=application.decided_at,
        decided_by_id=application.decided_by_id,
        decision_reason=application.decision_reason,
        member_id=application.member_id,
    )


@router.post(
    "/applications",
    status_code=201,
    response_model=ApplicationCreated,
    summary="Apply to join the network",
    responses={409: _PROBLEM, 422: _PROBLEM},
)
def create_application(body: ApplicationCreate, session: DbSession) -> ApplicationCreated:
    """Public: the applicant receives an e-mail with a link to follow the application.

    409 when a member or an open application already has the e-mail address.
    """
    draft = service.ApplicationDraft(
        full_name=body.name,
        email=body.email,
        country=body.country,
        organisation_id=body.organisation_id,
        organisation_name=body.organisation_name or "",
        organisation_type=body.organisation_type or "",
        organisation_website=body.organisation_website or "",
        member_type=body.member_type,
        expertise=body.expertise,
        languages=body.languages,
        motivation=body.motivation,
        privacy_consent=body.privacy_consent,
    )
    try:
        application, _secret = service.submit(session, draft, language=get_locale())
    except service.InvalidApplication as error:
        raise _as_validation_error(error) from error
    return ApplicationCreated(id=application.id, status="submitted")


@router.get(
    "/applications",
    response_model=ApplicationList,
    summary="Applications in the caller's countries",
    responses={401: _PROBLEM, 403: _PROBLEM},
)
def list_applications(
    session: DbSession,
    coordinator: CoordinatorCaller,
    status: Annotated[
        Literal["open", "submitted", "info_requested", "approved", "rejected", "withdrawn", "all"],
        Query(description="open (the default) is submitted and info_requested"),
    ] = "open",
    country: Annotated[str | None, Query(min_length=2, max_length=2)] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 25,
) -> ApplicationList:
    """Coordinators only (token scope coordinate); oldest first; national coordinators see
    their countries' applications, network coordinators all."""
    found = service.queue(
        session,
        coordinator,
        status=status,
        country=country.upper() if country else None,
        page=page,
        per_page=per_page,
    )
    return ApplicationList(
        items=[_out(row.application, row.organisation_name) for row in found.items],
        page=found.page,
        per_page=found.per_page,
        total=found.total,
    )


@router.post(
    "/applications/{application_id}/decision",
    response_model=ApplicationOut,
    summary="Approve, reject or ask for information",
    responses={401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM, 409: _PROBLEM, 422: _PROBLEM},
)
def decide(
    application_id: int, body: DecisionIn, session: DbSession, coordinator: CoordinatorCaller
) -> ApplicationOut:
    """Approval creates the member and mails a link to set a password; a rejection mails the
    reason; a request for information mails the question. 403 outside the caller's
    countries; 409 when someone else decided first (no e-mail is sent then)."""
    try:
        service.decide(session, application_id, coordinator, body.decision, body.message)
    except service.InvalidDecision as error:
        raise _as_validation_error(error) from error
    found = repository.detail(session, application_id)
    if found is None:  # decided just now, in this transaction: cannot happen
        raise NotFound()
    name = found.organisation.name if found.organisation else None
    return _out(found.application, name)
