"""Pydantic models of the vocabularies API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.config import SUPPORTED_LANGUAGES


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


def _known_languages(labels: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(labels) - set(SUPPORTED_LANGUAGES))
    if unknown:
        raise ValueError(
            f"unknown language {', '.join(unknown)}; use {', '.join(SUPPORTED_LANGUAGES)}"
        )
    return labels


class TermCreate(BaseModel):
    """A new term: its code never changes afterwards."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(
        description="Lower-case letters, digits and underscores; ISO 3166-1 alpha-2 for "
        "countries, ISO 639-1 for languages"
    )
    labels: dict[str, str] = Field(
        description="A label in every UI language, keyed by language code (en, de, fr)"
    )
    parent_code: str | None = Field(
        default=None, description="Target subgroups only: the code of their target group"
    )

    _labels = field_validator("labels")(_known_languages)


class TermRelabel(BaseModel):
    """New labels for a term; languages left out keep the label they have."""

    model_config = ConfigDict(extra="forbid")

    labels: dict[str, str] = Field(description="Labels keyed by language code (en, de, fr)")

    _labels = field_validator("labels")(_known_languages)
