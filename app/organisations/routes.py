"""Coordinator pages for organisations: list, create, edit and merge duplicates."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from app.auth.deps import Coordinator, DbSession, load_viewer
from app.kit import pagination
from app.kit.errors import NotFound, PermissionDenied
from app.kit.i18n import _
from app.kit.ids import parse_id
from app.members import permissions, vocabulary
from app.members.models import Member
from app.organisations import repository, service
from app.organisations.models import ORGANISATION_TYPES, Organisation
from app.web import flash, pop_notice, redirect, render

router = APIRouter(dependencies=[Depends(load_viewer)])

PER_PAGE = 25


def _require_manage(viewer: Member) -> None:
    if not permissions.can_merge_organisations(viewer):
        raise PermissionDenied()


def _type_choices() -> list[tuple[str, str]]:
    return [(code, service.type_label(code)) for code in ORGANISATION_TYPES]


@router.get("/coordinate/organisations", name="coordinate_organisations")
def organisation_list(
    request: Request,
    session: DbSession,
    viewer: Coordinator,
    q: str = "",
    country: str = "",
    page: str = "1",
) -> Response:
    """Organisations with their member counts, searchable by name and country."""
    _require_manage(viewer)
    results = repository.search(
        session,
        query=q,
        country=country.strip().upper(),
        page=pagination.page_number(page),
        per_page=PER_PAGE,
        with_member_counts=True,
    )
    context = {
        "results": results,
        "q": q,
        "country": country.strip().upper(),
        "country_choices": vocabulary.country_choices(),
        "type_label": service.type_label,
        "notice": pop_notice(request),
    }
    return render(request, "coordinate/organisations.html", context)


def _form(
    request: Request,
    organisation: Organisation | None,
    values: dict[str, Any],
    errors: dict[str, str],
    notice: str | None = None,
) -> Response:
    context = {
        "notice": notice,
        "organisation": organisation,
        "values": values,
        "errors": errors,
        "country_choices": vocabulary.country_choices(),
        "type_choices": _type_choices(),
    }
    return render(
        request,
        "coordinate/organisations_form.html",
        context,
        status_code=422 if errors else 200,
    )


def _values_of(organisation: Organisation) -> dict[str, Any]:
    return {
        "name": organisation.name,
        "country": organisation.country,
        "organisation_type": organisation.organisation_type,
        "website": organisation.website or "",
    }


def _sent_values(
    name: Annotated[str, Form()] = "",
    country: Annotated[str, Form()] = "",
    organisation_type: Annotated[str, Form()] = "",
    website: Annotated[str, Form()] = "",
) -> dict[str, str]:
    """The organisation form as it was sent, to validate and to show again."""
    return {
        "name": name,
        "country": country,
        "organisation_type": organisation_type,
        "website": website,
    }


SentValues = Annotated[dict[str, str], Depends(_sent_values)]


@router.get("/coordinate/organisations/new", name="coordinate_organisation_new")
def new_organisation_page(request: Request, viewer: Coordinator) -> Response:
    """The form for a new organisation."""
    _require_manage(viewer)
    return _form(request, None, {}, {})


@router.post("/coordinate/organisations/new")
def create_organisation(
    request: Request,
    session: DbSession,
    viewer: Coordinator,
    values: SentValues,
) -> Response:
    """Add an organisation."""
    _require_manage(viewer)
    data, errors = service.validate(**values)
    if data is not None:
        try:
            organisation = service.create(session, viewer, data)
        except service.OrganisationError as error:
            errors = error.errors
        else:
            flash(request, _("The organisation %(name)s is added.", name=organisation.name))
            return redirect("/coordinate/organisations")
    return _form(request, None, values, errors)


def _load(session: Session, organisation_id: int) -> Organisation:
    organisation = repository.get(session, organisation_id)
    if organisation is None:
        raise NotFound()
    return organisation


@router.get("/coordinate/organisations/merge", name="coordinate_organisation_merge")
def merge_page(
    request: Request,
    session: DbSession,
    viewer: Coordinator,
    duplicate: str = "",
    keep: str = "",
) -> Response:
    """Step 1: pick the duplicate and the one to keep; step 2: confirm what moves."""
    _require_manage(viewer)
    errors: dict[str, str] = {}
    duplicate_organisation = _pick(session, duplicate, "duplicate", errors)
    keep_organisation = _pick(session, keep, "keep", errors)
    if (
        duplicate_organisation is not None
        and keep_organisation is not None
        and duplicate_organisation.id == keep_organisation.id
    ):
        errors["keep"] = _("Choose two different organisations.")
    preview = None
    if not errors and duplicate_organisation is not None and keep_organisation is not None:
        preview = repository.merge_preview(session, duplicate_organisation.id, keep_organisation.id)
    context = {
        "organisations": repository.choices(session),
        "duplicate": duplicate_organisation,
        "keep": keep_organisation,
        "values": {"duplicate": duplicate, "keep": keep},
        "preview": preview,
        "errors": errors,
    }
    return render(
        request,
        "coordinate/organisations_merge.html",
        context,
        status_code=422 if errors else 200,
    )


def _pick(session: Session, value: str, field: str, errors: dict[str, str]) -> Organisation | None:
    if not value:
        return None
    organisation_id = parse_id(value)
    found = repository.get(session, organisation_id) if organisation_id else None
    if found is None:
        errors[field] = _("Choose an organisation from the list.")
    return found


@router.post("/coordinate/organisations/merge")
def merge_organisations(
    request: Request,
    session: DbSession,
    viewer: Coordinator,
    duplicate: Annotated[str, Form()] = "",
    keep: Annotated[str, Form()] = "",
) -> Response:
    """Merge the duplicate into the kept organisation (after the confirmation step)."""
    _require_manage(viewer)
    errors: dict[str, str] = {}
    duplicate_organisation = _pick(session, duplicate, "duplicate", errors)
    keep_organisation = _pick(session, keep, "keep", errors)
    if duplicate_organisation is None or keep_organisation is None or errors:
        return merge_page(request, session, viewer, duplicate, keep)
    duplicate_name = duplicate_organisation.name
    try:
        service.merge(session, viewer, duplicate_organisation, keep_organisation)
    except service.OrganisationError:
        return merge_page(request, session, viewer, duplicate, keep)
    flash(
        request,
        _(
            "%(duplicate)s is merged into %(keep)s.",
            duplicate=duplicate_name,
            keep=keep_organisation.name,
        ),
    )
    return redirect(f"/coordinate/organisations/{keep_organisation.id}/edit")


@router.get("/coordinate/organisations/{organisation_id}/edit", name="coordinate_organisation")
def edit_organisation_page(
    request: Request, session: DbSession, viewer: Coordinator, organisation_id: int
) -> Response:
    """The form to change an organisation."""
    _require_manage(viewer)
    organisation = _load(session, organisation_id)
    return _form(request, organisation, _values_of(organisation), {}, pop_notice(request))


@router.post("/coordinate/organisations/{organisation_id}/edit")
def update_organisation(
    request: Request,
    session: DbSession,
    viewer: Coordinator,
    organisation_id: int,
    values: SentValues,
) -> Response:
    """Save the changes to an organisation."""
    _require_manage(viewer)
    organisation = _load(session, organisation_id)
    data, errors = service.validate(**values)
    if data is not None:
        try:
            changed = service.update(session, viewer, organisation, data)
        except service.OrganisationError as error:
            errors = error.errors
        else:
            flash(
                request,
                _("The organisation %(name)s is saved.", name=organisation.name)
                if changed
                else _("Nothing changed."),
            )
            return redirect("/coordinate/organisations")
    return _form(request, organisation, values, errors)
