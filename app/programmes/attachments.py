"""A programme's PDF documents: which a version lists, adding and removing them, downloads.

A version's content lists its documents (``data["attachment_ids"]``). Adding or removing a
document changes the editable content through ``service.save``, so the optimistic lock and
the review apply: a document added to a published programme is public only once the edit
is approved. The file itself is served with the visibility of the content that lists it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.kit.errors import NotFound, PortalError
from app.kit.i18n import N_, _
from app.members.models import Member
from app.programmes import content, files, permissions, service
from app.programmes.models import Attachment, Programme, ProgrammeVersion

TITLE_MAX = 200


class InvalidAttachment(PortalError):
    """An upload form with a message per wrong field."""

    status_code = 422
    title = N_("Some fields need your attention")

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(next(iter(errors.values())))
        self.errors = errors


def listed_ids(version_data: Mapping[str, Any] | None) -> list[int]:
    """The attachment ids a content snapshot lists, in order, without repeats."""
    raw = (version_data or {}).get("attachment_ids") or []
    ids: list[int] = []
    for item in raw:
        if isinstance(item, int) and not isinstance(item, bool):
            number = item
        elif isinstance(item, str) and item.isdigit():
            number = int(item)
        else:
            continue
        if number not in ids:
            ids.append(number)
    return ids


def listed(
    session: Session, programme: Programme, version_data: Mapping[str, Any] | None
) -> list[Attachment]:
    """The attachments a content snapshot lists, in its order (one query)."""
    ids = listed_ids(version_data)
    if not ids:
        return []
    found = {
        attachment.id: attachment
        for attachment in session.scalars(
            select(Attachment).where(
                Attachment.id.in_(ids), Attachment.programme_id == programme.id
            )
        )
    }
    return [found[number] for number in ids if number in found]


def get(session: Session, programme_id: int, attachment_id: int) -> Attachment | None:
    """An attachment of this programme (None when it belongs to another one)."""
    return session.scalar(
        select(Attachment).where(
            Attachment.id == attachment_id, Attachment.programme_id == programme_id
        )
    )


def clean_title(title: str, filename: str) -> str:
    """The title a document is listed under: as typed, else the file's name."""
    text = " ".join((title or "").split())
    if not text:
        stem = filename[: -len(".pdf")] if filename.lower().endswith(".pdf") else filename
        text = " ".join(stem.replace("_", " ").split()) or _("Document")
    return text[:TITLE_MAX]


def _save_ids(
    session: Session,
    actor: Member,
    programme: Programme,
    base: ProgrammeVersion,
    ids: list[int],
    token: str,
) -> ProgrammeVersion:
    """Save the editable content with a new list of documents (reviewed as any edit)."""
    return service.save(session, actor, programme, {**base.data, "attachment_ids": ids}, token)


def add(
    session: Session,
    actor: Member,
    programme: Programme,
    *,
    data: bytes,
    filename: str,
    title: str,
    upload_dir: Path,
    token: str | None = None,
) -> Attachment:
    """Check and store a PDF, then list it in the programme's editable content.

    Raises ``files.NotAPdf`` for anything but a readable PDF, ``InvalidAttachment`` for
    a missing file or an overlong title.

    ``token`` (the version the form was opened on) makes a stale form fail like any stale
    edit; without it the upload applies to the current editable content.
    """
    errors: dict[str, str] = {}
    if len(title) > TITLE_MAX:
        errors["title"] = _("Keep this under %(count)s characters.", count=TITLE_MAX)
    if not data:
        errors["file"] = _("Choose a PDF file to upload.")
    if errors:
        raise InvalidAttachment(errors)
    info = files.check_pdf(data)
    base = service.editable_base(session, programme)
    # The content must be saveable before anything is stored (drafts always are; a
    # vocabulary change could make an old version need attention).
    _values, content_errors = content.validate(
        session, base.data, current=base.data, programme_id=programme.id
    )
    if content_errors:
        raise service.InvalidContent(content_errors, dict(base.data))
    sha256 = files.store(data, upload_dir)
    safe_name = files.safe_filename(filename)
    attachment = Attachment(
        programme_id=programme.id,
        sha256=sha256,
        filename=safe_name,
        title=clean_title(title, safe_name),
        size_bytes=len(data),
        page_count=info.page_count,
        uploaded_by_id=actor.id,
    )
    session.add(attachment)
    session.flush()
    ids = [*listed_ids(base.data), attachment.id]
    _save_ids(session, actor, programme, base, ids, token or service.version_token(base))
    return attachment


def remove(
    session: Session,
    actor: Member,
    programme: Programme,
    attachment_id: int,
    token: str | None = None,
) -> Attachment:
    """Take a document off the editable content (the published version keeps it until an
    edit without it is approved; the stored file stays for the history)."""
    base = service.editable_base(session, programme)
    ids = listed_ids(base.data)
    attachment = get(session, programme.id, attachment_id)
    if attachment is None or attachment_id not in ids:
        raise NotFound(_("This document is not listed on the programme."))
    ids.remove(attachment_id)
    _save_ids(session, actor, programme, base, ids, token or service.version_token(base))
    return attachment


def may_download(
    session: Session,
    viewer: Member | None,
    programme: Programme,
    attachment: Attachment,
    *,
    can_see_workflow: bool,
) -> bool:
    """Listed on the published content the viewer may see, or the viewer sees the drafts."""
    if can_see_workflow:
        return True
    if not permissions.can_see_listed(viewer, programme):
        return False
    published = service.published_version(session, programme)
    return published is not None and attachment.id in listed_ids(published.data)
