"""The evidence API under /api/v1: evaluations, their workflow, and a programme's evidence.

The routes are thin: ``content.validate`` (through the service) checks every field,
``deps.load_context`` decides once what the caller may see and do, the service publishes or
submits, and ``views.programme_evidence`` gathers a programme's rating and pooled effects.
Reading needs no account; members-only evaluations exist only for members.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from app.applications.schemas import Problem
from app.auth.api_deps import ApiCoordinator, Caller, api_member
from app.auth.deps import DbSession
from app.evidence import content, deps, effects, ratings, repository, service, views
from app.evidence.deps import EvaluationContext
from app.evidence.models import (
    DESIGNS,
    OUTCOME_KINDS,
    RISKS_OF_BIAS,
    Evaluation,
    EvaluationVersion,
    Outcome,
)
from app.evidence.schemas import (
    EvaluationContentOut,
    EvaluationIn,
    EvaluationItem,
    EvaluationOut,
    EvaluationPage,
    EvaluationPatch,
    OutcomeOut,
    PooledOut,
    ProgrammeEvidenceOut,
    RatingOut,
    ReasonOut,
    RegistryRatingOut,
    ReviewIn,
    StaleEvaluationProblem,
    UnpublishIn,
    ValidationProblem,
    VersionSummary,
    WorkingVersionOut,
)
from app.kit.api import (
    NothingToChange,
    Responses,
    bearer_scheme,
    problem_response,
    sent_token,
    split_codes,
)
from app.kit.errors import PermissionDenied
from app.kit.i18n import _
from app.members.models import Member
from app.programmes import deps as programme_deps
from app.programmes.models import Programme
from app.programmes.schemas import ID_MAX
from app.vocabularies import service as vocabularies

router = APIRouter(prefix="/api/v1", tags=["evidence"], dependencies=[Depends(bearer_scheme)])

WriteMember = Annotated[Member, Depends(api_member("write"))]

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_FILTER_CODES = 50
# The code filters of the list, with their allowed codes (countries: the vocabulary's).
CODE_FILTERS: dict[str, tuple[str, ...] | None] = {
    "design": DESIGNS,
    "risk_of_bias": RISKS_OF_BIAS,
    "country": None,
    "outcome_kind": OUTCOME_KINDS,
}


UNAUTHENTICATED: Responses = {401: problem_response("No valid token or session", Problem)}
FORBIDDEN: Responses = {
    403: problem_response(
        "Membership lapsed, the token's scope is too narrow, or not allowed", Problem
    )
}
NOT_FOUND: Responses = {
    404: problem_response("No such evaluation, or not visible to the caller", Problem)
}
INVALID: Responses = {
    422: problem_response("Invalid input: one entry per field under `errors`", ValidationProblem)
}
WRONG_STATE: Responses = {
    409: problem_response("The step is not possible in the evaluation's state", Problem)
}
ETAG_HEADER = {
    "ETag": {
        "description": "The revision to send as If-Match with PATCH (only for those who may edit)",
        "schema": {"type": "string"},
    }
}


# --- building the answers ----------------------------------------------------------------


def _quoted(token: str) -> str:
    return f'"{token}"'


def _outcome_out(outcome: Mapping[str, Any]) -> OutcomeOut:
    """An outcome of a content snapshot (or a listed outcome as such a dict)."""
    record = outcome.get("computation")
    return OutcomeOut.model_validate(
        {
            **content.empty_outcome(),
            **{key: outcome.get(key) for key in content.OUTCOME_FIELDS if key in outcome},
            "lower_is_better": bool(outcome.get("lower_is_better")),
            "input_kind": outcome.get("input_kind") or "effect",
            "direction": effects.direction(
                str(outcome["measure"]),
                float(outcome["ci_low"]),
                float(outcome["ci_high"]),
                bool(outcome.get("lower_is_better")),
            ),
            "computation": effects.render_computation(record) if record else None,
        }
    )


def _listed_outcome(outcome: Outcome) -> dict[str, Any]:
    """A listed outcome row in the shape of a snapshot's outcome."""
    inputs = dict(outcome.inputs or {})
    return {
        "name": outcome.name,
        "kind": outcome.kind,
        "measure": outcome.measure,
        "lower_is_better": outcome.lower_is_better,
        "input_kind": outcome.input_kind,
        "estimate": outcome.estimate,
        "ci_low": outcome.ci_low,
        "ci_high": outcome.ci_high,
        "n_treatment": outcome.n_treatment,
        "n_control": outcome.n_control,
        **{key: inputs.get(key) for key in ("mean_t", "sd_t", "mean_c", "sd_c")},
        **{key: inputs.get(key) for key in ("events_t", "events_c")},
        "computation": inputs.get("computation"),
    }


