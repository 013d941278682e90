"""Programme ratings stored with their history: recomputed, overridden, reviewed.

The rules are in app.evidence.rating (pure); this module feeds them the published
evidence of a programme and keeps every change as a new ``programme_rating`` row, the
newest being the current rating. ``programme.rating_level`` mirrors the current level so
lists sort and filter by it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.evidence import rating as rules
from app.evidence.models import Evaluation, ProgrammeRating, evaluation_programme
from app.kit.errors import NotFound, PortalError
from app.kit.i18n import N_, _
from app.members.models import Member
from app.programmes.models import Programme


class InvalidOverride(PortalError):
    status_code = 422
    title = N_("Some fields need your attention")

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(_("Some fields need your attention."))
        self.errors = errors


def current(session: Session, programme_id: int) -> ProgrammeRating | None:
    """The newest rating row of a programme (None before its first evaluation)."""
    return session.scalar(
        select(ProgrammeRating)
        .where(ProgrammeRating.programme_id == programme_id)
        .order_by(ProgrammeRating.id.desc())
        .limit(1)
    )


def history(session: Session, programme_id: int) -> list[ProgrammeRating]:
    return list(
        session.scalars(
            select(ProgrammeRating)
            .where(ProgrammeRating.programme_id == programme_id)
            .order_by(ProgrammeRating.id.desc())
        )
    )


def evidence_of(session: Session, programme_id: int) -> list[Evaluation]:
    """The published evaluations of a programme, with their outcomes, newest first."""
    return list(
        session.scalars(
            select(Evaluation)
            .join(evaluation_programme, evaluation_programme.c.evaluation_id == Evaluation.id)
            .where(
                evaluation_programme.c.programme_id == programme_id,
                Evaluation.status == "published",
            )
            .options(selectinload(Evaluation.outcomes))
            .order_by(Evaluation.year.desc(), Evaluation.id.desc())
        )
    )


def compute(programme: Programme, evaluations: Iterable[Evaluation]) -> rules.Rating:
    """The rating the rules give this evidence (nothing is stored)."""
    studies = [
        rules.StudyInput(
            evaluation_id=evaluation.id,
            title=evaluation.title,
            year=evaluation.year,
            design=evaluation.design,
            risk_of_bias=evaluation.risk_of_bias,
            follow_up_months=evaluation.follow_up_months,
            outcomes=[
                rules.OutcomeInput(
                    name=outcome.name,
                    kind=outcome.kind,
                    measure=outcome.measure,
                    estimate=outcome.estimate,
                    ci_low=outcome.ci_low,
                    ci_high=outcome.ci_high,
                    lower_is_better=outcome.lower_is_better,
                )
                for outcome in evaluation.outcomes
            ],
        )
        for evaluation in evaluations
    ]
    return rules.rate(
        rules.ProgrammeInput(manual_available=programme.manual_available, studies=studies)
    )


def _stored(result: rules.Rating) -> dict[str, Any]:
    return {
        "computed_level": result.level,
        "rule": result.rule,
        "reasons": [reason.to_dict() for reason in result.reasons],
        "raise_by": list(result.raise_by),
        "evaluation_ids": list(result.evaluation_ids),
    }


def recompute(
    session: Session, programme_id: int, *, today: date | None = None
) -> ProgrammeRating | None:
    """Rate the programme's published evidence again; store a new row if anything changed.

    An override stays in force (its level is kept) while the computed part is updated, so
    the coordinator sees that the evidence moved.
    """
    programme = session.get(Programme, programme_id)
    if programme is None:
        return None
    result = compute(programme, evidence_of(session, programme_id))
    latest = current(session, programme_id)
    if latest is None and result.level == "not_rated":
        programme.rating_level = "not_rated"
        return None
    stored = _stored(result)
    if latest is not None and all(getattr(latest, key) == value for key, value in stored.items()):
        return latest
    overridden = latest is not None and latest.overridden
    row = ProgrammeRating(
        programme_id=programme_id,
        level=latest.level if overridden and latest is not None else result.level,
        overridden=overridden,
        override_justification=latest.override_justification if overridden and latest else None,
        changed_by_id=None,
        reviewed_on=today or date.today(),
        **stored,
    )
    session.add(row)
    programme.rating_level = row.level
    session.flush()
    return row


def recompute_many(session: Session, programme_ids: Iterable[int]) -> None:
    for programme_id in sorted(set(programme_ids)):
        recompute(session, programme_id)


def override(
    session: Session,
    actor: Member,
    programme_id: int,
    level: str,
    justification: str,
    *,
    today: date | None = None,
) -> ProgrammeRating:
    """A coordinator sets the level, with a written justification shown beside it."""
    justification = justification.strip()
    errors: dict[str, str] = {}
    if level not in rules.LEVEL_LABELS:
        errors["level"] = _("Choose a rating.")
    if not justification:
        errors["justification"] = _("Explain why the rating differs from the rules' result.")
    if errors:
        raise InvalidOverride(errors)
    programme = session.get(Programme, programme_id)
    if programme is None:
        raise NotFound()
    result = compute(programme, evidence_of(session, programme_id))
    row = ProgrammeRating(
        programme_id=programme_id,
        level=level,
        overridden=True,
        override_justification=justification,
        changed_by_id=actor.id,
        reviewed_on=today or date.today(),
        **_stored(result),
    )
    session.add(row)
    programme.rating_level = level
    _audit(session, actor, programme, "rating.override", level, justification)
    session.flush()
    return row


def clear_override(
    session: Session, actor: Member, programme_id: int, *, today: date | None = None
) -> ProgrammeRating:
    """Go back to the rules' result."""
    programme = session.get(Programme, programme_id)
    if programme is None:
        raise NotFound()
    result = compute(programme, evidence_of(session, programme_id))
    row = ProgrammeRating(
        programme_id=programme_id,
        level=result.level,
        overridden=False,
        changed_by_id=actor.id,
        reviewed_on=today or date.today(),
        **_stored(result),
    )
    session.add(row)
    programme.rating_level = result.level
    _audit(session, actor, programme, "rating.clear_override", result.level, None)
    session.flush()
    return row


