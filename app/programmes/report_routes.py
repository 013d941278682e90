"""Pages for implementation reports and for a programme's PDF documents.

Reports: members add one to a published programme, its author edits it, the author or a
coordinator of the programme deletes it. Documents: maintainers and reviewers upload and
remove PDFs on the editable content (reviewed like any edit); downloads follow the
visibility of the content that lists the file.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive

from app.auth.deps import ActiveMember, DbSession, Viewer, load_viewer
from app.config import Settings
from app.kit.errors import NotFound, PermissionDenied
from app.kit.i18n import N_, _
from app.members.models import Member
from app.programmes import attachments, content, files, permissions, reports, service
from app.programmes.deps import ProgrammeContext, load_context
from app.programmes.models import ImplementationReport
from app.vocabularies import service as vocabularies
from app.web import flash, redirect, render

router = APIRouter(dependencies=[Depends(load_viewer)])

# Room for the multipart framing and the small fields around the file.
FORM_OVERHEAD_BYTES = 64 * 1024


# --- implementation reports ------------------------------------------------------------


def _sent_report(
    country: Annotated[str, Form()] = "",
    setting: Annotated[str, Form()] = "",
    organisation_id: Annotated[str, Form()] = "",
    start_year: Annotated[str, Form()] = "",
    end_year: Annotated[str, Form()] = "",
    people_reached: Annotated[str, Form()] = "",
    what_worked: Annotated[str, Form()] = "",
    what_did_not_work: Annotated[str, Form()] = "",
    adaptations: Annotated[str, Form()] = "",
    visibility: Annotated[str, Form()] = "",
) -> dict[str, str]:
    """The report form as it was sent, to validate and to show again."""
    return {
        "country": country,
        "setting": setting,
        "organisation_id": organisation_id,
        "start_year": start_year,
        "end_year": end_year,
        "people_reached": people_reached,
        "what_worked": what_worked,
        "what_did_not_work": what_did_not_work,
        "adaptations": adaptations,
        "visibility": visibility,
    }


SentReport = Annotated[dict[str, str], Depends(_sent_report)]


def _report_form(
    request: Request,
    session: Session,
    ctx: ProgrammeContext,
    viewer: Member,
    values: dict[str, Any],
    errors: dict[str, str],
    report: ImplementationReport | None = None,
    status_code: int | None = None,
) -> Response:
    terms = vocabularies.snapshot(session)
    keep_country = [report.country] if report is not None else []
    keep_setting = [report.setting] if report is not None and report.setting else []
    keep_organisation = report.organisation_id if report is not None else None
    context = {
        "ctx": ctx,
        "programme": ctx.programme,
        "report": report,
        "values": values,
        "errors": errors,
        "country_choices": terms.choices("countries", keep=keep_country),
        "programme_countries": [
            (code, terms.label("countries", code)) for code in ctx.programme.codes("countries")
        ],
        "setting_choices": terms.choices("settings", keep=keep_setting),
        "organisation_choices": reports.organisation_choices(session, viewer, keep_organisation),
        "visibility_choices": [
            (code, _(label))
            for code, label in reports.REPORT_VISIBILITY_LABELS.items()
            if ctx.programme.visibility == "public" or code == "members"
        ],
        "labels": {name: _(label) for name, label in reports.REPORT_FIELD_LABELS.items()},
    }
    return render(
        request,
        "programmes/report_form.html",
        context,
        status_code=status_code or (422 if errors else 200),
    )


def _reporting_context(session: Session, viewer: Member, programme_id: int) -> ProgrammeContext:
    ctx = load_context(session, viewer, programme_id)
    if not ctx.can_report:
        raise PermissionDenied(
            _("Reports can be added to published programmes that are not archived.")
        )
    return ctx


@router.get("/programmes/{programme_id:int}/reports/new", name="programme_report_new")
def new_report_page(
    request: Request, programme_id: int, session: DbSession, viewer: ActiveMember
) -> Response:
    """The form for a new implementation report."""
    ctx = _reporting_context(session, viewer, programme_id)
    countries = ctx.programme.codes("countries")
    values = {
        "country": countries[0] if len(countries) == 1 else "",
        "visibility": "members" if ctx.programme.visibility == "members" else "public",
    }
    return _report_form(request, session, ctx, viewer, values, {})


@router.post("/programmes/{programme_id:int}/reports/new")
def create_report(
    request: Request,
    programme_id: int,
    session: DbSession,
    viewer: ActiveMember,
    values: SentReport,
) -> Response:
    """Add an implementation report to a published programme."""
    ctx = _reporting_context(session, viewer, programme_id)
    try:
        reports.create_report(session, viewer, ctx.programme, values)
    except reports.InvalidReport as problem:
        return _report_form(request, session, ctx, viewer, problem.values, problem.errors)
    flash(request, N_("Thank you: your implementation report is on the programme page."))
    return redirect(f"/programmes/{programme_id}#reports")


def _own_report(
    session: Session, viewer: Member, programme_id: int, report_id: int
) -> tuple[ProgrammeContext, ImplementationReport]:
    ctx = load_context(session, viewer, programme_id)
    report = reports.get(session, programme_id, report_id)
    if report is None or not permissions.can_see_report(viewer, report):
        raise NotFound(_("There is no such report."))
    return ctx, report


@router.get(
    "/programmes/{programme_id:int}/reports/{report_id:int}/edit", name="programme_report_edit"
)
def edit_report_page(
    request: Request,
    programme_id: int,
    report_id: int,
    session: DbSession,
    viewer: ActiveMember,
) -> Response:
    """The form to change one's own report."""
    ctx, report = _own_report(session, viewer, programme_id, report_id)
    if not reports.can_edit_report(viewer, report):
        raise PermissionDenied(_("Only the member who wrote a report can change it."))
    return _report_form(request, session, ctx, viewer, reports.values_of(report), {}, report)


