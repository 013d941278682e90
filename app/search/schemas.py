"""The answers of the search API (``GET /api/v1/search``), as documented in OpenAPI."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field


class NormalisedQuery(BaseModel):
    """The search as the portal understood it: cut, cleaned, capped."""

    q: str = Field(description="The text searched for (cut to 500 characters)")
    type: str
    filters: dict[str, list[str]] = Field(
        description="The facet filters by field name (singular aliases resolved); codes within "
        "a field are alternatives, fields combine"
    )
    sort: Literal["relevance", "rating", "newest"] = Field(
        description="The order used: relevance needs text; without it programmes come "
        "strongest evidence first, other kinds newest first"
    )
    page: int
    per_page: int


class SearchRating(BaseModel):
    level: str
    label: str


class _ResultBase(BaseModel):
    id: int
    title: str
    snippet: str = Field(description="Plain text around the first match (no HTML)")
    highlights: list[str] = Field(
        default_factory=list, description="The words of the title and snippet that matched"
    )
    url: str = Field(description="The absolute path of the record's page")


class ProgrammeResult(_ResultBase):
    type: Literal["programme"] = "programme"
    target_groups: list[str]
    countries: list[str]
    languages: list[str]
    prevention_level: str | None
    rating: SearchRating


class EvaluationResult(_ResultBase):
    type: Literal["evaluation"] = "evaluation"
    year: int
    design: str
    country: str | None
    programme_ids: list[int] = Field(description="The linked programmes the caller may see")


class MemberResult(_ResultBase):
    type: Literal["member"] = "member"
    name: str
    country: str | None = Field(description="Only when the member shows it to other members")


class OrganisationResult(_ResultBase):
    type: Literal["organisation"] = "organisation"
    name: str
    country: str | None


SearchResultItem = Annotated[
    ProgrammeResult | EvaluationResult | MemberResult | OrganisationResult,
    Field(discriminator="type"),
]


class SearchPage(BaseModel):
    """One page of search results, with the facet counts of the whole result set."""

    query: NormalisedQuery
    type: str
    total: int = Field(description="How many records match, on every page together")
    page: int
    per_page: int
    pages: int = Field(description="How many pages there are (at least 1)")
    results: list[SearchResultItem] = Field(
        description="Empty beyond the last page; ``total`` stays right"
    )
    facets: dict[str, dict[str, int]] = Field(
        description="Per facet field of the type, how many matching records have each code "
        "(a field's counts ignore that field's own filter). Only records the caller may see "
        "are counted"
    )
    truncated: bool = Field(description="True when q was longer than 500 characters and was cut")