def confirm(
    session: Session, actor: Member, programme_id: int, *, today: date | None = None
) -> ProgrammeRating:
    """A coordinator has looked at the rating again: it counts as reviewed today."""
    latest = current(session, programme_id)
    programme = session.get(Programme, programme_id)
    if latest is None or programme is None:
        raise NotFound(_("This programme has no rating to review yet."))
    row = ProgrammeRating(
        programme_id=programme_id,
        level=latest.level,
        computed_level=latest.computed_level,
        rule=latest.rule,
        reasons=latest.reasons,
        raise_by=latest.raise_by,
        evaluation_ids=latest.evaluation_ids,
        overridden=latest.overridden,
        override_justification=latest.override_justification,
        changed_by_id=actor.id,
        reviewed_on=today or date.today(),
    )
    session.add(row)
    _audit(session, actor, programme, "rating.confirm", latest.level, None)
    session.flush()
    return row


def due_for_review(session: Session, today: date | None = None) -> list[ProgrammeRating]:
    """Current ratings last reviewed more than three years ago, oldest first."""
    today = today or date.today()
    newest = (
        select(func.max(ProgrammeRating.id))
        .group_by(ProgrammeRating.programme_id)
        .scalar_subquery()
    )
    return list(
        session.scalars(
            select(ProgrammeRating)
            .where(
                ProgrammeRating.id.in_(newest),
                ProgrammeRating.reviewed_on < rules.rereview_cutoff(today),
            )
            .order_by(ProgrammeRating.reviewed_on, ProgrammeRating.id)
        )
    )


def _audit(
    session: Session,
    actor: Member,
    programme: Programme,
    action: str,
    level: str,
    reason: str | None,
) -> None:
    from app.audit import service as audit_service

    audit_service.record(
        session,
        actor=actor,
        action=action,
        subject_type="programme",
        subject_id=programme.id,
        subject_label=programme.title,
        after={"rating": level},
        reason=reason,
    )