@router.post("/programmes/{programme_id:int}/reports/{report_id:int}/edit")
def update_report(
    request: Request,
    programme_id: int,
    report_id: int,
    session: DbSession,
    viewer: ActiveMember,
    values: SentReport,
) -> Response:
    """Save changes to one's own report."""
    ctx, report = _own_report(session, viewer, programme_id, report_id)
    if not reports.can_edit_report(viewer, report):
        raise PermissionDenied(_("Only the member who wrote a report can change it."))
    try:
        reports.update_report(session, viewer, ctx.programme, report, values)
    except reports.InvalidReport as problem:
        return _report_form(request, session, ctx, viewer, problem.values, problem.errors, report)
    flash(request, N_("Your implementation report is saved."))
    return redirect(f"/programmes/{programme_id}#report-{report.id}")


@router.post("/programmes/{programme_id:int}/reports/{report_id:int}/delete")
def delete_report(
    request: Request,
    programme_id: int,
    report_id: int,
    session: DbSession,
    viewer: ActiveMember,
) -> Response:
    """Delete a report: its author, or a coordinator who reviews the programme."""
    ctx, report = _own_report(session, viewer, programme_id, report_id)
    if not permissions.can_manage_report(viewer, report, ctx.countries):
        raise PermissionDenied()
    reports.delete_report(session, viewer, report)
    flash(request, N_("The implementation report is deleted."))
    return redirect(f"/programmes/{programme_id}#reports")


# --- documents ---------------------------------------------------------------------------


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _back_to(programme_id: int, target: str | None) -> str:
    """Where to go after an upload or removal: a page of this programme, nowhere else."""
    prefix = f"/programmes/{programme_id}"
    if (
        target
        and (target == prefix or target.startswith(prefix + "/") or target.startswith(prefix + "#"))
        and "//" not in target
        and ".." not in target
        and "\\" not in target
    ):
        return target
    return f"{prefix}/attachments"


def _manager_page(
    request: Request,
    session: Session,
    ctx: ProgrammeContext,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    back: str | None = None,
    status_code: int = 200,
) -> Response:
    base = service.editable_base(session, ctx.programme)
    context = {
        "standalone": True,
        "ctx": ctx,
        "attachments": attachments.listed(session, ctx.programme, base.data),
        "upload_errors": errors or {},
        "upload_values": values or {},
        "back": _back_to(ctx.programme.id, back),
        "max_upload_bytes": _settings(request).max_upload_bytes,
    }
    return render(request, "programmes/_attachment_manager.html", context, status_code=status_code)


def _editing_context(session: Session, viewer: Member, programme_id: int) -> ProgrammeContext:
    ctx = load_context(session, viewer, programme_id)
    if not ctx.can_edit:
        raise PermissionDenied()
    return ctx


@router.get("/programmes/{programme_id:int}/attachments", name="programme_attachments")
def attachments_page(
    request: Request,
    programme_id: int,
    session: DbSession,
    viewer: ActiveMember,
    back: str = "",
) -> Response:
    """The documents of the programme's editable content, with the upload form."""
    ctx = _editing_context(session, viewer, programme_id)
    return _manager_page(request, session, ctx, back=back or None)


def _limited_receive(request: Request, limit: int) -> Receive:
    """The request body, refused as soon as it grows beyond what an upload may be."""
    received = 0
    receive = request.receive

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit + FORM_OVERHEAD_BYTES:
                raise files.UploadTooLarge(limit)
        return message

    return limited


