"""The evidence pages: the list of evaluations, an evaluation, its form and its workflow.

The form is a real form first: outcome rows are added and removed with submit buttons
(``action=add_outcome`` / ``action=remove_outcome_<i>``) that re-render it without saving;
htmx only makes the same buttons swap the outcome rows in place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from app.auth.deps import ActiveMember, Coordinator, DbSession, Viewer, load_viewer
from app.evidence import content, effects, permissions, repository, service
from app.evidence.deps import EvaluationContext, ViewableEvaluation, load_context
from app.evidence.models import Evaluation, EvaluationVersion
from app.kit import pagination
from app.kit.errors import NotFound, PermissionDenied
from app.kit.i18n import N_, _
from app.kit.ids import parse_id
from app.members import permissions as member_permissions
from app.members.models import Member
from app.members.profile_service import display_name
from app.programmes import repository as programme_repository
from app.programmes.models import Programme
from app.vocabularies import service as vocabularies
from app.web import PostedForm, flash, form_text, redirect, render, wants_fragment

router = APIRouter(dependencies=[Depends(load_viewer)])

PER_PAGE = 20
# Rows beyond this many are ignored (content.validate refuses more than OUTCOMES_MAX).
MAX_OUTCOME_ROWS = content.OUTCOMES_MAX + 1
OUTCOME_INPUT = re.compile(r"^outcomes-(\d{1,3})-([a-z_]+)$")
REMOVE_ACTION = re.compile(r"^remove_outcome_(\d{1,3})$")
# Scalar fields of the form, posted as one value each.
TEXT_FIELDS = tuple(
    name for name in content.FIELDS if name not in ("programme_ids", "authors", "outcomes")
)
# The fields a row has to have something typed in to count (the selects' defaults do not).
TYPED_OUTCOME_FIELDS = tuple(
    name
    for name in content.OUTCOME_FIELDS
    if name not in ("kind", "measure", "lower_is_better", "input_kind")
)

SORT_LABELS = {
    "newest": N_("Newest first"),
    "oldest": N_("Oldest first"),
    "title": N_("Title (A to Z)"),
}
STATUS_BADGES: dict[str, tuple[str, str]] = {
    "draft": (N_("Draft"), "neutral"),
    "submitted": (N_("Waiting for review"), "accent"),
    "published": (N_("Published"), "success"),
    "unpublished": (N_("Unpublished"), "warning"),
    "rejected": (N_("Not accepted"), "danger"),
    "superseded": (N_("Published earlier"), "neutral"),
    "withdrawn": (N_("Discarded"), "neutral"),
}
RISK_OF_BIAS_BADGES = {
    "low": "success",
    "some_concerns": "warning",
    "high": "danger",
    "not_assessed": "neutral",
}
DIRECTION_LABELS = {
    "favourable": N_("Favourable"),
    "harmful": N_("Harmful"),
    "unclear": N_("Unclear"),
}
DIRECTION_BADGES = {"favourable": "success", "harmful": "danger", "unclear": "neutral"}
DECISION_LABELS = {
    "approve": N_("Approve and publish"),
    "reject": N_("Reject"),
}
# What the form calls each outcome field (more precisely than content's labels).
OUTCOME_GROUPS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "effect",
        N_("Effect size"),
        N_("When you enter an effect size: the estimate and its 95% confidence interval."),
        ("estimate", "ci_low", "ci_high"),
    ),
    (
        "sizes",
        N_("Group sizes"),
        N_("Needed for means and SDs and for events; optional with an effect size."),
        ("n_treatment", "n_control"),
    ),
    (
        "continuous",
        N_("Means and standard deviations"),
        N_("The portal computes Hedges' g and its confidence interval from these."),
        ("mean_t", "sd_t", "mean_c", "sd_c"),
    ),
    (
        "binary",
        N_("Events"),
        N_("The portal computes the odds or risk ratio and its confidence interval from these."),
        ("events_t", "events_c"),
    ),
)


def _groups() -> list[tuple[str, str, str, tuple[str, ...]]]:
    return [(code, _(title), _(hint), fields) for code, title, hint, fields in OUTCOME_GROUPS]


def _translated(labels: Mapping[str, str]) -> list[tuple[str, str]]:
    return [(code, _(text)) for code, text in labels.items()]


def _labels() -> dict[str, dict[str, str]]:
    """Every code label the evidence templates show, in the reader's language."""
    return {
        "design": dict(_translated(content.DESIGN_LABELS)),
        "risk_of_bias": dict(_translated(content.RISK_OF_BIAS_LABELS)),
        "kind": dict(_translated(content.OUTCOME_KIND_LABELS)),
        "measure": dict(_translated(content.MEASURE_LABELS)),
        "input_kind": dict(_translated(content.INPUT_KIND_LABELS)),
        "visibility": {"public": _("Everyone"), "members": _("Members only")},
        "direction": dict(_translated(DIRECTION_LABELS)),
        "field": dict(_translated(content.FIELD_LABELS)),
        "outcome_field": dict(_translated(content.OUTCOME_FIELD_LABELS)),
    }


