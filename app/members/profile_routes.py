"""The member's own profile, their personal data, and deleting the account."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from starlette.requests import Request
from starlette.responses import Response

from app.auth.deps import DbSession, SignedIn, load_viewer
from app.db import utcnow
from app.kit.i18n import _
from app.members import profile_service, vocabulary
from app.members.models import Member
from app.organisations.models import Organisation
from app.web import flash, redirect, render

router = APIRouter(dependencies=[Depends(load_viewer)])

# Shown once on the home page after the account was deleted (see templates/base.html).


def _labels() -> dict[str, Any]:
    return {
        "member_type_label": vocabulary.member_type_label,
        "role_label": vocabulary.role_label,
        "status_label": vocabulary.status_label,
        "field_label": profile_service.field_label,
    }


def _profile_context(
    member: Member,
    form: profile_service.ProfileForm,
    errors: dict[str, str],
    every_organisation: list[Organisation],
) -> dict[str, Any]:
    # The member's organisations, and any just chosen, are checkboxes to keep or leave.
    listed = {organisation.id for organisation in member.organisations}
    listed.update(form.organisation_ids)
    return {
        "member": member,
        "form": form,
        "errors": errors,
        "own_organisations": [item for item in every_organisation if item.id in listed],
        "organisation_choices": [
            (item.id, item.name) for item in every_organisation if item.id not in listed
        ],
        "countries": vocabulary.country_choices(),
        "languages": vocabulary.language_choices(),
        "expertise_areas": vocabulary.expertise_choices(),
        "bio_max_length": profile_service.BIO_MAX_LENGTH,
        **_labels(),
    }


@router.get("/account/profile", name="account_profile")
def profile_page(request: Request, session: DbSession, viewer: SignedIn) -> Response:
    """The member's profile form, with who sees each field."""
    every_organisation = profile_service.load_for_editing(session, viewer)
    form = profile_service.ProfileForm.from_member(viewer)
    context = _profile_context(viewer, form, {}, every_organisation)
    context["saved"] = request.query_params.get("saved") == "1"
    return render(request, "account/profile.html", context)


@router.post("/account/profile")
def update_profile(
    request: Request,
    session: DbSession,
    viewer: SignedIn,
    full_name: Annotated[str, Form()] = "",
    country: Annotated[str, Form()] = "",
    organisations: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    add_organisation: Annotated[str, Form()] = "",
    expertise: Annotated[list[str], Form()] = [],  # noqa: B006
    languages: Annotated[list[str], Form()] = [],  # noqa: B006
    bio: Annotated[str, Form()] = "",
    visibility_country: Annotated[str, Form()] = "members",
    visibility_organisations: Annotated[str, Form()] = "members",
    visibility_member_type: Annotated[str, Form()] = "members",
    visibility_expertise: Annotated[str, Form()] = "members",
    visibility_languages: Annotated[str, Form()] = "members",
    visibility_bio: Annotated[str, Form()] = "members",
) -> Response:
    """Save the profile; on errors the form comes back as typed, with a message at each field."""
    every_organisation = profile_service.load_for_editing(session, viewer)
    form = profile_service.ProfileForm.from_input(
        full_name=full_name,
        country=country,
        organisations=organisations,
        add_organisation=add_organisation,
        expertise=expertise,
        languages=languages,
        bio=bio,
        visibility={
            "country": visibility_country,
            "organisations": visibility_organisations,
            "member_type": visibility_member_type,
            "expertise": visibility_expertise,
            "languages": visibility_languages,
            "bio": visibility_bio,
        },
    )
    known = {organisation.id: organisation for organisation in every_organisation}
    errors = profile_service.validate_profile(form, known)
    if errors:
        context = _profile_context(viewer, form, errors, every_organisation)
        return render(request, "account/profile.html", context, status_code=422)
    profile_service.update_profile(viewer, form, known)
    return redirect("/account/profile?saved=1")


@router.get("/account/data", name="account_data")
def data_page(request: Request, viewer: SignedIn) -> Response:
    """What the portal holds about the member, the download, and the way to delete the account."""
    return render(request, "account/data.html", {"member": viewer})


@router.get("/account/data/export", name="account_data_export")
def export_data(session: DbSession, viewer: SignedIn) -> Response:
    """Everything the portal holds about the member, as a JSON download."""
    data = profile_service.export_data(session, viewer)
    filename = f"prevention-network-my-data-{utcnow().date().isoformat()}.json"
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _delete_context(member: Member, errors: dict[str, str], email: str = "") -> dict[str, Any]:
    return {"has_password": bool(member.password_hash), "errors": errors, "email": email}


@router.get("/account/delete", name="account_delete")
def delete_page(request: Request, viewer: SignedIn) -> Response:
    """What deleting the account does, and the form that does it."""
    return render(request, "account/delete.html", _delete_context(viewer, {}))


@router.post("/account/delete")
def delete_account(
    request: Request,
    session: DbSession,
    viewer: SignedIn,
    password: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Erase the account's personal data, end every session and sign out."""
    errors = profile_service.erasure_errors(
        viewer, password=password, email=email, confirmed=confirm == "yes"
    )
    if errors:
        context = _delete_context(viewer, errors, email)
        return render(request, "account/delete.html", context, status_code=422)
    profile_service.erase(session, viewer)
    request.session.clear()
    flash(
        request,
        _(
            "Your account has been deleted and your personal data erased. "
            "A confirmation is on its way to your former e-mail address."
        ),
    )
    return redirect("/")
