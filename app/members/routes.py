"""Coordinator pages: the member list, a member's page and its actions, invitations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from app.audit import repository as audit_repository
from app.audit.routes import action_label, changes
from app.auth.deps import Admin, Coordinator, DbSession, load_viewer
from app.kit import pagination
from app.kit.errors import NotFound, PermissionDenied
from app.kit.i18n import _
from app.kit.ids import parse_id
from app.members import management, permissions, repository, vocabulary
from app.members.models import MEMBER_TYPES, ROLES, STATUSES, Member
from app.organisations import repository as organisations_repository
from app.web import flash, pop_notice, redirect, render

router = APIRouter(dependencies=[Depends(load_viewer)])

PER_PAGE = 25


def _labels() -> dict[str, Any]:
    return {
        "member_type_labels": {
            code: _(label) for code, label in vocabulary.MEMBER_TYPE_LABELS.items()
        },
        "status_labels": {code: _(label) for code, label in vocabulary.STATUS_LABELS.items()},
        "role_labels": {code: _(label) for code, label in vocabulary.ROLE_LABELS.items()},
    }


@router.get("/coordinate/members", name="coordinate_members")
def member_list(
    request: Request,
    session: DbSession,
    viewer: Coordinator,
    q: str = "",
    country: str = "",
    status: str = "",
    member_type: str = "",
    organisation: str = "",
    role: str = "",
    page: str = "1",
) -> Response:
    """Members of the coordinator's countries (all for network coordinators), filtered."""
    countries = permissions.coordinated_countries(viewer)
    filters = repository.MemberFilters(
        name=q.strip(),
        country=country.strip().upper(),
        status=status if status in STATUSES else "",
        member_type=member_type if member_type in MEMBER_TYPES else "",
        organisation_id=parse_id(organisation),
        role=role if role in ROLES else "",
    )
    results = repository.coordinated_members(
        session, filters, countries, page=pagination.page_number(page), per_page=PER_PAGE
    )
    context = {
        "results": results,
        "filters": filters,
        "q": q,
        "country_choices": vocabulary.country_choices(countries),
        "organisations": organisations_repository.choices(session),
        "notice": pop_notice(request),
        **_labels(),
    }
    return render(request, "coordinate/members.html", context)


def _load_member(session: Session, viewer: Member, member_id: int) -> Member:
    """The member, if the viewer coordinates the member's country (403 otherwise)."""
    member = repository.get_for_coordination(session, member_id)
    if member is None:
        raise NotFound()
    if not permissions.coordinates_country(viewer, member.country):
        raise PermissionDenied()
    return member