def _content_out(data: Mapping[str, Any], programme_ids: list[int]) -> dict[str, Any]:
    """Every field of a snapshot (older snapshots may lack newer fields), outcomes rendered."""
    full = {**content.empty_content(), **data}
    return EvaluationContentOut.model_validate(
        {
            **{name: full.get(name) for name in content.FIELDS},
            "programme_ids": programme_ids,
            "outcomes": [_outcome_out(outcome) for outcome in full.get("outcomes") or []],
        }
    ).model_dump()


def _item(evaluation: Evaluation, programme_ids: list[int]) -> EvaluationItem:
    """A listed evaluation from its row and listed outcomes (loaded)."""
    data = {
        name: getattr(evaluation, name)
        for name in content.FIELDS
        if name not in ("programme_ids", "outcomes")
    }
    data["outcomes"] = [_listed_outcome(outcome) for outcome in evaluation.outcomes]
    return EvaluationItem.model_validate(
        {
            **_content_out(data, programme_ids),
            "id": evaluation.id,
            "status": evaluation.status,
            "published_at": evaluation.published_at,
        }
    )


def _items(session: Session, viewer: Member | None, evaluations: list[Evaluation]) -> list[Any]:
    """Listed evaluations with the programmes (visible to ``viewer``) they evaluate."""
    programmes = repository.programmes_of(session, viewer, [item.id for item in evaluations])
    return [
        _item(evaluation, [programme.id for programme in programmes.get(evaluation.id, [])])
        for evaluation in evaluations
    ]


def _programme_ids(session: Session, ctx: EvaluationContext, data: Mapping[str, Any]) -> list[int]:
    """The programmes a snapshot names: all of them for editors, the visible ones otherwise."""
    ids = [number for number in data.get("programme_ids") or [] if isinstance(number, int)]
    if ctx.can_edit:
        return ids
    visible = {programme.id for programme in repository.programmes_by_id(session, ctx.viewer, ids)}
    return [number for number in ids if number in visible]


def _version_summary(version: EvaluationVersion, *, with_comment: bool) -> VersionSummary:
    return VersionSummary(
        number=version.number,
        state=version.state,
        created_at=version.created_at,
        submitted_at=version.submitted_at,
        published_at=version.published_at,
        decided_at=version.decided_at,
        decision_comment=version.decision_comment if with_comment else None,
    )


def _detail(session: Session, ctx: EvaluationContext, response: Response) -> EvaluationOut:
    """The evaluation as ``ctx.viewer`` sees it; editors also get the revision (and ETag)."""
    evaluation = ctx.evaluation
    versions = repository.versions(session, evaluation.id, all_states=ctx.can_edit)
    published = next(
        (item for item in versions if item.id == evaluation.published_version_id), None
    )
    # The listed content: the published version's, else the working (or the last) one's.
    listed = published or ctx.working or (versions[0] if versions else None)
    data: Mapping[str, Any] = listed.data if listed is not None else {}
    revision = None
    working = None
    if ctx.can_edit:
        revision = service.version_token(service.editable_base(session, evaluation))
        response.headers["ETag"] = _quoted(revision)
        if ctx.working is not None:
            working = WorkingVersionOut(
                number=ctx.working.number,
                state=ctx.working.state,
                token=service.version_token(ctx.working),
                content=EvaluationContentOut.model_validate(
                    _content_out(ctx.working.data, _programme_ids(session, ctx, ctx.working.data))
                ),
            )
    return EvaluationOut.model_validate(
        {
            **_content_out(data, _programme_ids(session, ctx, data)),
            "id": evaluation.id,
            "status": evaluation.status,
            "published_at": evaluation.published_at,
            "unpublished_at": evaluation.unpublished_at,
            "unpublish_reason": evaluation.unpublish_reason,
            "version": published.number if published else None,
            "versions": [
                _version_summary(version, with_comment=ctx.can_edit) for version in versions
            ],
            "revision": revision,
            "working_version": working,
        }
    )


# --- the list ----------------------------------------------------------------------------