def _multi_params(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


def _href(path: str, pairs: Iterable[tuple[str, str]]) -> str:
    query = urlencode(list(pairs))
    return path + ("?" + query if query else "")


# --- the list ------------------------------------------------------------------------------


def _programme_choices(session: Session, viewer: Member | None) -> list[tuple[int, str]]:
    """The programmes a reader may filter by: the listed ones, by title (one query)."""
    rows = session.execute(
        select(Programme.id, Programme.title)
        .where(programme_repository.listed_condition(viewer))
        .order_by(func.lower(Programme.title), Programme.id)
    )
    return [(row.id, row.title) for row in rows]


@router.get("/evaluations", name="evaluations")
def evidence_list(request: Request, session: DbSession, viewer: Viewer) -> Response:
    """The evaluations, filtered, sorted and paged; htmx asks for the results block only."""
    params = _multi_params(request)
    query = repository.EvidenceQuery.from_params(params)
    page_values = params.get("page") or [""]
    results = repository.list_evaluations(
        session, viewer, query, pagination.page_number(page_values[0]), PER_PAGE
    )
    pairs = query.to_params()
    terms = vocabularies.snapshot(session)
    export_query = urlencode(pairs)
    context = {
        "query": query,
        "results": results,
        "programmes": repository.programmes_of(
            session, viewer, [evaluation.id for evaluation in results.items]
        ),
        "terms": terms,
        "labels": _labels(),
        "rob_badges": RISK_OF_BIAS_BADGES,
        "country_choices": terms.choices("countries", keep=query.country),
        "programme_choices": _programme_choices(session, viewer),
        "sort_choices": _translated(SORT_LABELS),
        "page_link": lambda number: _href("/evaluations", [*pairs, ("page", str(number))]),
        "exports": [
            (
                label,
                f"/evaluations/export.{extension}" + ("?" + export_query if export_query else ""),
            )
            for extension, label in (("bib", "BibTeX"), ("ris", "RIS"), ("json", "CSL-JSON"))
        ],
        "can_create": permissions.can_create(viewer),
        "is_fragment": wants_fragment(request),
    }
    return render(request, "evidence/list.html", context, block="results")


# --- the evaluation page ---------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeView:
    """One outcome as the page shows it."""

    name: str
    kind: str
    measure: str
    estimate: str
    ci_low: str
    ci_high: str
    n_treatment: int | None
    n_control: int | None
    lower_is_better: bool
    input_kind: str
    direction: str
    # How the effect was computed from group statistics (None: entered as an effect).
    computation: str | None


@dataclass(frozen=True)
class EvaluationView:
    """The content of one version (or the listed content) of an evaluation."""

    values: dict[str, Any]
    outcomes: list[OutcomeView]
    programmes: list[Programme]
    version: EvaluationVersion | None


def _outcome_view(outcome: Mapping[str, Any]) -> OutcomeView | None:
    try:
        estimate = float(outcome["estimate"])
        ci_low = float(outcome["ci_low"])
        ci_high = float(outcome["ci_high"])
    except (KeyError, TypeError, ValueError):
        return None
    measure = str(outcome.get("measure") or "smd")
    lower_is_better = bool(outcome.get("lower_is_better"))
    record = outcome.get("computation")
    return OutcomeView(
        name=str(outcome.get("name") or ""),
        kind=str(outcome.get("kind") or "other"),
        measure=measure,
        estimate=effects.format_value(estimate),
        ci_low=effects.format_value(ci_low),
        ci_high=effects.format_value(ci_high),
        n_treatment=outcome.get("n_treatment"),
        n_control=outcome.get("n_control"),
        lower_is_better=lower_is_better,
        input_kind=str(outcome.get("input_kind") or "effect"),
        direction=effects.direction(measure, ci_low, ci_high, lower_is_better),
        computation=effects.render_computation(record) if isinstance(record, Mapping) else None,
    )


def _listed_values(evaluation: Evaluation) -> dict[str, Any]:
    """The listed content of the evaluation row, in the shape of a version's data.

    Needs ``outcomes`` loaded. The group statistics and the computation live in ``inputs``.
    """
    values: dict[str, Any] = {
        name: getattr(evaluation, name)
        for name in content.FIELDS
        if name not in ("programme_ids", "outcomes")
    }
    values["outcomes"] = [
        {
            "name": outcome.name,
            "kind": outcome.kind,
            "measure": outcome.measure,
            "estimate": outcome.estimate,
            "ci_low": outcome.ci_low,
            "ci_high": outcome.ci_high,
            "n_treatment": outcome.n_treatment,
            "n_control": outcome.n_control,
            "lower_is_better": outcome.lower_is_better,
            "input_kind": outcome.input_kind,
            **(outcome.inputs or {}),
        }
        for outcome in evaluation.outcomes
    ]
    return values


def _view(
    session: Session,
    viewer: Member | None,
    values: Mapping[str, Any],
    programmes: list[Programme] | None,
    version: EvaluationVersion | None,
) -> EvaluationView:
    if programmes is None:
        ids = [item for item in values.get("programme_ids") or [] if isinstance(item, int)]
        programmes = repository.programmes_by_id(session, viewer, ids)
    outcomes = [
        view
        for view in (
            _outcome_view(outcome)
            for outcome in values.get("outcomes") or []
            if isinstance(outcome, Mapping)
        )
        if view is not None
    ]
    return EvaluationView(
        values=dict(values), outcomes=outcomes, programmes=programmes, version=version
    )


def _shown(
    session: Session,
    ctx: EvaluationContext,
    versions: Sequence[EvaluationVersion],
    number: int | None,
) -> EvaluationView:
    """What the page shows: the version asked for, else the listed content, else the latest."""
    evaluation = ctx.evaluation
    if number is not None:
        version = next((item for item in versions if item.number == number), None)
        if version is None:
            raise NotFound(_("There is no such version of this evaluation."))
        return _view(session, ctx.viewer, version.data, None, version)
    if evaluation.published_version_id is not None:
        programmes = repository.programmes_of(session, ctx.viewer, [evaluation.id])[evaluation.id]
        return _view(session, ctx.viewer, _listed_values(evaluation), programmes, None)
    latest = ctx.working or (versions[0] if versions else None)
    return _view(session, ctx.viewer, latest.data if latest else {}, None, latest)


def _evaluation_page(
    request: Request,
    session: Session,
    ctx: EvaluationContext,
    *,
    version_number: int | None = None,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    evaluation = ctx.evaluation
    versions = repository.versions(session, evaluation.id, all_states=ctx.can_edit)
    shown = _shown(session, ctx, versions, version_number)
    rejected = next((item for item in versions if item.state == "rejected"), None)
    working = ctx.working
    context = {
        "ctx": ctx,
        "evaluation": evaluation,
        "shown": shown,
        "versions": versions,
        "working": working,
        "rejected": rejected if evaluation.status == "rejected" else None,
        "terms": vocabularies.snapshot(session),
        "labels": _labels(),
        "badges": STATUS_BADGES,
        "rob_badges": RISK_OF_BIAS_BADGES,
        "direction_badges": DIRECTION_BADGES,
        "decisions": _translated(DECISION_LABELS),
        "can_decide": ctx.can_review and working is not None and working.state == "submitted",
        "can_unpublish": ctx.can_unpublish and evaluation.status == "published",
        "can_republish": ctx.can_unpublish and evaluation.status == "unpublished",
        "errors": dict(errors or {}),
        "values": dict(values or {}),
        "problem": problem,
    }
    return render(request, "evidence/detail.html", context, status_code=status_code)


@router.get("/evaluations/{evaluation_id:int}", name="evaluation")
def evaluation_page(
    request: Request, session: DbSession, ctx: ViewableEvaluation, version: str = ""
) -> Response:
    """An evaluation: citation, facts, outcomes with their effects, versions and actions."""
    number = None
    if version:
        number = parse_id(version)
        if number is None:
            raise NotFound(_("There is no such version of this evaluation."))
    return _evaluation_page(request, session, ctx, version_number=number)


# --- workflow actions ------------------------------------------------------------------------


def _after(request: Request, evaluation_id: int, message: str, **values: str | int) -> Response:
    flash(request, message, **values)
    return redirect(f"/evaluations/{evaluation_id}")


@router.post("/evaluations/{evaluation_id:int}/review")
def review_evaluation(
    request: Request,
    session: DbSession,
    viewer: ActiveMember,
    form: PostedForm,
    evaluation_id: int,
) -> Response:
    """A coordinator approves (publishes) or rejects the submitted version."""
    ctx = load_context(session, viewer, evaluation_id)
    if not ctx.can_review:
        raise PermissionDenied()
    decision = form_text(form, "decision")
    comment = form_text(form, "comment")
    kept = {"decision": decision, "comment": comment}
    try:
        version = service.review(session, viewer, ctx.evaluation, decision, comment)
    except service.InvalidEvaluation as problem:
        return _evaluation_page(
            request, session, ctx, errors=problem.errors, values=kept, status_code=422
        )
    except service.WrongState as problem:
        return _evaluation_page(
            request, session, ctx, problem=problem.message, values=kept, status_code=409
        )
    if decision == "approve":
        return _after(
            request,
            evaluation_id,
            N_("Approved: version %(number)s is published."),
            number=version.number,
        )
    return _after(request, evaluation_id, N_("Rejected: the author has been told."))


@router.post("/evaluations/{evaluation_id:int}/unpublish")
def unpublish_evaluation(
    request: Request,
    session: DbSession,
    viewer: ActiveMember,
    form: PostedForm,
    evaluation_id: int,
) -> Response:
    """A coordinator takes the evaluation out of the evidence, saying why."""
    ctx = load_context(session, viewer, evaluation_id)
    if not ctx.can_unpublish:
        raise PermissionDenied()
    reason = form_text(form, "reason")
    try:
        service.unpublish(session, viewer, ctx.evaluation, reason)
    except service.InvalidEvaluation as problem:
        return _evaluation_page(
            request, session, ctx, errors=problem.errors, values={"reason": reason}, status_code=422
        )
    except service.WrongState as problem:
        return _evaluation_page(
            request,
            session,
            ctx,
            problem=problem.message,
            values={"reason": reason},
            status_code=409,
        )
    return _after(
        request,
        evaluation_id,
        N_("The evaluation is unpublished: it no longer counts in the ratings."),
    )


@router.post("/evaluations/{evaluation_id:int}/republish")
def republish_evaluation(
    request: Request, session: DbSession, viewer: ActiveMember, evaluation_id: int
) -> Response:
    """Bring an unpublished evaluation back into the evidence."""
    ctx = load_context(session, viewer, evaluation_id)
    if not ctx.can_unpublish:
        raise PermissionDenied()
    try:
        service.republish(session, viewer, ctx.evaluation)
    except service.WrongState as problem:
        return _evaluation_page(request, session, ctx, problem=problem.message, status_code=409)
    return _after(request, evaluation_id, N_("The evaluation is published again."))


# --- the form --------------------------------------------------------------------------------


def empty_row() -> dict[str, Any]:
    row = content.empty_outcome()
    return {name: ("" if value is None else value) for name, value in row.items()}


def _outcome_rows(form: FormData) -> list[dict[str, Any]]:
    """The outcome rows as posted (``outcomes-<i>-<field>``), in the order of their index."""
    rows: dict[int, dict[str, Any]] = {}
    for key in form:
        match = OUTCOME_INPUT.match(key)
        if match is None or match.group(2) not in content.OUTCOME_FIELDS:
            continue
        index = int(match.group(1))
        if index >= MAX_OUTCOME_ROWS:
            continue
        row = rows.setdefault(index, {**dict.fromkeys(content.OUTCOME_FIELDS, "")})
        if match.group(2) == "lower_is_better":
            row["lower_is_better"] = True
        else:
            row[match.group(2)] = form_text(form, key).strip()
    for row in rows.values():
        row["lower_is_better"] = row.get("lower_is_better") is True
    return [rows[index] for index in sorted(rows)]


def _is_blank(row: Mapping[str, Any]) -> bool:
    return all(row.get(name) in (None, "") for name in TYPED_OUTCOME_FIELDS)


def form_content(form: FormData) -> dict[str, Any]:
    """The content as the form sent it, every field present."""
    raw: dict[str, Any] = {name: form_text(form, name) for name in TEXT_FIELDS}
    raw["programme_ids"] = [
        value for value in form.getlist("programme_ids") if isinstance(value, str)
    ]
    raw["authors"] = form_text(form, "authors")
    raw["outcomes"] = _outcome_rows(form)
    return raw


def _form_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Content (from a version or a form) as the form's inputs show it."""
    shown = dict(values)
    authors = values.get("authors")
    shown["authors"] = "\n".join(authors) if isinstance(authors, list) else (authors or "")
    shown["programme_ids"] = [str(item) for item in values.get("programme_ids") or []]
    rows = []
    for outcome in values.get("outcomes") or []:
        if not isinstance(outcome, Mapping):
            continue
        row = empty_row()
        for name in content.OUTCOME_FIELDS:
            value = outcome.get(name)
            if name == "lower_is_better":
                row[name] = bool(value)
            else:
                row[name] = "" if value is None else str(value)
        rows.append(row)
    shown["outcomes"] = rows
    for name in TEXT_FIELDS:
        value = shown.get(name)
        shown[name] = "" if value is None else str(value)
    return shown


def _anchor(name: str) -> str:
    """The input an error of the summary links to."""
    parts = name.split(".")
    if len(parts) == 3 and parts[0] == "outcomes":
        if parts[2] == "input_kind":
            return f"outcomes-{parts[1]}-input_kind-effect"
        return f"outcomes-{parts[1]}-{parts[2]}"
    return {
        "programme_ids": "programme_ids-group",
        "risk_of_bias": "risk_of_bias-low",
        "visibility": "visibility-public",
        "outcomes": "outcomes",
    }.get(name, name)


def _error_summary(errors: Mapping[str, str]) -> list[tuple[str, str]]:
    """(anchor, text) for each error, naming the field and the outcome row."""
    labels = _labels()
    items = []
    for name, message in errors.items():
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "outcomes" and parts[1].isdigit():
            label = _(
                "Outcome %(number)s, %(field)s",
                number=int(parts[1]) + 1,
                field=labels["outcome_field"].get(parts[2], parts[2]),
            )
        else:
            label = labels["field"].get(name, name)
        items.append((_anchor(name), f"{label}: {message}"))
    return items


def _form_page(
    request: Request,
    session: Session,
    viewer: Member,
    *,
    values: Mapping[str, Any],
    ctx: EvaluationContext | None = None,
    token: str = "",
    errors: Mapping[str, str] | None = None,
    stale: service.StaleEdit | None = None,
    kept_country: str | None = None,
    focus: str = "",
    status_code: int = 200,
) -> Response:
    """The create or edit form; ``values`` as the inputs show them (see ``_form_values``)."""
    terms = vocabularies.snapshot(session)
    shown = dict(values)
    if not shown.get("outcomes"):
        shown["outcomes"] = [empty_row()]
    evaluation = ctx.evaluation if ctx is not None else None
    action = f"/evaluations/{evaluation.id}/edit" if evaluation else "/evaluations/new"
    country_keep = [code for code in (kept_country, shown.get("country")) if code]
    context = {
        "ctx": ctx,
        "evaluation": evaluation,
        "values": shown,
        "errors": dict(errors or {}),
        "summary": _error_summary(errors or {}),
        "labels": _labels(),
        "design_choices": _translated(content.DESIGN_LABELS),
        "rob_choices": _translated(content.RISK_OF_BIAS_LABELS),
        "kind_choices": _translated(content.OUTCOME_KIND_LABELS),
        "measure_choices": _translated(content.MEASURE_LABELS),
        "input_kind_choices": _translated(content.INPUT_KIND_LABELS),
        "visibility_choices": [("public", _("Everyone")), ("members", _("Members only"))],
        "country_choices": terms.choices("countries", keep=country_keep),
        "programme_choices": repository.published_programme_choices(session),
        "rows": shown["outcomes"],
        "focus": focus,
        "max_rows": MAX_OUTCOME_ROWS,
        "groups": _groups(),
        "publishes": permissions.publishes_directly(viewer),
        "token": token,
        "stale": stale,
        "action": action,
        "limits": {
            "title": content.TITLE_MAX,
            "venue": content.VENUE_MAX,
            "abstract": content.ABSTRACT_MAX,
            "outcome": content.OUTCOME_NAME_MAX,
            "year_min": content.EARLIEST_YEAR,
        },
    }
    return render(request, "evidence/form.html", context, status_code=status_code)


def _changed_rows(form: FormData, action: str) -> tuple[list[dict[str, Any]], str] | None:
    """The rows after an add or remove button, and where the focus goes; None otherwise."""
    removed = REMOVE_ACTION.match(action)
    if action != "add_outcome" and removed is None:
        return None
    rows = _form_values({"outcomes": _outcome_rows(form)})["outcomes"]
    if removed is not None:
        index = int(removed.group(1))
        if index < len(rows):
            del rows[index]
        return rows or [empty_row()], "add"
    if len(rows) < MAX_OUTCOME_ROWS:
        rows.append(empty_row())
    return rows, f"row:{len(rows) - 1}"


def _row_action(
    request: Request,
    session: Session,
    viewer: Member,
    form: FormData,
    ctx: EvaluationContext | None,
) -> Response | None:
    """Add or remove an outcome row without saving (the buttons without script)."""
    changed = _changed_rows(form, form_text(form, "action"))
    if changed is None:
        return None
    rows, focus = changed
    values = _form_values(form_content(form))
    values["outcomes"] = rows
    return _form_page(
        request,
        session,
        viewer,
        values=values,
        ctx=ctx,
        token=form_text(form, "token"),
        kept_country=ctx.evaluation.country if ctx else None,
        focus=focus,
    )


def _saving(form: FormData) -> tuple[dict[str, Any], bool]:
    """The content to save (blank outcome rows left out) and whether to publish it."""
    raw = form_content(form)
    raw["outcomes"] = [row for row in raw["outcomes"] if not _is_blank(row)]
    return raw, form_text(form, "action") != "draft"


def _saved_message(viewer: Member, publish: bool, was_published: bool) -> str:
    if not publish:
        return N_("Saved as a draft. Publish it when it is ready.")
    if permissions.publishes_directly(viewer):
        return N_("The evaluation is published.")
    if was_published:
        return N_(
            "Your changes are submitted for review; the published version stays until a "
            "coordinator approves them."
        )
    return N_("Submitted for review: a coordinator will check it before it is published.")


@router.get("/evaluations/new", name="evaluation_new")
def new_evaluation(
    request: Request, session: DbSession, viewer: ActiveMember, programme_id: str = ""
) -> Response:
    """An empty form; ``?programme_id=`` ticks the programme evaluated."""
    values = _form_values(content.empty_content())
    chosen = parse_id(programme_id)
    if chosen is not None:
        values["programme_ids"] = [str(chosen)]
    return _form_page(request, session, viewer, values=values)


@router.post("/evaluations/new")
def create_evaluation(
    request: Request, session: DbSession, viewer: ActiveMember, form: PostedForm
) -> Response:
    """Publish, submit or save a new evaluation; or add or remove an outcome row."""
    rows = _row_action(request, session, viewer, form, None)
    if rows is not None:
        return rows
    raw, publish = _saving(form)
    try:
        evaluation = service.create(session, viewer, raw, publish=publish)
    except service.InvalidEvaluation as problem:
        return _form_page(
            request,
            session,
            viewer,
            values=_form_values(raw),
            errors=problem.errors,
            status_code=422,
        )
    flash(request, _saved_message(viewer, publish, was_published=False))
    return redirect(f"/evaluations/{evaluation.id}")


def _editable(session: Session, viewer: Member, evaluation_id: int) -> EvaluationContext:
    ctx = load_context(session, viewer, evaluation_id)
    if not ctx.can_edit:
        raise PermissionDenied()
    return ctx


@router.get("/evaluations/{evaluation_id:int}/edit", name="evaluation_edit")
def edit_evaluation(
    request: Request, session: DbSession, viewer: ActiveMember, evaluation_id: int
) -> Response:
    """The form with the content an edit starts from: the working version, else the published."""
    ctx = _editable(session, viewer, evaluation_id)
    base = service.editable_base(session, ctx.evaluation)
    return _form_page(
        request,
        session,
        viewer,
        values=_form_values(base.data),
        ctx=ctx,
        token=service.version_token(base),
        kept_country=base.data.get("country"),
    )


@router.post("/evaluations/{evaluation_id:int}/edit")
def save_evaluation(
    request: Request,
    session: DbSession,
    viewer: ActiveMember,
    form: PostedForm,
    evaluation_id: int,
) -> Response:
    """Save the edit; after someone else's save the form comes back with the input kept."""
    ctx = _editable(session, viewer, evaluation_id)
    rows = _row_action(request, session, viewer, form, ctx)
    if rows is not None:
        return rows
    raw, publish = _saving(form)
    token = form_text(form, "token")
    was_published = ctx.evaluation.status == "published"
    try:
        service.save(session, viewer, ctx.evaluation, raw, token, publish=publish)
    except service.StaleEdit as stale:
        _clean, errors = content.validate(session, raw, current=stale.version.data)
        return _form_page(
            request,
            session,
            viewer,
            values=_form_values(raw),
            ctx=ctx,
            token=stale.token,
            errors=errors,
            stale=stale,
            kept_country=stale.version.data.get("country"),
            status_code=409,
        )
    except service.InvalidEvaluation as problem:
        base = service.editable_base(session, ctx.evaluation)
        return _form_page(
            request,
            session,
            viewer,
            values=_form_values(raw),
            ctx=ctx,
            token=token,
            errors=problem.errors,
            kept_country=base.data.get("country"),
            status_code=422,
        )
    flash(request, _saved_message(viewer, publish, was_published))
    return redirect(f"/evaluations/{evaluation_id}")


def _row_context() -> dict[str, Any]:
    return {
        "errors": {},
        "labels": _labels(),
        "kind_choices": _translated(content.OUTCOME_KIND_LABELS),
        "measure_choices": _translated(content.MEASURE_LABELS),
        "input_kind_choices": _translated(content.INPUT_KIND_LABELS),
        "groups": _groups(),
        "limits": {"outcome": content.OUTCOME_NAME_MAX},
        "max_rows": MAX_OUTCOME_ROWS,
    }


@router.post("/evaluations/outcome-row", name="evaluation_outcome_row")
def outcome_row(
    request: Request, session: DbSession, viewer: ActiveMember, index: str = "0"
) -> Response:
    """One empty outcome row for the form (htmx appends it), and the next add button."""
    number = int(index) if index.isdigit() and int(index) < MAX_OUTCOME_ROWS else None
    if number is None:
        raise NotFound(_("No more outcome rows can be added."))
    context = {**_row_context(), "index": number, "row": empty_row(), "next_index": number + 1}
    return render(request, "evidence/_outcome_row_fragment.html", context, block=None)


@router.post("/evaluations/outcome-rows", name="evaluation_outcome_rows")
def outcome_rows(
    request: Request, session: DbSession, viewer: ActiveMember, form: PostedForm
) -> Response:
    """The outcomes section after a remove button (htmx swaps it), nothing saved."""
    changed = _changed_rows(form, form_text(form, "action"))
    rows, focus = (
        changed
        if changed is not None
        else (_form_values({"outcomes": _outcome_rows(form)})["outcomes"], "")
    )
    context = {**_row_context(), "rows": rows or [empty_row()], "focus": focus}
    return render(request, "evidence/_outcomes.html", context, block=None)


# --- the coordinators' queue -----------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    item: repository.QueueItem
    submitter: str
    countries: list[str]


def _names(session: Session, member_ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({member_id for member_id in member_ids if member_id is not None})
    if not wanted:
        return {}
    members = session.scalars(select(Member).where(Member.id.in_(wanted)))
    return {member.id: display_name(member) for member in members}


@router.get("/coordinate/evaluations", name="coordinate_evaluations")
def review_queue(request: Request, session: DbSession, coordinator: Coordinator) -> Response:
    """Submitted evaluations of my countries (study or programmes), oldest first."""
    scope = member_permissions.coordinated_countries(coordinator)
    items = repository.review_queue(session, scope)
    names = _names(session, (item.version.created_by_id for item in items))
    terms = vocabularies.snapshot(session)
    rows = [
        QueueRow(
            item=item,
            submitter=names.get(item.version.created_by_id or 0, _("Former member")),
            countries=sorted(terms.label("countries", code) for code in item.countries),
        )
        for item in items
    ]
    context = {
        "rows": rows,
        "scope": sorted(scope, key=lambda code: terms.label("countries", code))
        if scope is not None
        else None,
        "terms": terms,
        "labels": _labels(),
    }
    return render(request, "evidence/queue.html", context)
