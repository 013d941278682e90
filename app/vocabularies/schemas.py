"""Pydantic models of the vocabularies API."""

from __future__ import annotations

from pydantic import BaseModel, Field


class VocabularyOut(BaseModel):
    """A curated vocabulary: its name is the programme field that holds its codes."""

    name: str = Field(description="The vocabulary's name, equal to the programme field")
    label: str = Field(description="The vocabulary's name in the reader's language")
    multiple: bool = Field(description="Whether a programme holds several codes of it")
    term_count: int = Field(description="How many terms the pickers offer")
    retired_count: int = Field(description="How many terms are retired")


class VocabularyList(BaseModel):
    """Every vocabulary of the portal."""

    items: list[VocabularyOut]


class TermOut(BaseModel):
    """One term: a stable code and its label in every UI language."""

    code: str = Field(description="Stable code, used in programme records and filters")
    label: str = Field(description="The label in the reader's language")
    labels: dict[str, str] = Field(
        description="The label in each UI language, keyed by language code (en, de, fr)"
    )
    parent_code: str | None = Field(
        description="For target subgroups: the code of their target group"
    )
    retired: bool = Field(
        description="A retired term stays on the records that use it and leaves the pickers"
    )


class VocabularyDetail(BaseModel):
    """A vocabulary with its terms in curated order."""

    name: str
    label: str
    multiple: bool
    terms: list[TermOut]
