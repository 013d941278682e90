"""Pages and actions around a programme's rating: the evidence page, overrides, reviews,
the rating's history, other registries' ratings and the coordinators' re-review list.

Who may do what (app.evidence.permissions): coordinators of one of the programme's countries
(or of the network) override, clear, confirm and record registry ratings; everyone who may
see the programme sees its evidence and the history of its rating (transparency), where
visitors who are not members read "a coordinator" instead of a member's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from app.audit import service as audit_service
from app.auth.deps import Coordinator, DbSession, load_viewer
from app.evidence import deps as evidence_deps
from app.evidence import permissions, ratings, views
from app.evidence import rating as rules
from app.evidence.models import ProgrammeRating, RegistryRating
from app.kit.errors import NotFound, PermissionDenied
from app.kit.i18n import N_, _
from app.members import permissions as member_permissions
from app.members.models import Member
from app.members.profile_service import display_name
from app.programmes.deps import ProgrammeContext, ViewableProgramme, load_context
from app.programmes.models import Programme, ProgrammeTerm
from app.web import flash, redirect, render

router = APIRouter(dependencies=[Depends(load_viewer)])

REGISTRY_NAME_MAX = 200
REGISTRY_LABEL_MAX = 200
REGISTRY_URL_MAX = 500
EARLIEST_YEAR = 1900
JUSTIFICATION_MAX = 5000


NOTICE_OVERRIDDEN = N_("The rating is now “%(level)s”; your justification is shown beside it.")
NOTICE_CLEARED = N_("The override is removed: the rating follows the rules again.")
NOTICE_CONFIRMED = N_("The rating of “%(title)s” is confirmed as reviewed today.")
NOTICE_REGISTRY_ADDED = N_("The rating of %(registry)s is shown beside the network's rating.")
NOTICE_REGISTRY_REMOVED = N_("The rating of %(registry)s is removed.")


def level_choices() -> list[tuple[str, str]]:
    return [(level, views.level_label(level)) for level in rules.LEVEL_ORDER]


def _managed_context(session: Session, coordinator: Member, programme_id: int) -> ProgrammeContext:
    """The programme, if the coordinator coordinates one of its countries (or the network)."""
    ctx = load_context(session, coordinator, programme_id)
    countries = evidence_deps.programme_countries(session, ctx.programme)
    if not permissions.can_override_rating(coordinator, countries):
        raise PermissionDenied(
            _("Only coordinators of the programme's countries can change its rating.")
        )
    return ctx


def _evidence_url(programme_id: int) -> str:
    return f"/programmes/{programme_id}#evidence"


# --- the evidence page -----------------------------------------------------------------------


@router.get("/programmes/{programme_id:int}/evidence", name="programme_evidence")
def evidence_page(request: Request, session: DbSession, ctx: ViewableProgramme) -> Response:
    """The programme's evidence on a page of its own (a deep link to the section)."""
    evidence = views.programme_evidence(session, ctx.viewer, ctx.programme)
    context = {"ctx": ctx, "programme": ctx.programme, "evidence": evidence}
    return render(request, "evidence/ratings_programme.html", context)


# --- override ----------------------------------------------------------------------------


def _override_form(
    request: Request,
    session: Session,
    ctx: ProgrammeContext,
    values: dict[str, str],
    errors: dict[str, str],
) -> Response:
    current = ratings.current(session, ctx.programme.id)
    context = {
        "ctx": ctx,
        "programme": ctx.programme,
        "current": current,
        "current_label": views.level_label(current.level) if current else None,
        "computed_label": views.level_label(current.computed_level) if current else None,
        "values": values,
        "errors": errors,
        "level_choices": level_choices(),
        "justification_max": JUSTIFICATION_MAX,
    }
    return render(
        request, "evidence/ratings_override.html", context, status_code=422 if errors else 200
    )


@router.get("/programmes/{programme_id:int}/rating/override", name="rating_override")
def override_page(
    request: Request, programme_id: int, session: DbSession, coordinator: Coordinator
) -> Response:
    """The form to set the rating by hand, with a justification."""
    ctx = _managed_context(session, coordinator, programme_id)
    current = ratings.current(session, programme_id)
    values = {
        "level": current.level if current is not None else "",
        "justification": (current.override_justification or "") if current is not None else "",
    }
    return _override_form(request, session, ctx, values, {})


