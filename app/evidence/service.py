"""The rules of publishing evaluations: drafts, direct publication, review, unpublishing.

Researchers (and coordinators) publish their evaluations directly; other members submit
them, and a coordinator approves or rejects. Every published version is kept. Whenever
the listed evidence of a programme changes, its rating is recomputed in the same
transaction (app.evidence.ratings).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.config import get_settings
from app.db import utcnow
from app.evidence import content, permissions, ratings
from app.evidence.models import Evaluation, EvaluationVersion, Outcome, evaluation_programme
from app.kit.errors import PortalError
from app.kit.i18n import N_, _
from app.members.models import Member
from app.outbox import service as outbox
from app.search import index as search_index

WORKING_STATES = ("draft", "submitted")


class InvalidEvaluation(PortalError):
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
    status_code = 409
    title = N_("Someone else saved this evaluation meanwhile")

    def __init__(self, version: EvaluationVersion, token: str) -> None:
        super().__init__(
            _(
                "Someone else saved this evaluation after you opened it. Your input is still "
                "in the form; check the saved version, then save again."
            )
        )
        self.version = version
        self.token = token


def version_token(version: EvaluationVersion) -> str:
    return f"{version.id}.{version.revision}"


def working_version(session: Session, evaluation_id: int) -> EvaluationVersion | None:
    return session.scalar(
        select(EvaluationVersion)
        .where(
            EvaluationVersion.evaluation_id == evaluation_id,
            EvaluationVersion.state.in_(WORKING_STATES),
        )
        .order_by(EvaluationVersion.number.desc())
        .limit(1)
    )


def published_version(session: Session, evaluation: Evaluation) -> EvaluationVersion | None:
    if evaluation.published_version_id is None:
        return None
    return session.get(EvaluationVersion, evaluation.published_version_id)


def editable_base(session: Session, evaluation: Evaluation) -> EvaluationVersion:
    """The version an edit starts from: the working one, else the published (or last) one."""
    working = working_version(session, evaluation.id)
    if working is not None:
        return working
    published = published_version(session, evaluation)
    if published is not None:
        return published
    last = session.scalar(
        select(EvaluationVersion)
        .where(EvaluationVersion.evaluation_id == evaluation.id)
        .order_by(EvaluationVersion.number.desc())
        .limit(1)
    )
    if last is None:
        raise WrongState(_("This evaluation has no version to edit."))
    return last


def create(
    session: Session, actor: Member, raw: Mapping[str, Any], *, publish: bool = True
) -> Evaluation:
    """A new evaluation: published at once by researchers, submitted by others.

    With ``publish`` false it stays a draft.
    """
    values, errors = content.validate(session, raw)
    if errors:
        raise InvalidEvaluation(errors, values)
    evaluation = Evaluation(
        status="draft",
        created_by_id=actor.id,
        **_columns(values),
    )
    session.add(evaluation)
    session.flush()
    version = EvaluationVersion(
        evaluation_id=evaluation.id, number=1, state="draft", data=values, created_by_id=actor.id
    )
    session.add(version)
    session.flush()
    if publish:
        _send(session, actor, evaluation, version)
    return evaluation


def save(
    session: Session,
    actor: Member,
    evaluation: Evaluation,
    raw: Mapping[str, Any],
    token: str,
    *,
    publish: bool = True,
) -> EvaluationVersion:
    """Save an edit made from the version ``token`` names; publish or submit it if asked.

    A published evaluation keeps its listed version until the edit is published (at once
    for researchers and coordinators, after review for others).
    """
    base = editable_base(session, evaluation)
    values, errors = content.validate(session, raw, current=base.data)
    if token != version_token(base):
        raise StaleEdit(base, version_token(base))
    if errors:
        raise InvalidEvaluation(errors, values)
    if base.state in WORKING_STATES:
        changed = session.execute(
            update(EvaluationVersion)
            .where(EvaluationVersion.id == base.id, EvaluationVersion.revision == base.revision)
            .values(data=values, revision=base.revision + 1, state="draft", updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            session.refresh(base)
            raise StaleEdit(base, version_token(base))
        session.refresh(base)
        version = base
    else:
        number = (
            session.scalar(
                select(func.max(EvaluationVersion.number)).where(
                    EvaluationVersion.evaluation_id == evaluation.id
                )
            )
            or 0
        ) + 1
        version = EvaluationVersion(
            evaluation_id=evaluation.id,
            number=number,
            state="draft",
            data=values,
            created_by_id=actor.id,
        )
        session.add(version)
        session.flush()
    if evaluation.status in ("draft", "rejected"):
        for name, value in _columns(values).items():
            setattr(evaluation, name, value)
    if publish:
        _send(session, actor, evaluation, version)
    return version


def _send(
    session: Session, actor: Member, evaluation: Evaluation, version: EvaluationVersion
) -> None:
    """Publish the version, or submit it for review when the actor may not publish."""
    if permissions.publishes_directly(actor):
        _publish(session, actor, evaluation, version, comment=None)
        return
    version.state = "submitted"
    version.submitted_at = utcnow()
    if evaluation.status in ("draft", "rejected"):
        evaluation.status = "submitted"
    session.flush()


def review(
    session: Session, actor: Member, evaluation: Evaluation, decision: str, comment: str
) -> EvaluationVersion:
    """A coordinator approves (publishes) or rejects a submitted version."""
    comment = comment.strip()
    if decision not in ("approve", "reject"):
        raise InvalidEvaluation({"decision": _("Choose a decision.")}, {"comment": comment})
    if decision == "reject" and not comment:
        raise InvalidEvaluation(
            {"comment": _("Tell the author why the evaluation is not published.")},
            {"comment": comment, "decision": decision},
        )
    version = working_version(session, evaluation.id)
    if version is None or version.state != "submitted":
        raise WrongState(_("Nothing is waiting for review on this evaluation."))
    if decision == "approve":
        _publish(session, actor, evaluation, version, comment=comment or None)
    else:
        changed = session.execute(
            update(EvaluationVersion)
            .where(EvaluationVersion.id == version.id, EvaluationVersion.state == "submitted")
            .values(
                state="rejected",
                decided_at=utcnow(),
                decided_by_id=actor.id,
                decision_comment=comment,
            )
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            raise WrongState(_("Another coordinator decided on this version a moment ago."))
        session.refresh(version)
        if evaluation.status == "submitted":
            evaluation.status = "rejected"
    audit_service.record(
        session,
        actor=actor,
        action=f"evaluation.{decision}",
        subject_type="evaluation",
        subject_id=evaluation.id,
        subject_label=evaluation.title,
        after={"version": version.number},
        reason=comment or None,
    )
    _tell_author(session, evaluation, decision, comment)
    session.flush()
    return version


def _publish(
    session: Session,
    actor: Member,
    evaluation: Evaluation,
    version: EvaluationVersion,
    *,
    comment: str | None,
) -> None:
    now = utcnow()
    before = (
        set(programme_ids(session, evaluation.id)) if evaluation.status == "published" else set()
    )
    changed = session.execute(
        update(EvaluationVersion)
        .where(
            EvaluationVersion.id == version.id,
            EvaluationVersion.state.in_(WORKING_STATES),
        )
        .values(
            state="published",
            published_at=now,
            decided_at=now,
            decided_by_id=actor.id,
            decision_comment=comment,
        )
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise WrongState(_("Another coordinator decided on this version a moment ago."))
    session.refresh(version)
    previous = published_version(session, evaluation)
    if previous is not None and previous.id != version.id:
        previous.state = "superseded"
    evaluation.published_version_id = version.id
    evaluation.status = "published"
    evaluation.unpublished_at = None
    evaluation.unpublish_reason = None
    if evaluation.published_at is None:
        evaluation.published_at = now
    _mirror(session, evaluation, version.data)
    affected = before | set(version.data.get("programme_ids") or [])
    ratings.recompute_many(session, affected)


def unpublish(session: Session, actor: Member, evaluation: Evaluation, reason: str) -> None:
    """A coordinator takes an evaluation out of the evidence, saying why."""
    reason = reason.strip()
    if not reason:
        raise InvalidEvaluation({"reason": _("Say why the evaluation is unpublished.")}, {})
    if evaluation.status != "published":
        raise WrongState(_("Only a published evaluation can be unpublished."))
    evaluation.status = "unpublished"
    evaluation.unpublished_at = utcnow()
    evaluation.unpublish_reason = reason
    audit_service.record(
        session,
        actor=actor,
        action="evaluation.unpublish",
        subject_type="evaluation",
        subject_id=evaluation.id,
        subject_label=evaluation.title,
        reason=reason,
    )
    session.flush()
    ratings.recompute_many(session, programme_ids(session, evaluation.id))


def republish(session: Session, actor: Member, evaluation: Evaluation) -> None:
    """Bring an unpublished evaluation back into the evidence."""
    if evaluation.status != "unpublished":
        raise WrongState(_("This evaluation is not unpublished."))
    evaluation.status = "published"
    evaluation.unpublished_at = None
    evaluation.unpublish_reason = None
    audit_service.record(
        session,
        actor=actor,
        action="evaluation.republish",
        subject_type="evaluation",
        subject_id=evaluation.id,
        subject_label=evaluation.title,
    )
    session.flush()
    ratings.recompute_many(session, programme_ids(session, evaluation.id))


def programme_ids(session: Session, evaluation_id: int) -> list[int]:
    return list(
        session.scalars(
            select(evaluation_programme.c.programme_id).where(
                evaluation_programme.c.evaluation_id == evaluation_id
            )
        )
    )


def _columns(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "title": values["title"],
        "authors": list(values.get("authors") or []),
        "year": values.get("year") or 0,
        "venue": values.get("venue"),
        "doi": values.get("doi"),
        "url": values.get("url"),
        "abstract": values.get("abstract") or "",
        "design": values.get("design") or "other",
        "country": values.get("country"),
        "sample_size": values.get("sample_size"),
        "follow_up_months": values.get("follow_up_months"),
        "risk_of_bias": values.get("risk_of_bias") or "not_assessed",
        "visibility": values.get("visibility") or "public",
    }


def _mirror(session: Session, evaluation: Evaluation, values: Mapping[str, Any]) -> None:
    """Copy the published content into the evaluation row, its outcomes and programme links."""
    for name, value in _columns(values).items():
        setattr(evaluation, name, value)
    session.execute(
        delete(Outcome)
        .where(Outcome.evaluation_id == evaluation.id)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(evaluation_programme).where(evaluation_programme.c.evaluation_id == evaluation.id)
    )
    rows = [
        {
            "evaluation_id": evaluation.id,
            "position": position,
            "name": outcome["name"],
            "kind": outcome["kind"],
            "measure": outcome["measure"],
            "estimate": outcome["estimate"],
            "ci_low": outcome["ci_low"],
            "ci_high": outcome["ci_high"],
            "n_treatment": outcome.get("n_treatment"),
            "n_control": outcome.get("n_control"),
            "lower_is_better": bool(outcome.get("lower_is_better")),
            "input_kind": outcome.get("input_kind") or "effect",
            "inputs": {
                key: outcome.get(key)
                for key in ("mean_t", "sd_t", "mean_c", "sd_c", "events_t", "events_c")
                if outcome.get(key) is not None
            },
            "computation": None,
        }
        for position, outcome in enumerate(values.get("outcomes") or [])
    ]
    for row, outcome in zip(rows, values.get("outcomes") or [], strict=True):
        if outcome.get("computation"):
            row["inputs"]["computation"] = outcome["computation"]
    if rows:
        session.execute(insert(Outcome), rows)
    links = [
        {"evaluation_id": evaluation.id, "programme_id": programme_id}
        for programme_id in values.get("programme_ids") or []
    ]
    if links:
        session.execute(insert(evaluation_programme), links)
    session.expire(evaluation, ["outcomes"])
    search_index.mark(session, "evaluation", evaluation.id)
    session.flush()


def _tell_author(session: Session, evaluation: Evaluation, decision: str, comment: str) -> None:
    if evaluation.created_by_id is None:
        return
    author = session.get(Member, evaluation.created_by_id)
    if author is None or author.status in ("erased", "suspended"):
        return
    outbox.enqueue(
        session,
        to=author.email,
        template="evaluation_decision",
        context={
            "name": author.full_name,
            "title": evaluation.title,
            "decision": decision,
            "comment": comment,
            "link": f"{get_settings().base_url}/evaluations/{evaluation.id}",
        },
        language_code=get_settings().default_language,
    )
