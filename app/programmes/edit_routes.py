"""Pages where programmes are written and reviewed.

The create and edit forms (with per-field validation as you type), the workflow page of a
programme (its status, the changes under review, the review thread and every workflow
action), the member's own programmes and the coordinators' review queue.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from app.auth.deps import ActiveMember, Coordinator, DbSession, load_viewer
from app.kit.errors import PermissionDenied
from app.kit.i18n import N_, _
from app.kit.ids import parse_id
from app.members import permissions as member_permissions
from app.members.models import Member
from app.organisations import repository as organisations_repository
from app.programmes import attachments, content, repository, service
from app.programmes.deps import ProgrammeContext, load_context, require_edit
from app.programmes.models import (
    WORKING_STATES,
    Programme,
    ProgrammeThreadEntry,
    ProgrammeVersion,
)
from app.vocabularies import service as vocabularies
from app.web import PostedForm, flash, form_text, redirect, render

router = APIRouter(dependencies=[Depends(load_viewer)])

# The fields of the form: every content field but the documents, which are uploaded on the
# workflow page and kept by every save.
FORM_FIELDS = tuple(name for name in content.FIELDS if name != "attachment_ids")
# Empty translation rows offered below the existing ones (no script needed to add one).
EMPTY_TRANSLATION_ROWS = 2
MAX_TRANSLATION_ROWS = 60
TRANSLATION_INPUT = re.compile(r"^translations-(\d{1,2})-(language|title|summary)$")
# A field whose message may change when another one does: validating the first shows both.
RELATED_FIELDS: dict[str, tuple[str, ...]] = {
    "age_min": ("age_max",),
    "target_groups": ("target_subgroups",),
    "content_language": ("translations",),
}

# Label and badge modifier of a programme's status and of a version's state.
STATUS_BADGES: dict[str, tuple[str, str]] = {
    "draft": (N_("Draft"), "neutral"),
    "submitted": (N_("Waiting for review"), "accent"),
    "changes_requested": (N_("Changes requested"), "warning"),
    "revised": (N_("Sent back, then revised"), "neutral"),
    "published": (N_("Published"), "success"),
    "rejected": (N_("Not accepted"), "danger"),
    "superseded": (N_("Replaced by a newer version"), "neutral"),
    "withdrawn": (N_("Discarded"), "neutral"),
    "archived": (N_("Archived"), "neutral"),
}
THREAD_LABELS: dict[str, str] = {
    "comment": N_("Comment"),
    "submit": N_("Submitted for review"),
    "approve": N_("Approved and published"),
    "request_changes": N_("Changes requested"),
    "reject": N_("Not accepted"),
    "archive": N_("Archived"),
    "restore": N_("Restored"),
}
DECISION_LABELS: dict[str, str] = {
    "approve": N_("Approve and publish"),
    "request_changes": N_("Request changes"),
    "reject": N_("Reject"),
}


def _texts(form: FormData, name: str) -> list[str]:
    return [value for value in form.getlist(name) if isinstance(value, str)]


def form_content(form: FormData) -> dict[str, Any]:
    """The content as the form sent it: every field present, so unticked boxes count."""
    raw: dict[str, Any] = {}
    for name in FORM_FIELDS:
        if name in content.LIST_FIELDS:
            raw[name] = _texts(form, name)
        elif name in content.BOOLEAN_FIELDS:
            raw[name] = name in form
        elif name == "translations":
            raw[name] = _translation_rows(form)
        else:
            raw[name] = form_text(form, name)
    return raw


def _translation_rows(form: FormData) -> list[dict[str, str]]:
    rows: dict[int, dict[str, str]] = {}
    for key in form:
        match = TRANSLATION_INPUT.match(key)
        if match is None:
            continue
        index = int(match.group(1))
        if index < MAX_TRANSLATION_ROWS:
            row = rows.setdefault(index, {"language": "", "title": "", "summary": ""})
            row[match.group(2)] = form_text(form, key)
    return [rows[index] for index in sorted(rows)]


def _field_of(input_name: str) -> str | None:
    """The content field an input belongs to (translation rows belong to ``translations``)."""
    if TRANSLATION_INPUT.match(input_name):
        return "translations"
    return input_name if input_name in FORM_FIELDS else None


# --- the form ------------------------------------------------------------------------------


def _published_programmes(session: Session, exclude_id: int | None) -> list[tuple[int, str]]:
    """(id, title) of published programmes, for "adapted from"."""
    statement = select(Programme.id, Programme.title).where(Programme.status == "published")
    if exclude_id is not None:
        statement = statement.where(Programme.id != exclude_id)
    rows = session.execute(statement.order_by(func.lower(Programme.title), Programme.id))
    return [(row.id, row.title) for row in rows]


def _anchors(choices: Mapping[str, Any]) -> dict[str, str]:
    """The input each error in the summary links to (the first box of a group)."""
    anchors: dict[str, str] = {"translations": "translations-0-language"}
    for name in (*content.LIST_FIELDS, *content.CODE_FIELDS):
        options = choices.get(name) or []
        if name == "target_subgroups":
            options = [pair for _group, pairs in options for pair in pairs]
        if options:
            anchors[name] = f"{name}-{options[0][0]}"
    anchors["visibility"] = "visibility-public"
    return anchors


def _form_page(
    request: Request,
    session: Session,
    *,
    values: Mapping[str, Any],
    kept: Mapping[str, Any],
    ctx: ProgrammeContext | None = None,
    token: str = "",
    errors: Mapping[str, str] | None = None,
    stale: service.StaleEdit | None = None,
    status_code: int = 200,
) -> Response:
    """The create or edit form; ``kept``: the content on record, whose retired terms stay."""
    terms = vocabularies.snapshot(session)

    def codes(name: str) -> list[str]:
        value = kept.get(name)
        if isinstance(value, list):
            return [str(code) for code in value]
        return [str(value)] if value else []

    choices: dict[str, Any] = {
        name: terms.choices(name, keep=codes(name))
        for name in (*content.LIST_FIELDS, *content.CODE_FIELDS)
        if name != "target_subgroups"
    }
    choices["target_subgroups"] = terms.subgroup_choices(keep=codes("target_subgroups"))
    choices["content_language"] = terms.choices(
        "languages", keep=[*codes("languages"), *codes("content_language")]
    )
    translations = [
        entry for entry in values.get("translations") or [] if isinstance(entry, Mapping)
    ]
    translation_rows = (
        translations + [{"language": "", "title": "", "summary": ""}] * EMPTY_TRANSLATION_ROWS
    )
    programme = ctx.programme if ctx is not None else None
    context = {
        "ctx": ctx,
        "programme": programme,
        "values": values,
        "errors": dict(errors or {}),
        "choices": choices,
        "anchors": _anchors(choices),
        "organisations": organisations_repository.choices(session),
        "originals": _published_programmes(session, programme.id if programme else None),
        "translation_rows": translation_rows,
        "visibility_choices": [
            (code, _(label)) for code, label in content.VISIBILITY_LABELS.items()
        ],
        "label": content.field_label,
        "token": token,
        "stale": stale,
        "limits": {
            "title": content.TITLE_MAX,
            "summary": content.SUMMARY_MAX,
            "description": content.DESCRIPTION_MAX,
            "short": content.SHORT_TEXT_MAX,
            "age": content.AGE_MAX,
        },
        "attachments": attachments.listed(session, programme, kept) if programme else [],
        "back": f"/programmes/{programme.id}/edit" if programme else "",
        "validate_url": "/programmes/validate"
        + (f"?programme_id={programme.id}" if programme else ""),
        "action": f"/programmes/{programme.id}/edit" if programme else "/programmes/new",
    }
    return render(request, "programmes/form.html", context, status_code=status_code)


@router.get("/programmes/new", name="programme_new")
def new_programme(request: Request, session: DbSession, viewer: ActiveMember) -> Response:
    """An empty form for a new programme."""
    return _form_page(request, session, values=content.empty_content(), kept={})


@router.post("/programmes/new")
def create_programme(
    request: Request, session: DbSession, viewer: ActiveMember, form: PostedForm
) -> Response:
    """Save a new draft; errors come back at their fields with everything typed kept."""
    raw = form_content(form)
    try:
        programme = service.create(session, viewer, raw)
    except service.InvalidContent as problem:
        return _form_page(
            request, session, values=raw, kept={}, errors=problem.errors, status_code=422
        )
    flash(
        request,
        N_("Your draft is saved. Submit it for review when it is ready."),
    )
    return redirect(f"/programmes/{programme.id}/review")


def _editable(session: Session, viewer: Member, programme_id: int) -> ProgrammeContext:
    return require_edit(load_context(session, viewer, programme_id))


@router.get("/programmes/{programme_id:int}/edit", name="programme_edit")
def edit_programme(
    request: Request, session: DbSession, viewer: ActiveMember, programme_id: int
) -> Response:
    """The form with the content an edit starts from: the working version, else the published."""
    ctx = _editable(session, viewer, programme_id)
    base = service.editable_base(session, ctx.programme)
    return _form_page(
        request,
        session,
        values=base.data,
        kept=base.data,
        ctx=ctx,
        token=service.version_token(base),
    )


@router.post("/programmes/{programme_id:int}/edit")
def save_programme(
    request: Request,
    session: DbSession,
    viewer: ActiveMember,
    form: PostedForm,
    programme_id: int,
) -> Response:
    """Save the edit; a save after someone else's shows what changed meanwhile."""
    ctx = _editable(session, viewer, programme_id)
    raw = form_content(form)
    token = form_text(form, "token")
    try:
        service.save(session, viewer, ctx.programme, raw, token)
    except service.StaleEdit as stale:
        _clean, errors = content.validate(
            session, raw, current=stale.version.data, programme_id=ctx.programme.id
        )
        return _form_page(
            request,
            session,
            values=raw,
            kept=stale.version.data,
            ctx=ctx,
            token=stale.token,
            errors=errors,
            stale=stale,
            status_code=409,
        )
    except service.InvalidContent as problem:
        base = service.editable_base(session, ctx.programme)
        return _form_page(
            request,
            session,
            values=raw,
            kept=base.data,
            ctx=ctx,
            token=token,
            errors=problem.errors,
            status_code=422,
        )
    if ctx.programme.is_published:
        flash(
            request,
            N_(
                "Your changes are saved. The published version stays visible until your "
                "edit is submitted and approved."
            ),
        )
    else:
        flash(request, N_("Your changes are saved."))
    return redirect(f"/programmes/{programme_id}/review")


