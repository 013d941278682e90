"""The vocabularies API under /api/v1: the codes programmes use and their labels (public),
and their curation by coordinators."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from starlette.responses import JSONResponse

from app.auth.api_deps import ApiCoordinator
from app.auth.deps import DbSession
from app.kit.errors import PermissionDenied
from app.kit.i18n import _, get_locale
from app.members.models import Member
from app.vocabularies import service
from app.vocabularies.builtin import VOCABULARIES
from app.vocabularies.models import VocabularyTerm
from app.vocabularies.schemas import (
    TermCreate,
    TermOut,
    TermRelabel,
    VocabularyDetail,
    VocabularyList,
    VocabularyOut,
)

router = APIRouter(prefix="/api/v1", tags=["vocabularies"])

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {**_PROBLEM, "description": "Not signed in, or the token is not valid"},
    403: {**_PROBLEM, "description": "Not a coordinator, or the token lacks the coordinate scope"},
    404: {**_PROBLEM, "description": "No such vocabulary or term"},
}


def require_api_curator(coordinator: ApiCoordinator) -> Member:
    """A coordinator who may curate the vocabularies (a token needs the coordinate scope)."""
    if not service.can_curate_vocabularies(coordinator):
        raise PermissionDenied()
    return coordinator


ApiCurator = Annotated[Member, Depends(require_api_curator)]


@router.get("/vocabularies", response_model=VocabularyList)
def list_vocabularies(session: DbSession) -> VocabularyList:
    """Every vocabulary with its label in the reader's language and how many terms it has."""
    return VocabularyList(
        items=[
            VocabularyOut(
                name=summary.name,
                label=summary.label,
                multiple=summary.multiple,
                term_count=summary.active_count,
                retired_count=summary.retired_count,
            )
            for summary in service.summaries(service.snapshot(session))
        ]
    )


@router.get(
    "/vocabularies/{name}",
    response_model=VocabularyDetail,
    responses={404: {"description": "No such vocabulary"}},
)
def get_vocabulary(
    session: DbSession,
    name: str,
    include_retired: Annotated[
        bool,
        Query(description="Add retired terms, which old records may still use"),
    ] = False,
) -> VocabularyDetail:
    """The terms of one vocabulary, with their labels in every UI language."""
    service.require_vocabulary(name)
    terms = service.snapshot(session).vocabulary(name)
    return VocabularyDetail(
        name=name,
        label=service.vocabulary_label(name),
        multiple=VOCABULARIES[name],
        terms=[
            TermOut(
                code=term.code,
                label=term.label(),
                labels=service.term_labels(name, term.code, term.labels),
                parent_code=term.parent_code,
                retired=term.retired,
            )
            for term in terms
            if include_retired or not term.retired
        ],
    )


def _term_out(term: VocabularyTerm) -> TermOut:
    labels = dict(term.labels or {})
    return TermOut(
        code=term.code,
        label=service.term_label(term.vocabulary, term.code, labels, get_locale()),
        labels=service.term_labels(term.vocabulary, term.code, labels),
        parent_code=term.parent_code,
        retired=term.retired_at is not None,
    )


def _field_location(field_name: str) -> tuple[str, ...]:
    if field_name.startswith("label_"):
        return ("body", "labels", field_name.removeprefix("label_"))
    return ("body", field_name)


def _as_validation_error(error: service.CurationError) -> RequestValidationError:
    return RequestValidationError(
        [
            {"loc": _field_location(name), "msg": message, "type": "value_error"}
            for name, message in error.errors.items()
        ]
    )


def _conflict(error: service.CurationError) -> JSONResponse:
    problem = {
        "type": "about:blank",
        "title": _("This term cannot change its status now"),
        "status": 409,
        "detail": error.message,
    }
    return JSONResponse(problem, status_code=409, media_type="application/problem+json")


@router.post(
    "/vocabularies/{name}/terms",
    response_model=TermOut,
    status_code=201,
    responses={**_WRITE_RESPONSES, 422: {**_PROBLEM, "description": "Input breaks a rule"}},
)
def add_term(session: DbSession, curator: ApiCurator, name: str, body: TermCreate) -> TermOut:
    """Add a term with a label in every UI language (coordinators)."""
    service.require_vocabulary(name)
    try:
        term = service.add_term(
            session, curator, name, body.code, body.labels, parent_code=body.parent_code
        )
    except service.CurationError as error:
        raise _as_validation_error(error) from None
    return _term_out(term)


@router.patch(
    "/vocabularies/{name}/terms/{code}",
    response_model=TermOut,
    responses={**_WRITE_RESPONSES, 422: {**_PROBLEM, "description": "Input breaks a rule"}},
)
def relabel_term(
    session: DbSession, curator: ApiCurator, name: str, code: str, body: TermRelabel
) -> TermOut:
    """Change a term's labels; languages left out keep theirs (coordinators)."""
    service.require_vocabulary(name)
    term = service.get_term(session, name, code)
    labels = {**service.term_labels(name, code, dict(term.labels or {})), **body.labels}
    try:
        term = service.relabel_term(session, curator, name, code, labels)
    except service.CurationError as error:
        raise _as_validation_error(error) from None
    return _term_out(term)


@router.post(
    "/vocabularies/{name}/terms/{code}/retire",
    response_model=TermOut,
    responses={**_WRITE_RESPONSES, 409: {**_PROBLEM, "description": "Its subgroups are offered"}},
)
def retire_term(
    session: DbSession, curator: ApiCurator, name: str, code: str
) -> TermOut | JSONResponse:
    """Take a term out of the pickers; records keep it (coordinators)."""
    service.require_vocabulary(name)
    try:
        return _term_out(service.retire_term(session, curator, name, code))
    except service.CurationError as error:
        return _conflict(error)


@router.post(
    "/vocabularies/{name}/terms/{code}/reinstate",
    response_model=TermOut,
    responses={**_WRITE_RESPONSES, 409: {**_PROBLEM, "description": "Its target group is retired"}},
)
def reinstate_term(
    session: DbSession, curator: ApiCurator, name: str, code: str
) -> TermOut | JSONResponse:
    """Offer a retired term in the pickers again (coordinators)."""
    service.require_vocabulary(name)
    try:
        return _term_out(service.reinstate_term(session, curator, name, code))
    except service.CurationError as error:
        return _conflict(error)
