"""The rules of the programme workflow: drafts, submission, review, publication, archive.

Services take the request's Session and never commit. Permission checks happen in the
routes' dependencies (app.programmes.deps) through app.programmes.permissions; the
functions here check the state a step needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.config import get_settings
from app.db import utcnow
from app.kit.errors import PortalError
from app.kit.i18n import N_, _
from app.members.models import Member
from app.outbox import service as outbox
from app.programmes import content, repository
from app.programmes.models import (
    WORKING_STATES,
    Programme,
    ProgrammeMaintainer,
    ProgrammeTerm,
    ProgrammeThreadEntry,
    ProgrammeTranslation,
    ProgrammeVersion,
)
from app.search import index as search_index
from app.vocabularies.builtin import VOCABULARIES


class InvalidContent(PortalError):
    """Content with a message per wrong field."""

    status_code = 422
    title = N_("Some fields need your attention")

    def __init__(self, errors: dict[str, str], values: dict[str, Any]) -> None:
        super().__init__(_("Some fields need your attention."))
        self.errors = errors
        self.values = values


class WrongState(PortalError):
    status_code = 409
    title = N_("This step is not possible now")


class StaleEdit(PortalError):
    """Someone saved the programme after the editor opened it."""

    status_code = 409
    title = N_("Someone else saved this programme meanwhile")

    def __init__(
        self, version: ProgrammeVersion, changes: list[content.FieldChange], token: str
    ) -> None:
        super().__init__(
            _(
                "Someone else saved this programme after you opened it. Your text is "
                "still in the form; compare it with the saved version below, then save again."
            )
        )
        self.version = version
        self.changes = changes
        self.token = token


@dataclass(frozen=True)
class ReviewOutcome:
    version: ProgrammeVersion
    decision: str


def version_token(version: ProgrammeVersion) -> str:
    """What an edit form carries to detect that someone saved in between."""
    return f"{version.id}.{version.revision}"


# --- reading -----------------------------------------------------------------------------


def maintainer_ids(session: Session, programme_id: int) -> set[int]:
    return set(
        session.scalars(
            select(ProgrammeMaintainer.member_id).where(
                ProgrammeMaintainer.programme_id == programme_id
            )
        )
    )


def working_version(session: Session, programme_id: int) -> ProgrammeVersion | None:
    """The version being drafted or reviewed, if any."""
    return session.scalar(
        select(ProgrammeVersion)
        .where(
            ProgrammeVersion.programme_id == programme_id,
            ProgrammeVersion.state.in_(WORKING_STATES),
        )
        .order_by(ProgrammeVersion.number.desc())
        .limit(1)
    )


def published_version(session: Session, programme: Programme) -> ProgrammeVersion | None:
    if programme.published_version_id is None:
        return None
    return session.get(ProgrammeVersion, programme.published_version_id)


def editable_base(session: Session, programme: Programme) -> ProgrammeVersion:
    """The version an edit starts from: the working one, else the published one."""
    working = working_version(session, programme.id)
    if working is not None:
        return working
    published = published_version(session, programme)
    if published is None:  # every programme has at least one version
        raise WrongState(_("This programme has no version to edit."))
    return published


# --- writing -----------------------------------------------------------------------------


def create(session: Session, actor: Member, raw: Mapping[str, Any]) -> Programme:
    """A new draft programme, maintained by its creator."""
    values, errors = content.validate(session, raw)
    if errors:
        raise InvalidContent(errors, values)
    programme = Programme(status="draft", created_by_id=actor.id, title=values["title"])
    session.add(programme)
    session.flush()
    session.add(ProgrammeMaintainer(programme_id=programme.id, member_id=actor.id))
    version = ProgrammeVersion(
        programme_id=programme.id,
        number=1,
        state="draft",
        data=values,
        created_by_id=actor.id,
        updated_by_id=actor.id,
    )
    session.add(version)
    session.flush()
    _mirror(session, programme, values)
    return programme


def save(
    session: Session, actor: Member, programme: Programme, raw: Mapping[str, Any], token: str
) -> ProgrammeVersion:
    """Save an edit made from the version ``token`` names.

    A published programme gets a new working version, reviewed before it replaces the
    published one; so does a version sent back for changes (it is kept as reviewed). A
    draft or a submitted version is changed in place. A save based on
    anything but the latest state is refused with what changed meanwhile.
    """
    base = editable_base(session, programme)
    values, errors = content.validate(session, raw, current=base.data, programme_id=programme.id)
    if token != version_token(base):
        raise StaleEdit(base, content.compare(session, values, base.data), version_token(base))
    if errors:
        raise InvalidContent(errors, values)
    if base.state in ("draft", "submitted"):
        # Conditional on the revision read above: of two saves at once, one wins.
        changed = session.execute(
            update(ProgrammeVersion)
            .where(ProgrammeVersion.id == base.id, ProgrammeVersion.revision == base.revision)
            .values(
                data=values,
                revision=base.revision + 1,
                updated_by_id=actor.id,
                updated_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            session.refresh(base)
            raise StaleEdit(base, content.compare(session, values, base.data), version_token(base))
        session.refresh(base)
        version = base
    else:
        # From the published version, or from one sent back for changes, which is kept as
        # the coordinator saw it.
        if base.state == "changes_requested":
            changed = session.execute(
                update(ProgrammeVersion)
                .where(ProgrammeVersion.id == base.id, ProgrammeVersion.revision == base.revision)
                .values(state="revised", revision=base.revision + 1)
                .execution_options(synchronize_session=False)
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                session.refresh(base)
                raise StaleEdit(
                    base, content.compare(session, values, base.data), version_token(base)
                )
            session.refresh(base)
        number = (
            session.scalar(
                select(func.max(ProgrammeVersion.number)).where(
                    ProgrammeVersion.programme_id == programme.id
                )
            )
            or 0
        ) + 1
        version = ProgrammeVersion(
            programme_id=programme.id,
            number=number,
            state="draft",
            data=values,
            created_by_id=actor.id,
            updated_by_id=actor.id,
        )
        session.add(version)
        session.flush()
    if not programme.is_published:
        _mirror(session, programme, values)
    return version


def submit(
    session: Session, actor: Member, programme: Programme, comment: str = ""
) -> ProgrammeVersion:
    """Send the working version to the coordinators."""
    version = working_version(session, programme.id)
    if version is None or version.state not in ("draft", "changes_requested"):
        raise WrongState(_("There is no draft to submit."))
    _values, errors = content.validate(
        session, version.data, current=version.data, programme_id=programme.id
    )
    if errors:
        raise InvalidContent(errors, dict(version.data))
    version.state = "submitted"
    version.submitted_at = utcnow()
    version.submitted_by_id = actor.id
    if not programme.is_published:
        programme.status = "submitted"
    _thread(session, programme, version, actor, "submit", comment)
    countries = version.data.get("countries") or []
    for reviewer in repository.reviewers_of(session, countries):
        if reviewer.id == actor.id:
            continue
        outbox.enqueue(
            session,
            to=reviewer.email,
            template="programme_submitted",
            context={
                "name": reviewer.full_name,
                "title": version.data.get("title", programme.title),
                "submitter": actor.full_name,
                "is_edit": programme.is_published,
                "link": f"{get_settings().base_url}/programmes/{programme.id}/review",
            },
            language_code=get_settings().default_language,
        )
    session.flush()
    return version


def review(
    session: Session, actor: Member, programme: Programme, decision: str, comment: str
) -> ReviewOutcome:
    """A coordinator's decision on the submitted version."""
    comment = comment.strip()
    if decision not in ("approve", "request_changes", "reject"):
        raise InvalidContent({"decision": _("Choose a decision.")}, {"comment": comment})
    if decision in ("request_changes", "reject") and not comment:
        raise InvalidContent(
            {"comment": _("Tell the maintainers what to change or why it is rejected.")},
            {"comment": comment, "decision": decision},
        )
    version = working_version(session, programme.id)
    if version is None or version.state != "submitted":
        raise WrongState(_("Nothing is waiting for review on this programme."))
    # Conditional on the state read above: of two decisions at once, one wins.
    new_state = {"approve": "published", "request_changes": "changes_requested"}.get(
        decision, "rejected"
    )
    now = utcnow()
    changed = session.execute(
        update(ProgrammeVersion)
        .where(ProgrammeVersion.id == version.id, ProgrammeVersion.state == "submitted")
        .values(state=new_state, decided_at=now, decided_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise WrongState(_("Another coordinator decided on this version a moment ago."))
    session.refresh(version)
    if decision == "approve":
        _publish(session, programme, version, now)
    elif decision == "request_changes":
        if not programme.is_published:
            programme.status = "changes_requested"
    elif not programme.is_published:
        programme.status = "rejected"
    _thread(session, programme, version, actor, decision, comment)
    audit_service.record(
        session,
        actor=actor,
        action=f"programme.{decision}",
        subject_type="programme",
        subject_id=programme.id,
        subject_label=programme.title,
        after={"version": version.number},
        reason=comment or None,
    )
    _tell_submitter(session, programme, version, decision, comment)
    session.flush()
    return ReviewOutcome(version=version, decision=decision)


def _publish(
    session: Session, programme: Programme, version: ProgrammeVersion, now: datetime
) -> None:
    previous = published_version(session, programme)
    if previous is not None and previous.id != version.id:
        previous.state = "superseded"
    version.published_at = now
    programme.published_version_id = version.id
    programme.status = "published"
    if programme.published_at is None:
        programme.published_at = now
    programme.content_updated_at = now
    _mirror(session, programme, version.data)
    # Whether a manual exists is part of the rating rules.
    from app.evidence import ratings

    ratings.recompute(session, programme.id)


def withdraw(session: Session, actor: Member, programme: Programme) -> None:
    """Drop the working version of a published programme; the published one stays."""
    version = working_version(session, programme.id)
    if version is None or not programme.is_published:
        raise WrongState(_("There is no edit in progress to discard."))
    version.state = "withdrawn"
    version.updated_by_id = actor.id
    session.flush()


def comment(session: Session, actor: Member, programme: Programme, body: str) -> None:
    """A message in the review thread, seen by maintainers and reviewers."""
    body = body.strip()
    if not body:
        raise InvalidContent({"body": _("Write a message.")}, {"body": body})
    _thread(session, programme, working_version(session, programme.id), actor, "comment", body)
    session.flush()


def archive(session: Session, actor: Member, programme: Programme, reason: str) -> None:
    """Take a programme out of the catalogue, saying why; its page stays."""
    reason = reason.strip()
    if not reason:
        raise InvalidContent({"reason": _("Say why the programme is archived.")}, {})
    if programme.is_archived:
        raise WrongState(_("This programme is archived already."))
    programme.archived_at = utcnow()
    programme.archive_reason = reason
    _thread(session, programme, None, actor, "archive", reason)
    audit_service.record(
        session,
        actor=actor,
        action="programme.archive",
        subject_type="programme",
        subject_id=programme.id,
        subject_label=programme.title,
        reason=reason,
    )
    session.flush()


def restore(session: Session, actor: Member, programme: Programme) -> None:
    """Bring an archived programme back into the catalogue."""
    if not programme.is_archived:
        raise WrongState(_("This programme is not archived."))
    programme.archived_at = None
    programme.archive_reason = None
    _thread(session, programme, None, actor, "restore", "")
    audit_service.record(
        session,
        actor=actor,
        action="programme.restore",
        subject_type="programme",
        subject_id=programme.id,
        subject_label=programme.title,
    )
    session.flush()


def add_maintainer(session: Session, programme: Programme, member: Member) -> None:
    if member.id not in maintainer_ids(session, programme.id):
        session.add(ProgrammeMaintainer(programme_id=programme.id, member_id=member.id))
        session.flush()


# --- helpers -----------------------------------------------------------------------------


def _thread(
    session: Session,
    programme: Programme,
    version: ProgrammeVersion | None,
    actor: Member,
    kind: str,
    body: str,
) -> None:
    session.add(
        ProgrammeThreadEntry(
            programme_id=programme.id,
            version_id=version.id if version else None,
            author_id=actor.id,
            kind=kind,
            body=body,
        )
    )


def _mirror(session: Session, programme: Programme, values: Mapping[str, Any]) -> None:
    """Copy content into the programme row, its terms and translations (what lists read)."""
    for name in (
        "title",
        "summary",
        "description",
        "content_language",
        "prevention_level",
        "abuse_addressed",
        "age_min",
        "age_max",
        "manual_available",
        "training_required",
        "cost",
        "duration",
        "start_year",
        "still_running",
        "provider_organisation_id",
        "provider_name",
        "contact_name",
        "contact_email",
        "website",
        "visibility",
        "adapted_from_id",
    ):
        setattr(programme, name, values.get(name))
    programme.summary = programme.summary or ""
    programme.description = programme.description or ""
    session.execute(
        delete(ProgrammeTerm)
        .where(ProgrammeTerm.programme_id == programme.id)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(ProgrammeTranslation)
        .where(ProgrammeTranslation.programme_id == programme.id)
        .execution_options(synchronize_session=False)
    )
    rows: list[dict[str, Any]] = []
    for name, multiple in VOCABULARIES.items():
        codes = values.get(name) or [] if multiple else [values.get(name)]
        for position, code in enumerate(code for code in codes if code):
            rows.append(
                {"programme_id": programme.id, "field": name, "code": code, "position": position}
            )
    if rows:
        session.execute(insert(ProgrammeTerm), rows)
    translations = [
        {
            "programme_id": programme.id,
            "language": entry["language"],
            "title": entry["title"],
            "summary": entry.get("summary", ""),
        }
        for entry in values.get("translations") or []
    ]
    if translations:
        session.execute(insert(ProgrammeTranslation), translations)
    # The relationships loaded before this change are out of date now.
    session.expire(programme, ["terms", "translations"])
    search_index.mark(session, "programme", programme.id)
    session.flush()


def _tell_submitter(
    session: Session,
    programme: Programme,
    version: ProgrammeVersion,
    decision: str,
    comment: str,
) -> None:
    if version.submitted_by_id is None:
        return
    submitter = session.get(Member, version.submitted_by_id)
    if submitter is None or submitter.status in ("erased", "suspended"):
        return
    outbox.enqueue(
        session,
        to=submitter.email,
        template="programme_decision",
        context={
            "name": submitter.full_name,
            "title": programme.title,
            "decision": decision,
            "comment": comment,
            "link": f"{get_settings().base_url}/programmes/{programme.id}",
        },
        language_code=get_settings().default_language,
    )
