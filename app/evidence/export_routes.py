"""Reference downloads: one evaluation, a programme's evidence, or the filtered evidence list.

Each comes as BibTeX (``.bib``), RIS (``.ris``) or CSL-JSON (``.json``), as an attachment.
Only what the viewer may see is exported: a members-only evaluation is not there for
anonymous visitors (404 for a single one, left out of lists).

Route order matters for ``/evaluations/export.<format>``: the evaluation page's route is
``/evaluations/{evaluation_id:int}`` (the ``int`` convertor matches digits only, so
"export.bib" never reaches it), and this router is listed before the evidence pages' in
``app.main.ROUTERS`` all the same.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fastapi import APIRouter, Depends
from sqlalchemy.orm import load_only
from starlette.requests import Request
from starlette.responses import Response

from app.auth.deps import DbSession, Viewer, load_viewer
from app.evidence import citations, deps, permissions, ratings, repository
from app.evidence.models import Evaluation
from app.kit.errors import NotFound
from app.kit.i18n import _
from app.programmes import deps as programme_deps

router = APIRouter(dependencies=[Depends(load_viewer)])

# The most evaluations one export of the list holds.
EXPORT_LIMIT = 5_000


@dataclass(frozen=True)
class Format:
    media_type: str
    write: Callable[[Sequence[Evaluation]], str]


def _csl_json(evaluations: Sequence[Evaluation]) -> str:
    return json.dumps(citations.to_csl_json(evaluations), ensure_ascii=False, indent=2) + "\n"


FORMATS: dict[str, Format] = {
    "bib": Format("application/x-bibtex; charset=utf-8", citations.to_bibtex),
    "ris": Format("application/x-research-info-systems; charset=utf-8", citations.to_ris),
    "json": Format("application/vnd.citationstyles.csl+json", _csl_json),
}

# "{{ evaluation | cite_text }}" in templates/evidence/_cite.html.


def _format(extension: str) -> Format:
    found = FORMATS.get(extension)
    if found is None:
        raise NotFound(_("References can be downloaded as .bib, .ris or .json."))
    return found


def slug(text: str, fallback: str) -> str:
    """An ASCII file name part: "Límites Claros" -> "limites-claros"."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:60].strip("-") or fallback


def _download(evaluations: Sequence[Evaluation], extension: str, stem: str) -> Response:
    chosen = _format(extension)
    return Response(
        chosen.write(evaluations).encode("utf-8"),
        media_type=chosen.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{stem}.{extension}"',
            # Members-only evaluations may be among them: no shared cache may keep them.
            "Cache-Control": "private, no-cache",
        },
    )


@router.get("/evaluations/export.{extension}", name="evaluations_export")
def export_list(request: Request, extension: str, session: DbSession, viewer: Viewer) -> Response:
    """Every evaluation the evidence list shows with these filters (up to EXPORT_LIMIT)."""
    _format(extension)
    query = repository.EvidenceQuery.from_params(_multi_dict(request))
    statement = (
        repository.evidence_statement(viewer, query)
        .options(
            load_only(
                Evaluation.id,
                Evaluation.title,
                Evaluation.authors,
                Evaluation.year,
                Evaluation.venue,
                Evaluation.doi,
                Evaluation.url,
                Evaluation.status,
                Evaluation.visibility,
            )
        )
        .limit(EXPORT_LIMIT)
    )
    evaluations = list(session.scalars(statement))
    return _download(evaluations, extension, "evaluations")


def _multi_dict(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


@router.get("/evaluations/{evaluation_id:int}/cite.{extension}", name="evaluation_cite")
def cite_one(evaluation_id: int, extension: str, session: DbSession, viewer: Viewer) -> Response:
    _format(extension)
    context = deps.load_context(session, viewer, evaluation_id)
    evaluation = context.evaluation
    return _download([evaluation], extension, citations.citation_key(evaluation))


@router.get("/programmes/{programme_id:int}/evidence.{extension}", name="programme_evidence_export")
def programme_evidence(
    programme_id: int, extension: str, session: DbSession, viewer: Viewer
) -> Response:
    """The programme's published evaluations that the viewer may see."""
    _format(extension)
    context = programme_deps.load_context(session, viewer, programme_id)
    evaluations = [
        evaluation
        for evaluation in ratings.evidence_of(session, programme_id)
        if permissions.can_see_listed(viewer, evaluation)
    ]
    stem = slug(context.programme.title, f"programme-{programme_id}") + "-evidence"
    return _download(evaluations, extension, stem)