@router.post("/programmes/{programme_id:int}/rating/override")
def override_rating(
    request: Request,
    programme_id: int,
    session: DbSession,
    coordinator: Coordinator,
    level: Annotated[str, Form()] = "",
    justification: Annotated[str, Form()] = "",
) -> Response:
    """Set the level by hand; the justification is shown beside the computed level."""
    ctx = _managed_context(session, coordinator, programme_id)
    values = {"level": level, "justification": justification}
    if len(justification) > JUSTIFICATION_MAX:
        errors = {
            "justification": _(
                "Keep the justification under %(max)s characters.", max=JUSTIFICATION_MAX
            )
        }
        return _override_form(request, session, ctx, values, errors)
    try:
        ratings.override(session, coordinator, programme_id, level, justification)
    except ratings.InvalidOverride as problem:
        return _override_form(request, session, ctx, values, problem.errors)
    flash(request, NOTICE_OVERRIDDEN, level=views.level_label(level))
    return redirect(_evidence_url(programme_id))


@router.post("/programmes/{programme_id:int}/rating/clear-override")
def clear_override(
    request: Request, programme_id: int, session: DbSession, coordinator: Coordinator
) -> Response:
    """Go back to the rules' result."""
    _managed_context(session, coordinator, programme_id)
    ratings.clear_override(session, coordinator, programme_id)
    flash(request, NOTICE_CLEARED)
    return redirect(_evidence_url(programme_id))


@router.post("/programmes/{programme_id:int}/rating/confirm")
def confirm_rating(
    request: Request,
    programme_id: int,
    session: DbSession,
    coordinator: Coordinator,
    back: Annotated[str, Form()] = "",
) -> Response:
    """Mark the rating as reviewed today (from the programme or from the re-review list)."""
    ctx = _managed_context(session, coordinator, programme_id)
    ratings.confirm(session, coordinator, programme_id)
    flash(request, NOTICE_CONFIRMED, title=ctx.programme.title)
    return redirect("/coordinate/ratings" if back == "list" else _evidence_url(programme_id))


# --- history -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    rating: ProgrammeRating
    label: str
    computed_label: str
    rule_label: str
    changed_by: str


@router.get("/programmes/{programme_id:int}/rating/history", name="rating_history")
def history_page(
    request: Request, programme_id: int, session: DbSession, ctx: ViewableProgramme
) -> Response:
    """Every rating the programme had, newest first, with who changed it and why."""
    rows = ratings.history(session, programme_id)
    names_shown = member_permissions.is_member(ctx.viewer)
    ids = {row.changed_by_id for row in rows if row.changed_by_id is not None}
    members = (
        {member.id: member for member in session.scalars(select(Member).where(Member.id.in_(ids)))}
        if ids and names_shown
        else {}
    )

    def changed_by(row: ProgrammeRating) -> str:
        if row.changed_by_id is None:
            return _("Computed from the evidence")
        member = members.get(row.changed_by_id)
        if member is None:
            return _("A coordinator") if not names_shown else _("Former member")
        return display_name(member)

    history = [
        HistoryRow(
            rating=row,
            label=views.level_label(row.level),
            computed_label=views.level_label(row.computed_level),
            rule_label=views.rule_label(row.rule),
            changed_by=changed_by(row),
        )
        for row in rows
    ]
    context = {"ctx": ctx, "programme": ctx.programme, "history": history}
    return render(request, "evidence/ratings_history.html", context)


# --- other registries' ratings -------------------------------------------------------------


def validate_registry_rating(
    raw: dict[str, str], today: date | None = None
) -> tuple[dict[str, object], dict[str, str]]:
    """The registry rating form's values, cleaned, and messages keyed by field."""
    today = today or date.today()
    errors: dict[str, str] = {}
    name = " ".join(raw.get("registry_name", "").split())
    label = " ".join(raw.get("label", "").split())
    year_text = raw.get("year", "").strip()
    url = raw.get("url", "").strip()
    if not name:
        errors["registry_name"] = _("Enter the registry's name.")
    elif len(name) > REGISTRY_NAME_MAX:
        errors["registry_name"] = _("Keep it under %(max)s characters.", max=REGISTRY_NAME_MAX)
    if not label:
        errors["label"] = _("Enter the rating the registry gave, as it words it.")
    elif len(label) > REGISTRY_LABEL_MAX:
        errors["label"] = _("Keep it under %(max)s characters.", max=REGISTRY_LABEL_MAX)
    year: int | None = None
    if year_text:
        if not re.fullmatch(r"\d{1,4}", year_text):
            errors["year"] = _("Enter a year such as %(year)s.", year=today.year)
        else:
            year = int(year_text)
            if year > today.year:
                errors["year"] = _("The year cannot be in the future.")
            elif year < EARLIEST_YEAR:
                errors["year"] = _("Enter a year from %(year)s on.", year=EARLIEST_YEAR)
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in url:
            errors["url"] = _("Enter a web address starting with https:// or http://.")
        elif len(url) > REGISTRY_URL_MAX:
            errors["url"] = _("Keep it under %(max)s characters.", max=REGISTRY_URL_MAX)
    values: dict[str, object] = {
        "registry_name": name,
        "label": label,
        "year": year,
        "url": url or None,
    }
    return values, errors