@router.post("/programmes/validate", name="programme_validate")
def validate_field(
    request: Request,
    session: DbSession,
    viewer: ActiveMember,
    form: PostedForm,
    programme_id: str = "",
) -> Response:
    """The message of the field that changed (htmx swaps it next to the field)."""
    field = _field_of(request.headers.get("hx-trigger-name") or form_text(form, "field"))
    current: Mapping[str, Any] | None = None
    number = parse_id(programme_id)
    if number is not None:
        ctx = _editable(session, viewer, number)
        current = service.editable_base(session, ctx.programme).data
    errors: dict[str, str] = {}
    if field is not None:
        _clean, errors = content.validate(
            session, form_content(form), current=current, programme_id=number
        )
    return render(
        request,
        "programmes/_form_validation.html",
        {
            "message": errors.get(field, "") if field else "",
            "related": {name: errors.get(name, "") for name in RELATED_FIELDS.get(field or "", ())},
        },
        block=None,
    )


# --- the workflow page -----------------------------------------------------------------------


@dataclass(frozen=True)
class ThreadItem:
    """One entry of the review thread, with its author's name as readers see it."""

    kind: str
    label: str
    body: str
    created_at: datetime
    author: str
    version_number: int | None


def _thread(session: Session, programme_id: int) -> list[ThreadItem]:
    """The review thread, oldest first, with authors and version numbers (one query)."""
    rows = session.execute(
        select(
            ProgrammeThreadEntry,
            Member.full_name,
            Member.status,
            ProgrammeVersion.number,
        )
        .outerjoin(Member, Member.id == ProgrammeThreadEntry.author_id)
        .outerjoin(ProgrammeVersion, ProgrammeVersion.id == ProgrammeThreadEntry.version_id)
        .where(ProgrammeThreadEntry.programme_id == programme_id)
        .order_by(ProgrammeThreadEntry.created_at, ProgrammeThreadEntry.id)
    )
    return [
        ThreadItem(
            kind=entry.kind,
            label=_(THREAD_LABELS.get(entry.kind, entry.kind)),
            body=entry.body,
            created_at=entry.created_at,
            author=_author_name(full_name, status),
            version_number=number,
        )
        for entry, full_name, status, number in rows
    ]


