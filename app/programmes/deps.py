"""Dependencies that load a programme and decide, once, what the viewer may do with it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from app.auth.deps import DbSession, Viewer
from app.kit.errors import NotFound, PermissionDenied
from app.kit.i18n import _
from app.members import permissions as member_permissions
from app.members.models import Member
from app.programmes import permissions, repository, service
from app.programmes.models import Programme, ProgrammeVersion


@dataclass
class ProgrammeContext:
    """A programme as one viewer sees it, with the answers of the permission rules."""

    programme: Programme
    viewer: Member | None
    maintainer_ids: set[int]
    working: ProgrammeVersion | None
    # Countries of the listed content and of the working version: who reviews it.
    countries: set[str]
    can_edit: bool
    can_review: bool
    can_see_workflow: bool
    can_report: bool

    @property
    def is_maintainer(self) -> bool:
        return permissions.is_maintainer(self.viewer, self.maintainer_ids)


def load_context(session: Session, viewer: Member | None, programme_id: int) -> ProgrammeContext:
    """The programme if ``viewer`` may see it; otherwise NotFound (nothing is revealed)."""
    programme = repository.load(session, programme_id)
    if programme is None:
        raise NotFound(_("There is no such programme, or it is not visible to you."))
    if viewer is not None and member_permissions.is_coordinator(viewer):
        session.refresh(viewer, ["coordinator_countries"])
    maintainers = {maintainer.member_id for maintainer in programme.maintainers}
    working = service.working_version(session, programme.id)
    countries = set(programme.codes("countries"))
    if working is not None:
        countries.update(working.data.get("countries") or [])
    if not permissions.can_view(viewer, programme, maintainers, countries):
        raise NotFound(_("There is no such programme, or it is not visible to you."))
    can_edit = permissions.can_edit(viewer, maintainers, countries)
    return ProgrammeContext(
        programme=programme,
        viewer=viewer,
        maintainer_ids=maintainers,
        working=working,
        countries=countries,
        can_edit=can_edit,
        can_review=permissions.can_review(viewer, countries),
        can_see_workflow=permissions.can_see_workflow(viewer, maintainers, countries),
        can_report=permissions.can_report(viewer, programme),
    )


def viewable_programme(programme_id: int, session: DbSession, viewer: Viewer) -> ProgrammeContext:
    return load_context(session, viewer, programme_id)


ViewableProgramme = Annotated[ProgrammeContext, Depends(viewable_programme)]


def require_edit(context: ProgrammeContext) -> ProgrammeContext:
    if not context.can_edit:
        raise PermissionDenied()
    return context


def require_review(context: ProgrammeContext) -> ProgrammeContext:
    if not context.can_review:
        raise PermissionDenied()
    return context
