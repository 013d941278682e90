"""The member's own membership page: status, expiry and renewal in one click."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from app.auth.deps import DbSession, SignedIn, load_viewer
from app.config import get_settings
from app.kit.i18n import _, format_date
from app.members import management, vocabulary
from app.web import flash, pop_notice, redirect, render

router = APIRouter(dependencies=[Depends(load_viewer)])


@router.get("/account/membership", name="account_membership")
def membership_page(request: Request, viewer: SignedIn) -> Response:
    """Status and expiry of the membership, with the renewal button."""
    today = date.today()
    expires_on = viewer.membership_expires_on
    context = {
        "member": viewer,
        "today": today,
        "days_left": (expires_on - today).days if expires_on else None,
        "period_days": get_settings().membership_period_days,
        "status_label": vocabulary.status_label(viewer.status),
        "notice": pop_notice(request),
    }
    return render(request, "account/membership.html", context)


@router.post("/account/membership/renew", name="account_membership_renew")
def renew_membership(request: Request, session: DbSession, viewer: SignedIn) -> Response:
    """Renew for one more period, from today or from the current expiry, whichever is later."""
    new_expiry = management.renew(session, viewer)
    flash(
        request,
        _("Thank you: your membership is renewed until %(date)s.", date=format_date(new_expiry)),
    )
    return redirect("/account/membership")