def _detail(
    request: Request,
    session: Session,
    viewer: Member,
    member: Member,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    history = audit_repository.for_subject(session, "member", member.id, limit=10)
    context = {
        "member": member,
        "can_manage": permissions.can_manage_member(viewer, member),
        "can_grant_roles": permissions.can_grant_roles(viewer)
        and permissions.can_manage_member(viewer, member),
        "can_see_email": permissions.can_see_email(viewer, member),
        "history": history,
        "changes": changes,
        "action_label": action_label,
        "all_countries": vocabulary.country_choices(),
        "member_types": MEMBER_TYPES,
        "errors": errors or {},
        "values": values or {},
        "notice": pop_notice(request),
        **_labels(),
    }
    status_code = 422 if errors else 200
    return render(request, "coordinate/members_detail.html", context, status_code=status_code)


@router.get("/coordinate/members/{member_id}", name="coordinate_member")
def member_detail(
    request: Request, session: DbSession, viewer: Coordinator, member_id: int
) -> Response:
    """One member as coordinators see it, with the actions the viewer may take."""
    member = _load_member(session, viewer, member_id)
    return _detail(request, session, viewer, member)


def _refused(
    request: Request,
    session: Session,
    viewer: Member,
    member: Member,
    error: management.ManagementError,
    values: dict[str, Any],
) -> Response:
    """The member's page again, with the refusal at its field and the form as it was sent."""
    return _detail(
        request, session, viewer, member, errors={error.field: error.message}, values=values
    )


def _after_action(request: Request, member: Member, message: str) -> Response:
    flash(request, message)
    return redirect(f"/coordinate/members/{member.id}")


@router.post("/coordinate/members/{member_id}/suspend")
def suspend_member(
    request: Request,
    session: DbSession,
    viewer: Coordinator,
    member_id: int,
    suspend_reason: Annotated[str, Form()] = "",
) -> Response:
    """Suspend the member with a reason; their sessions end at once."""
    member = _load_member(session, viewer, member_id)
    try:
        management.suspend(session, viewer, member, suspend_reason)
    except management.ManagementError as error:
        return _refused(request, session, viewer, member, error, {"suspend_reason": suspend_reason})
    return _after_action(
        request, member, _("%(name)s is suspended and was told why.", name=member.full_name)
    )


@router.post("/coordinate/members/{member_id}/reinstate")
def reinstate_member(
    request: Request,
    session: DbSession,
    viewer: Coordinator,
    member_id: int,
    reinstate_reason: Annotated[str, Form()] = "",
) -> Response:
    """Lift the member's suspension, with a reason."""
    member = _load_member(session, viewer, member_id)
    try:
        management.reinstate(session, viewer, member, reinstate_reason)
    except management.ManagementError as error:
        return _refused(
            request, session, viewer, member, error, {"reinstate_reason": reinstate_reason}
        )
    return _after_action(
        request, member, _("%(name)s is reinstated and was told.", name=member.full_name)
    )


@router.post("/coordinate/members/{member_id}/type")
def change_member_type(
    request: Request,
    session: DbSession,
    viewer: Coordinator,
    member_id: int,
    member_type: Annotated[str, Form()] = "",
    type_reason: Annotated[str, Form()] = "",
) -> Response:
    """Change the member type."""
    member = _load_member(session, viewer, member_id)
    try:
        changed = management.change_type(session, viewer, member, member_type, type_reason)
    except management.ManagementError as error:
        return _refused(
            request,
            session,
            viewer,
            member,
            error,
            {"member_type": member_type, "type_reason": type_reason},
        )
    message = (
        _("The member type of %(name)s is changed.", name=member.full_name)
        if changed
        else _("The member type was already this one; nothing changed.")
    )
    return _after_action(request, member, message)


@router.post("/coordinate/members/{member_id}/role")
def change_coordinator_role(
    request: Request,
    session: DbSession,
    viewer: Admin,
    member_id: int,
    scope: Annotated[str, Form()] = "",
    countries: Annotated[list[str] | None, Form()] = None,
    role_reason: Annotated[str, Form()] = "",
) -> Response:
    """Admins grant, change or revoke the coordinator role and its countries."""
    member = _load_member(session, viewer, member_id)
    chosen = countries or []
    try:
        if scope == "none":
            changed = management.revoke_coordinator(session, viewer, member, role_reason)
        elif scope in ("network", "countries"):
            changed = management.set_coordinator_scope(
                session,
                viewer,
                member,
                network=scope == "network",
                countries=chosen,
                reason=role_reason,
            )
        else:
            raise management.ManagementError(_("Choose what this member coordinates."), "scope")
    except management.ManagementError as error:
        return _refused(
            request,
            session,
            viewer,
            member,
            error,
            {"scope": scope, "countries": chosen, "role_reason": role_reason},
        )
    message = (
        _("The coordinator role of %(name)s is changed.", name=member.full_name)
        if changed
        else _("Nothing changed.")
    )
    return _after_action(request, member, message)


def _invite_form(
    request: Request,
    session: Session,
    viewer: Member,
    *,
    values: dict[str, str],
    errors: dict[str, str],
) -> Response:
    countries = permissions.coordinated_countries(viewer)
    context = {
        "values": values,
        "errors": errors,
        "country_choices": vocabulary.country_choices(countries),
        "organisations": organisations_repository.choices(session),
        "member_types": MEMBER_TYPES,
        "notice": pop_notice(request),
        **_labels(),
    }
    status_code = 422 if errors else 200
    return render(request, "coordinate/invite.html", context, status_code=status_code)


@router.get("/coordinate/invite", name="coordinate_invite")
def invite_page(request: Request, session: DbSession, viewer: Coordinator) -> Response:
    """The invitation form."""
    return _invite_form(request, session, viewer, values={}, errors={})


@router.post("/coordinate/invite")
def invite_member(
    request: Request,
    session: DbSession,
    viewer: Coordinator,
    email: Annotated[str, Form()] = "",
    full_name: Annotated[str, Form()] = "",
    country: Annotated[str, Form()] = "",
    member_type: Annotated[str, Form()] = "",
    organisation: Annotated[str, Form()] = "",
) -> Response:
    """Create the member and mail the invitation with a link to set a password."""
    values = {
        "email": email,
        "full_name": full_name,
        "country": country,
        "member_type": member_type,
        "organisation": organisation,
    }
    errors = management.invitation_errors(
        viewer, email=email, full_name=full_name, country=country, member_type=member_type
    )
    chosen = None
    if organisation:
        organisation_id = parse_id(organisation)
        chosen = organisations_repository.get(session, organisation_id) if organisation_id else None
        if chosen is None:
            errors["organisation"] = _("Choose an organisation from the list.")
    if repository.get_by_email(session, email) is not None and "email" not in errors:
        errors["email"] = _("A member with this e-mail address already exists.")
    if not errors:
        try:
            invited = management.invite(
                session,
                viewer,
                email=email,
                full_name=full_name,
                country=country,
                member_type=member_type,
                organisation=chosen,
            )
        except management.ManagementError as error:
            errors[error.field] = error.message
        else:
            message = _(
                "%(name)s is invited; the e-mail with the link is on its way.",
                name=invited.full_name,
            )
            flash(request, message)
            return redirect(f"/coordinate/members/{invited.id}")
    return _invite_form(request, session, viewer, values=values, errors=errors)
