"""Dependencies that load an evaluation and decide, once, what the viewer may do with it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.auth.deps import DbSession, Viewer
from app.evidence import permissions, service
from app.evidence.models import Evaluation, EvaluationVersion
from app.kit.errors import NotFound
from app.kit.i18n import _
from app.members import permissions as member_permissions
from app.members.models import Member
from app.programmes.models import Programme, ProgrammeTerm


@dataclass
class EvaluationContext:
    """An evaluation as one viewer sees it, with the answers of the permission rules."""

    evaluation: Evaluation
    viewer: Member | None
    working: EvaluationVersion | None
    # The study's country and the countries of the programmes it evaluates: who reviews it.
    countries: set[str]
    can_edit: bool
    can_review: bool
    can_unpublish: bool

    @property
    def is_author(self) -> bool:
        return permissions.is_author(self.viewer, self.evaluation)


def load_context(session: Session, viewer: Member | None, evaluation_id: int) -> EvaluationContext:
    """The evaluation if ``viewer`` may see it; otherwise NotFound (nothing is revealed)."""
    evaluation = session.scalar(
        select(Evaluation)
        .where(Evaluation.id == evaluation_id)
        .options(selectinload(Evaluation.outcomes))
    )
    if evaluation is None:
        raise NotFound(_("There is no such evaluation, or it is not visible to you."))
    if viewer is not None and member_permissions.is_coordinator(viewer):
        session.refresh(viewer, ["coordinator_countries"])
    working = service.working_version(session, evaluation.id)
    programme_ids = set(service.programme_ids(session, evaluation.id))
    if working is not None:
        programme_ids.update(working.data.get("programme_ids") or [])
    countries: set[str] = {evaluation.country} if evaluation.country else set()
    if programme_ids:
        countries.update(
            session.scalars(
                select(ProgrammeTerm.code).where(
                    ProgrammeTerm.programme_id.in_(sorted(programme_ids)),
                    ProgrammeTerm.field == "countries",
                )
            )
        )
    if not permissions.can_view(viewer, evaluation, countries):
        raise NotFound(_("There is no such evaluation, or it is not visible to you."))
    return EvaluationContext(
        evaluation=evaluation,
        viewer=viewer,
        working=working,
        countries=countries,
        can_edit=permissions.can_edit(viewer, evaluation, countries),
        can_review=permissions.can_review(viewer, countries),
        can_unpublish=permissions.can_unpublish(viewer, countries),
    )


def viewable_evaluation(
    evaluation_id: int, session: DbSession, viewer: Viewer
) -> EvaluationContext:
    return load_context(session, viewer, evaluation_id)


ViewableEvaluation = Annotated[EvaluationContext, Depends(viewable_evaluation)]


def programme_countries(session: Session, programme: Programme) -> set[str]:
    return set(
        session.scalars(
            select(ProgrammeTerm.code).where(
                ProgrammeTerm.programme_id == programme.id, ProgrammeTerm.field == "countries"
            )
        )
    )