async def _read_upload_form(
    request: Request, limit: int, fields: dict[str, str]
) -> tuple[bytes, str]:
    """Parse the upload form without ever holding more than ``limit`` bytes of file.

    The text fields go into ``fields`` as soon as they are read, so a refused file still
    leaves them to show again.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + FORM_OVERHEAD_BYTES:
        raise files.UploadTooLarge(limit)
    limited = Request(request.scope, _limited_receive(request, limit))
    form = await limited.form(max_files=1, max_fields=10)
    try:
        for name in ("title", "back"):
            value = form.get(name)
            if isinstance(value, str):
                fields[name] = value
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return b"", ""
        data = await files.read_upload(upload, limit)
        return data, upload.filename
    finally:
        await form.close()


@router.post("/programmes/{programme_id:int}/attachments")
async def upload_attachment(
    request: Request, programme_id: int, session: DbSession, viewer: ActiveMember
) -> Response:
    """Attach a PDF to the programme's editable content (reviewed like any edit)."""
    ctx = await run_in_threadpool(_editing_context, session, viewer, programme_id)
    settings = _settings(request)
    limit = settings.max_upload_bytes
    fields: dict[str, str] = {}
    try:
        data, filename = await _read_upload_form(request, limit, fields)
        # Checking the PDF is CPU work: it runs off the event loop, like the database.
        await run_in_threadpool(
            attachments.add,
            session,
            viewer,
            ctx.programme,
            data=data,
            filename=filename,
            title=fields.get("title", ""),
            upload_dir=settings.upload_dir,
        )
    except files.UploadTooLarge as problem:
        return await run_in_threadpool(
            _upload_refused, request, session, ctx, {"file": problem.message}, fields, 413
        )
    except files.NotAPdf as problem:
        return await run_in_threadpool(
            _upload_refused, request, session, ctx, {"file": problem.message}, fields, 422
        )
    except attachments.InvalidAttachment as problem:
        return await run_in_threadpool(
            _upload_refused, request, session, ctx, problem.errors, fields, 422
        )
    except service.InvalidContent as problem:
        message = _(
            "The document could not be added because the programme's content needs attention "
            "first: %(fields)s. Fix it in the edit form, then attach the document again.",
            fields=", ".join(content.field_label(name) for name in problem.errors),
        )
        return await run_in_threadpool(
            _upload_refused, request, session, ctx, {"file": message}, fields, 422
        )
    if ctx.programme.is_published:
        flash(
            request,
            N_(
                "The document is attached to the edit in progress. It is shown on the "
                "programme page once the edit is approved."
            ),
        )
    else:
        flash(request, N_("The document is attached to the draft."))
    return redirect(_back_to(programme_id, fields.get("back")))


def _upload_refused(
    request: Request,
    session: Session,
    ctx: ProgrammeContext,
    errors: dict[str, str],
    fields: dict[str, str],
    status_code: int,
) -> Response:
    return _manager_page(
        request,
        session,
        ctx,
        errors=errors,
        values={"title": fields.get("title", "")},
        back=fields.get("back"),
        status_code=status_code,
    )


@router.post("/programmes/{programme_id:int}/attachments/{attachment_id:int}/remove")
def remove_attachment(
    request: Request,
    programme_id: int,
    attachment_id: int,
    session: DbSession,
    viewer: ActiveMember,
    back: Annotated[str, Form()] = "",
) -> Response:
    """Take a document off the programme's editable content."""
    ctx = _editing_context(session, viewer, programme_id)
    attachment = attachments.remove(session, viewer, ctx.programme, attachment_id)
    flash(request, N_("“%(title)s” is removed from the documents."), title=attachment.title)
    return redirect(_back_to(programme_id, back))


@router.get(
    "/programmes/{programme_id:int}/attachments/{attachment_id:int}", name="programme_attachment"
)
def download_attachment(
    request: Request,
    programme_id: int,
    attachment_id: int,
    session: DbSession,
    viewer: Viewer,
) -> Response:
    """A PDF document, as a download, for those who may see the content listing it."""
    ctx = load_context(session, viewer, programme_id)
    attachment = attachments.get(session, programme_id, attachment_id)
    if attachment is None or not attachments.may_download(
        session, viewer, ctx.programme, attachment, can_see_workflow=ctx.can_see_workflow
    ):
        raise NotFound(_("There is no such document, or it is not visible to you."))
    path = files.path_for(attachment.sha256, _settings(request).upload_dir)
    return files.download_response(path, attachment.filename)