def _code_filters(
    session: Session, given: Mapping[str, Sequence[str] | None]
) -> dict[str, list[str]]:
    """The code filters asked for; an unknown code is an error naming the parameter."""
    filters: dict[str, list[str]] = {}
    errors: list[dict[str, Any]] = []
    for name, allowed in CODE_FILTERS.items():
        codes = split_codes(given.get(name))
        if not codes:
            continue
        if allowed is None:
            codes = [code.upper() for code in codes]
            # Retired countries stay on older evaluations, so they still filter.
            allowed = tuple(
                term.code for term in vocabularies.snapshot(session).vocabulary("countries")
            )
        unknown = [code for code in codes if code not in allowed]
        if unknown:
            message = vocabularies.UnknownCodes(name, unknown, allowed).message
            errors.append({"loc": ("query", name), "msg": message, "type": "value_error"})
        filters[name] = codes[:MAX_FILTER_CODES]
    if errors:
        raise RequestValidationError(errors)
    return filters


def _codes_query(description: str) -> Any:
    return Query(
        description=description + " Repeat the parameter or separate codes with commas; "
        "an evaluation matches if it has any of them."
    )


@router.get(
    "/evaluations",
    response_model=EvaluationPage,
    summary="Search the evidence",
    responses={**UNAUTHENTICATED, **INVALID},
)
def list_evaluations(
    session: DbSession,
    caller: Caller,
    design: Annotated[list[str] | None, _codes_query(f"Designs: {', '.join(DESIGNS)}.")] = None,
    risk_of_bias: Annotated[
        list[str] | None, _codes_query(f"Risk of bias: {', '.join(RISKS_OF_BIAS)}.")
    ] = None,
    country: Annotated[
        list[str] | None, _codes_query("ISO 3166-1 alpha-2 codes of the study's country.")
    ] = None,
    outcome_kind: Annotated[
        list[str] | None,
        _codes_query(f"Kinds of outcome measured: {', '.join(OUTCOME_KINDS)}."),
    ] = None,
    year: Annotated[int | None, Query(ge=1000, le=9999, description="Published in")] = None,
    year_from: Annotated[
        int | None, Query(ge=1000, le=9999, description="Published in or after")
    ] = None,
    year_to: Annotated[
        int | None, Query(ge=1000, le=9999, description="Published in or before")
    ] = None,
    programme_id: Annotated[
        int | None, Query(ge=1, le=ID_MAX, description="Evaluations of this programme")
    ] = None,
    q: Annotated[str, Query(max_length=200, description="Words in the title or authors")] = "",
    sort: Annotated[
        Literal["newest", "oldest", "title"],
        Query(description="newest (latest year first), oldest, or title"),
    ] = "newest",
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[
        int, Query(ge=1, description=f"Default {DEFAULT_PER_PAGE}, at most {MAX_PER_PAGE}")
    ] = DEFAULT_PER_PAGE,
) -> EvaluationPage:
    """Published evaluations the caller may see, with their outcomes.

    Filters on different fields all apply; codes within one field are alternatives.
    Anonymous callers see public evaluations only, in the items and in ``total``. An
    unknown code is refused with a 422 naming the parameter and the allowed codes.
    """
    params: dict[str, list[str]] = dict(
        _code_filters(
            session,
            {
                "design": design,
                "risk_of_bias": risk_of_bias,
                "country": country,
                "outcome_kind": outcome_kind,
            },
        )
    )
    for name, value in (
        ("year", year),
        ("year_from", year_from),
        ("year_to", year_to),
        ("programme_id", programme_id),
    ):
        if value is not None:
            params[name] = [str(value)]
    params["q"] = [q]
    params["sort"] = [sort]
    query = repository.EvidenceQuery.from_params(params)
    viewer = caller.member
    results = repository.list_evaluations(session, viewer, query, page, min(per_page, MAX_PER_PAGE))
    return EvaluationPage(
        items=_items(session, viewer, results.items),
        total=results.total,
        page=results.page,
        per_page=results.per_page,
    )


# --- one evaluation ----------------------------------------------------------------------


@router.get(
    "/evaluations/{evaluation_id}",
    response_model=EvaluationOut,
    summary="One evaluation",
    responses={200: {"headers": ETAG_HEADER}, **UNAUTHENTICATED, **NOT_FOUND, **INVALID},
)
def get_evaluation(
    evaluation_id: int, session: DbSession, caller: Caller, response: Response
) -> EvaluationOut:
    """The evaluation's listed content, its outcomes (with the direction of each effect and
    how computed effects were obtained), its status and versions.

    Its author and the coordinators who review it also get ``revision`` (and the same value
    as the ETag header), to send with PATCH, and the ``working_version`` in progress, and see
    drafts, submissions and unpublished evaluations.
    """
    ctx = deps.load_context(session, caller.member, evaluation_id)
    return _detail(session, ctx, response)


