"""The organisations API under /api/v1: a public list, and creation by coordinators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import JSONResponse

from app.auth.api_deps import ApiCoordinator
from app.auth.deps import DbSession
from app.kit.errors import NotFound
from app.kit.i18n import _
from app.organisations import repository, service
from app.organisations.schemas import OrganisationCreate, OrganisationOut, OrganisationPage

router = APIRouter(prefix="/api/v1", tags=["organisations"])


@router.get("/organisations", response_model=OrganisationPage)
def list_organisations(
    session: DbSession,
    q: Annotated[str, Query(max_length=200, description="Part of the name")] = "",
    country: Annotated[
        str, Query(max_length=2, description="ISO 3166-1 alpha-2 code, e.g. PT")
    ] = "",
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 50,
) -> OrganisationPage:
    """Organisations of the network, by name; filter by part of the name and by country."""
    results = repository.search(
        session, query=q, country=country.upper(), page=page, per_page=per_page
    )
    return OrganisationPage(
        items=[OrganisationOut.model_validate(item) for item in results.items],
        total=results.total,
        page=results.page,
        per_page=results.per_page,
    )


@router.get(
    "/organisations/{organisation_id}",
    response_model=OrganisationOut,
    responses={404: {"description": "No such organisation"}},
)
def get_organisation(session: DbSession, organisation_id: int) -> OrganisationOut:
    """One organisation."""
    organisation = repository.get(session, organisation_id)
    if organisation is None:
        raise NotFound(_("There is no organisation with this id."))
    return OrganisationOut.model_validate(organisation)


@router.post(
    "/organisations",
    response_model=OrganisationOut,
    status_code=201,
    responses={409: {"description": "An organisation of this name exists in this country"}},
)
def create_organisation(
    session: DbSession,
    body: OrganisationCreate,
    coordinator: ApiCoordinator,
) -> OrganisationOut | JSONResponse:
    """Add an organisation (coordinators; a token needs the coordinate scope)."""
    data = service.OrganisationData(
        name=" ".join(body.name.split()),
        country=body.country,
        organisation_type=body.type,
        website=body.website,
    )
    try:
        organisation = service.create(session, coordinator, data)
    except service.DuplicateOrganisation as error:
        existing = repository.find_same_name(session, data.name, data.country)
        problem = {
            "type": "about:blank",
            "title": _("An organisation of this name already exists in this country."),
            "status": 409,
            "detail": error.message,
            "existing_id": existing.id if existing else None,
        }
        return JSONResponse(problem, status_code=409, media_type="application/problem+json")
    return OrganisationOut.model_validate(organisation)