def _author_name(full_name: str | None, status: str | None) -> str:
    if full_name is None or status == "erased":
        return _("Former member")
    return full_name


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    ids.discard(0)
    if not ids:
        return {}
    rows = session.execute(
        select(Member.id, Member.full_name, Member.status).where(Member.id.in_(sorted(ids)))
    )
    return {row.id: _author_name(row.full_name, row.status) for row in rows}


def _sent_back(session: Session, programme_id: int, before: int) -> ProgrammeVersion | None:
    """The latest version sent back for changes and revised since, older than ``before``."""
    return session.scalar(
        select(ProgrammeVersion)
        .where(
            ProgrammeVersion.programme_id == programme_id,
            ProgrammeVersion.state == "revised",
            ProgrammeVersion.number < before,
        )
        .order_by(ProgrammeVersion.number.desc())
        .limit(1)
    )


def _workflow_context(ctx: ProgrammeContext) -> ProgrammeContext:
    if not ctx.can_see_workflow:
        raise PermissionDenied()
    return ctx


def _review_page(
    request: Request,
    session: Session,
    ctx: ProgrammeContext,
    *,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    """The workflow page of a programme, for its maintainers and reviewers."""
    programme = ctx.programme
    working = ctx.working
    published = service.published_version(session, programme)
    # What the working version is compared with: the published version, or else the
    # version last sent back for changes (what the coordinator saw).
    baseline = published
    if baseline is None and working is not None:
        baseline = _sent_back(session, programme.id, working.number)
    changes = (
        content.compare(session, baseline.data if baseline else None, working.data)
        if working is not None
        else []
    )
    people = {
        member_id
        for member_id in (
            working.updated_by_id if working else None,
            working.submitted_by_id if working else None,
        )
        if member_id is not None
    }
    is_maintainer = ctx.is_maintainer
    editable = working or published
    context = {
        "ctx": ctx,
        "programme": programme,
        "page_title": working.data.get("title") or programme.title if working else programme.title,
        "working": working,
        "published": published,
        "baseline": baseline,
        "changes": changes,
        "thread": _thread(session, programme.id),
        "names": _names(session, people),
        "errors": dict(errors or {}),
        "values": dict(values or {}),
        "problem": problem,
        "badges": STATUS_BADGES,
        "decisions": [(code, _(label)) for code, label in DECISION_LABELS.items()],
        # Offered to maintainers; to a coordinator only for a draft (their own edit), not
        # for a version they or a colleague just sent back.
        "can_submit": ctx.can_edit
        and working is not None
        and (working.state == "draft" or (is_maintainer and working.state == "changes_requested")),
        "can_withdraw": ctx.can_edit and working is not None and programme.is_published,
        "can_decide": ctx.can_review and working is not None and working.state == "submitted",
        "is_maintainer": is_maintainer,
        "terms": vocabularies.snapshot(session),
        # For the document manager: the documents of the content an edit starts from.
        "attachments": attachments.listed(session, programme, editable.data) if editable else [],
        "back": f"/programmes/{programme.id}/review",
    }
    return render(request, "programmes/review.html", context, status_code=status_code)


def _workflow(session: Session, viewer: Member, programme_id: int) -> ProgrammeContext:
    return _workflow_context(load_context(session, viewer, programme_id))


@router.get("/programmes/{programme_id:int}/review", name="programme_review")
def review_page(
    request: Request, session: DbSession, viewer: ActiveMember, programme_id: int
) -> Response:
    """Status, the changes under review, the thread and the actions of a programme."""
    ctx = _workflow(session, viewer, programme_id)
    return _review_page(request, session, ctx)


def _after(request: Request, programme_id: int, message: str, **values: str | int) -> Response:
    flash(request, message, **values)
    return redirect(f"/programmes/{programme_id}/review")


@router.post("/programmes/{programme_id:int}/submit")
def submit_programme(
    request: Request,
    session: DbSession,
    viewer: ActiveMember,
    form: PostedForm,
    programme_id: int,
) -> Response:
    """Send the working version to the coordinators, with an optional note."""
    ctx = require_edit(_workflow(session, viewer, programme_id))
    note = form_text(form, "submit_comment")
    try:
        service.submit(session, viewer, ctx.programme, note.strip())
    except service.InvalidContent as problem:
        message = _(
            "The draft is not complete yet: %(fields)s. Edit it, then submit it again.",
            fields=", ".join(content.field_label(name) for name in problem.errors),
        )
        return _review_page(
            request,
            session,
            ctx,
            errors={"submit_comment": message},
            values={"submit_comment": note},
            status_code=422,
        )
    except service.WrongState as problem:
        return _review_page(request, session, ctx, problem=problem.message, status_code=409)
    return _after(request, programme_id, N_("Submitted: the coordinators have been told."))


@router.post("/programmes/{programme_id:int}/review")
def decide_programme(
    request: Request,
    session: DbSession,
    viewer: ActiveMember,
    form: PostedForm,
    programme_id: int,
) -> Response:
    """A coordinator's decision on the submitted version."""
    ctx = _workflow(session, viewer, programme_id)
    if not ctx.can_review:
        raise PermissionDenied()
    decision = form_text(form, "decision")
    comment = form_text(form, "comment")
    try:
        outcome = service.review(session, viewer, ctx.programme, decision, comment)
    except service.InvalidContent as problem:
        return _review_page(
            request,
            session,
            ctx,
            errors=problem.errors,
            values={"decision": decision, "comment": comment},
            status_code=422,
        )
    except service.WrongState as problem:
        return _review_page(
            request,
            session,
            ctx,
            problem=problem.message,
            values={"decision": decision, "comment": comment},
            status_code=409,
        )
    messages = {
        "approve": N_("Approved: version %(number)s is published."),
        "request_changes": N_("Changes requested: the maintainers have been told."),
        "reject": N_("Rejected: the maintainers have been told."),
    }
    return _after(request, programme_id, messages[outcome.decision], number=outcome.version.number)


@router.post("/programmes/{programme_id:int}/comment")
def comment_programme(
    request: Request,
    session: DbSession,
    viewer: ActiveMember,
    form: PostedForm,
    programme_id: int,
) -> Response:
    """A message in the review thread."""
    ctx = _workflow(session, viewer, programme_id)
    body = form_text(form, "body")
    try:
        service.comment(session, viewer, ctx.programme, body)
    except service.InvalidContent as problem:
        return _review_page(
            request, session, ctx, errors=problem.errors, values={"body": body}, status_code=422
        )
    return _after(request, programme_id, N_("Your comment is added."))


@router.post("/programmes/{programme_id:int}/withdraw")
def withdraw_programme(
    request: Request, session: DbSession, viewer: ActiveMember, programme_id: int
) -> Response:
    """Discard the edit in progress of a published programme."""
    ctx = require_edit(_workflow(session, viewer, programme_id))
    try:
        service.withdraw(session, viewer, ctx.programme)
    except service.WrongState as problem:
        return _review_page(request, session, ctx, problem=problem.message, status_code=409)
    return _after(
        request, programme_id, N_("The edit is discarded; the published version stays as it was.")
    )


@router.post("/programmes/{programme_id:int}/archive")
def archive_programme(
    request: Request,
    session: DbSession,
    viewer: ActiveMember,
    form: PostedForm,
    programme_id: int,
) -> Response:
    """Take the programme out of the catalogue, with a reason."""
    ctx = require_edit(_workflow(session, viewer, programme_id))
    reason = form_text(form, "reason")
    try:
        service.archive(session, viewer, ctx.programme, reason)
    except service.InvalidContent as problem:
        return _review_page(
            request, session, ctx, errors=problem.errors, values={"reason": reason}, status_code=422
        )
    except service.WrongState as problem:
        return _review_page(request, session, ctx, problem=problem.message, status_code=409)
    return _after(request, programme_id, N_("The programme is archived."))


@router.post("/programmes/{programme_id:int}/restore")
def restore_programme(
    request: Request, session: DbSession, viewer: ActiveMember, programme_id: int
) -> Response:
    """Bring an archived programme back."""
    ctx = require_edit(_workflow(session, viewer, programme_id))
    try:
        service.restore(session, viewer, ctx.programme)
    except service.WrongState as problem:
        return _review_page(request, session, ctx, problem=problem.message, status_code=409)
    return _after(request, programme_id, N_("The programme is restored."))


# --- lists -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MyProgramme:
    programme: Programme
    working: ProgrammeVersion | None


def _working_versions(session: Session, programme_ids: list[int]) -> dict[int, ProgrammeVersion]:
    """The working version of each programme that has one (one query)."""
    if not programme_ids:
        return {}
    found: dict[int, ProgrammeVersion] = {}
    for version in session.scalars(
        select(ProgrammeVersion)
        .where(
            ProgrammeVersion.programme_id.in_(programme_ids),
            ProgrammeVersion.state.in_(WORKING_STATES),
        )
        .order_by(ProgrammeVersion.number)
    ):
        found[version.programme_id] = version
    return found


@router.get("/programmes/mine", name="programmes_mine")
def my_programmes(request: Request, session: DbSession, viewer: ActiveMember) -> Response:
    """The programmes I maintain, with their status and any edit in progress."""
    programmes = repository.maintained_by(session, viewer.id)
    working = _working_versions(session, [programme.id for programme in programmes])
    context = {
        "items": [MyProgramme(programme, working.get(programme.id)) for programme in programmes],
        "badges": STATUS_BADGES,
    }
    return render(request, "programmes/mine.html", context)


@dataclass(frozen=True)
class QueueItem:
    version: ProgrammeVersion
    programme: Programme
    submitter: str
    countries: list[str]


@router.get("/coordinate/programmes", name="coordinate_programmes")
def review_queue(request: Request, session: DbSession, coordinator: Coordinator) -> Response:
    """Submitted versions of programmes in my countries, oldest first."""
    scope = member_permissions.coordinated_countries(coordinator)
    versions = repository.review_queue(session, scope)
    programme_ids = sorted({version.programme_id for version in versions})
    programmes = (
        {
            programme.id: programme
            for programme in session.scalars(
                select(Programme).where(Programme.id.in_(programme_ids))
            )
        }
        if programme_ids
        else {}
    )
    names = _names(
        session, {version.submitted_by_id for version in versions if version.submitted_by_id}
    )
    terms = vocabularies.snapshot(session)
    items = [
        QueueItem(
            version=version,
            programme=programmes[version.programme_id],
            submitter=names.get(version.submitted_by_id or 0, _("Former member")),
            countries=[
                terms.label("countries", code) for code in version.data.get("countries") or []
            ],
        )
        for version in versions
    ]
    context = {
        "items": items,
        "scope": sorted(scope, key=lambda code: terms.label("countries", code))
        if scope is not None
        else None,
        "terms": terms,
    }
    return render(request, "coordinate/programmes.html", context)