@router.post(
    "/evaluations",
    response_model=EvaluationOut,
    status_code=201,
    summary="Add an evaluation",
    responses={
        201: {
            "headers": {
                "Location": {"description": "The new evaluation", "schema": {"type": "string"}},
                **ETAG_HEADER,
            }
        },
        **UNAUTHENTICATED,
        **FORBIDDEN,
        **INVALID,
    },
)
def create_evaluation(
    body: EvaluationIn, session: DbSession, member: WriteMember, response: Response
) -> EvaluationOut:
    """A new evaluation of one or more published programmes (a token needs the write scope).

    Researchers and coordinators publish it at once (``status`` published) and the
    programmes' ratings are recomputed; other members submit it to the coordinators
    (``status`` submitted). With ``publish`` false it stays a draft. Outcomes sent as group
    statistics come back with the computed effect and the formula used.
    """
    evaluation = service.create(session, member, body.content(), publish=body.publish)
    response.headers["Location"] = f"/api/v1/evaluations/{evaluation.id}"
    return _detail(session, deps.load_context(session, member, evaluation.id), response)


def _stale_response(
    session: Session, raw: Mapping[str, Any], stale: service.StaleEdit
) -> JSONResponse:
    """A 409 problem naming the fields where the request differs from what is saved."""
    saved = stale.version.data
    yours, _errors = content.validate(session, raw, current=saved)
    problem = StaleEvaluationProblem(
        title=_("Someone else saved this evaluation meanwhile"),
        detail=_(
            "Someone else saved this evaluation after you read it; nothing was saved. "
            "Compare with the saved version, then send your edit again with the current "
            "revision."
        ),
        revision=stale.token,
        fields=[name for name in raw if yours.get(name) != saved.get(name)],
    )
    return JSONResponse(
        problem.model_dump(mode="json"),
        status_code=409,
        media_type="application/problem+json",
        headers={"ETag": _quoted(stale.token)},
    )


@router.patch(
    "/evaluations/{evaluation_id}",
    response_model=EvaluationOut,
    summary="Edit an evaluation",
    responses={
        200: {"headers": ETAG_HEADER},
        **UNAUTHENTICATED,
        **FORBIDDEN,
        **NOT_FOUND,
        409: problem_response(
            "Someone saved in between (the current revision), or the step is not possible",
            StaleEvaluationProblem,
        ),
        **INVALID,
        428: problem_response("No revision sent (If-Match header or revision field)", Problem),
    },
)
def update_evaluation(
    evaluation_id: int,
    body: EvaluationPatch,
    session: DbSession,
    member: WriteMember,
    response: Response,
    if_match: Annotated[
        str | None,
        Header(description="The ETag (revision) read with GET; or send the revision field"),
    ] = None,
) -> EvaluationOut | JSONResponse:
    """Change the fields sent; the others keep their value (its author and reviewing
    coordinators; a token needs the write scope).

    A draft or submitted version is changed in place; a published evaluation keeps its
    listed content and the edit becomes a new version. With ``publish`` (the default) the
    edit is published at once by researchers and coordinators and submitted for review by
    others; with ``publish`` false it stays a draft. An edit based on an older revision is
    refused with 409 and the current revision.
    """
    ctx = deps.load_context(session, member, evaluation_id)
    if not ctx.can_edit:
        raise PermissionDenied()
    token = sent_token(if_match, body.revision)
    raw = body.content()
    if not raw and not (body.publish and ctx.working is not None and ctx.working.state == "draft"):
        raise NothingToChange(_("Send at least one field to change, or publish a draft."))
    try:
        service.save(session, member, ctx.evaluation, raw, token, publish=body.publish)
    except service.StaleEdit as stale:
        return _stale_response(session, raw, stale)
    return _detail(session, deps.load_context(session, member, evaluation_id), response)