def _registry_form(
    request: Request, ctx: ProgrammeContext, values: dict[str, str], errors: dict[str, str]
) -> Response:
    context = {
        "ctx": ctx,
        "programme": ctx.programme,
        "values": values,
        "errors": errors,
        "this_year": date.today().year,
    }
    return render(
        request, "evidence/ratings_registry.html", context, status_code=422 if errors else 200
    )


@router.get("/programmes/{programme_id:int}/registry-ratings/new", name="registry_rating_new")
def registry_rating_page(
    request: Request, programme_id: int, session: DbSession, coordinator: Coordinator
) -> Response:
    """The form to record another registry's rating of the programme."""
    ctx = _managed_context(session, coordinator, programme_id)
    return _registry_form(request, ctx, {}, {})


@router.post("/programmes/{programme_id:int}/registry-ratings")
def add_registry_rating(
    request: Request,
    programme_id: int,
    session: DbSession,
    coordinator: Coordinator,
    registry_name: Annotated[str, Form()] = "",
    label: Annotated[str, Form()] = "",
    year: Annotated[str, Form()] = "",
    url: Annotated[str, Form()] = "",
) -> Response:
    """Record another registry's rating; it is shown beside the network's own."""
    ctx = _managed_context(session, coordinator, programme_id)
    raw = {"registry_name": registry_name, "label": label, "year": year, "url": url}
    values, errors = validate_registry_rating(raw)
    if errors:
        return _registry_form(request, ctx, raw, errors)
    entry = RegistryRating(programme_id=programme_id, added_by_id=coordinator.id, **values)
    session.add(entry)
    session.flush()
    _audit(session, coordinator, ctx.programme, "rating.registry_add", entry)
    flash(request, NOTICE_REGISTRY_ADDED, registry=entry.registry_name)
    return redirect(_evidence_url(programme_id))


@router.post("/programmes/{programme_id:int}/registry-ratings/{rating_id:int}/delete")
def delete_registry_rating(
    request: Request,
    programme_id: int,
    rating_id: int,
    session: DbSession,
    coordinator: Coordinator,
) -> Response:
    """Remove a registry's rating recorded on the programme."""
    ctx = _managed_context(session, coordinator, programme_id)
    entry = session.get(RegistryRating, rating_id)
    if entry is None or entry.programme_id != programme_id:
        raise NotFound(_("There is no such registry rating."))
    _audit(session, coordinator, ctx.programme, "rating.registry_remove", entry)
    session.delete(entry)
    session.flush()
    flash(request, NOTICE_REGISTRY_REMOVED, registry=entry.registry_name)
    return redirect(_evidence_url(programme_id))


def _audit(
    session: Session, actor: Member, programme: Programme, action: str, entry: RegistryRating
) -> None:
    audit_service.record(
        session,
        actor=actor,
        action=action,
        subject_type="programme",
        subject_id=programme.id,
        subject_label=programme.title,
        after={
            "registry": entry.registry_name,
            "label": entry.label,
            "year": entry.year,
            "url": entry.url,
        },
    )


# --- the re-review list ----------------------------------------------------------------------


@dataclass(frozen=True)
class DueItem:
    rating: ProgrammeRating
    programme: Programme
    label: str
    countries: list[str]


def due_items(
    session: Session, scope: frozenset[str] | None, today: date | None = None
) -> list[DueItem]:
    """Ratings due for another review, oldest first, of programmes in ``scope`` (None: all)."""
    due = ratings.due_for_review(session, today)
    if not due:
        return []
    ids = sorted({row.programme_id for row in due})
    programmes = {
        programme.id: programme
        for programme in session.scalars(select(Programme).where(Programme.id.in_(ids)))
    }
    countries: dict[int, list[str]] = {}
    for programme_id, code in session.execute(
        select(ProgrammeTerm.programme_id, ProgrammeTerm.code)
        .where(ProgrammeTerm.programme_id.in_(ids), ProgrammeTerm.field == "countries")
        .order_by(ProgrammeTerm.code)
    ):
        countries.setdefault(programme_id, []).append(code)
    return [
        DueItem(
            rating=row,
            programme=programmes[row.programme_id],
            label=views.level_label(row.level),
            countries=countries.get(row.programme_id, []),
        )
        for row in due
        if row.programme_id in programmes
        and (scope is None or scope.intersection(countries.get(row.programme_id, [])))
    ]


@router.get("/coordinate/ratings", name="coordinate_ratings")
def rereview_list(request: Request, session: DbSession, coordinator: Coordinator) -> Response:
    """Ratings of my countries' programmes last reviewed more than three years ago."""
    if not permissions.can_see_rereview_list(coordinator):
        raise PermissionDenied()
    scope = member_permissions.coordinated_countries(coordinator)
    context = {"scope": scope, "items": due_items(session, scope)}
    return render(request, "evidence/ratings_rereview.html", context)
