"""The vocabularies API under /api/v1: the codes programmes use and their labels (public)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.auth.deps import DbSession
from app.vocabularies import service
from app.vocabularies.builtin import VOCABULARIES
from app.vocabularies.schemas import TermOut, VocabularyDetail, VocabularyList, VocabularyOut

router = APIRouter(prefix="/api/v1", tags=["vocabularies"])


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