@router.post(
    "/evaluations/{evaluation_id}/review",
    response_model=EvaluationOut,
    summary="Decide on a submission",
    responses={**UNAUTHENTICATED, **FORBIDDEN, **NOT_FOUND, **WRONG_STATE, **INVALID},
)
def review_evaluation(
    evaluation_id: int,
    body: ReviewIn,
    session: DbSession,
    coordinator: ApiCoordinator,
    response: Response,
) -> EvaluationOut:
    """Approve (publish) or reject a submitted evaluation (coordinators of the study's
    country or of an evaluated programme's; a token needs the coordinate scope). A comment
    is required to reject; the author is told by e-mail."""
    ctx = deps.load_context(session, coordinator, evaluation_id)
    if not ctx.can_review:
        raise PermissionDenied()
    service.review(session, coordinator, ctx.evaluation, body.decision, body.comment)
    return _detail(session, deps.load_context(session, coordinator, evaluation_id), response)


@router.post(
    "/evaluations/{evaluation_id}/unpublish",
    response_model=EvaluationOut,
    summary="Unpublish an evaluation",
    responses={**UNAUTHENTICATED, **FORBIDDEN, **NOT_FOUND, **WRONG_STATE, **INVALID},
)
def unpublish_evaluation(
    evaluation_id: int,
    body: UnpublishIn,
    session: DbSession,
    coordinator: ApiCoordinator,
    response: Response,
) -> EvaluationOut:
    """Take a published evaluation out of the evidence, saying why (coordinators who review
    it; a token needs the coordinate scope). The programmes' ratings are recomputed."""
    ctx = deps.load_context(session, coordinator, evaluation_id)
    if not ctx.can_unpublish:
        raise PermissionDenied()
    service.unpublish(session, coordinator, ctx.evaluation, body.reason)
    return _detail(session, deps.load_context(session, coordinator, evaluation_id), response)


# --- a programme's evidence --------------------------------------------------------------


def _rating_out(programme: Programme, evidence: views.ProgrammeEvidence) -> RatingOut:
    rating = evidence.rating
    if rating is None:
        # Never rated: what the rules say of no evidence, and what would change that.
        computed = ratings.compute(programme, [])
        return RatingOut(
            level="not_rated",
            label=views.level_label("not_rated"),
            rule=computed.rule,
            reasons=[ReasonOut(text=reason.text, evaluation_ids=[]) for reason in computed.reasons],
            raise_by=computed.raise_by_texts,
            overridden=False,
            justification=None,
            computed_level="not_rated",
            reviewed_on=None,
            due_for_review=False,
        )
    return RatingOut.model_validate(
        {
            "level": rating.level,
            "label": rating.label,
            "rule": rating.rule,
            "reasons": [
                ReasonOut(text=reason.text, evaluation_ids=reason.evaluation_ids)
                for reason in rating.reasons
            ],
            "raise_by": rating.raise_by,
            "overridden": rating.overridden,
            "justification": rating.justification,
            "computed_level": rating.computed_level,
            "reviewed_on": rating.reviewed_on,
            "due_for_review": rating.due_for_review,
        }
    )


@router.get(
    "/programmes/{programme_id}/evidence",
    response_model=ProgrammeEvidenceOut,
    summary="A programme's evidence",
    responses={
        **UNAUTHENTICATED,
        404: problem_response("No such programme, or not visible to the caller", Problem),
        **INVALID,
    },
)
def programme_evidence(
    programme_id: int, session: DbSession, caller: Caller
) -> ProgrammeEvidenceOut:
    """The programme's rating (level, the rule that matched, the reasons with the
    evaluations they rest on, what would raise it, any override and its justification),
    the random-effects pooled estimates per outcome kind and measure, the published
    evaluations the caller may see, and other registries' ratings.

    The rating counts every published evaluation, members-only ones included; for
    anonymous callers the reasons name such a study without its title, and the pooled
    estimates and the list leave it out.
    """
    ctx = programme_deps.load_context(session, caller.member, programme_id)
    evidence = views.programme_evidence(session, caller.member, ctx.programme)
    return ProgrammeEvidenceOut(
        programme_id=ctx.programme.id,
        rating=_rating_out(ctx.programme, evidence),
        pooled=[
            PooledOut(
                kind=group.kind,
                measure=group.measure,
                studies=group.pooled.k,
                estimate=group.pooled.estimate,
                ci_low=group.pooled.ci_low,
                ci_high=group.pooled.ci_high,
                tau2=group.pooled.tau2,
                i2=group.pooled.i2,
                lower_is_better=group.lower_is_better,
            )
            for group in evidence.pooled_groups
        ],
        evaluations=_items(session, caller.member, evidence.evaluations),
        registry_ratings=[
            RegistryRatingOut(
                registry_name=item.registry_name, label=item.label, year=item.year, url=item.url
            )
            for item in evidence.registry_ratings
        ],
    )
