"""Pydantic models of the organisations API."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from app.members.vocabulary import COUNTRIES
from app.organisations.service import clean_website

OrganisationType = Literal[
    "university", "ngo", "public_authority", "health_service", "law_enforcement", "other"
]


class OrganisationOut(BaseModel):
    """An organisation of the network (public)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    country: str = Field(description="ISO 3166-1 alpha-2 code, upper case")
    type: OrganisationType = Field(validation_alias=AliasChoices("organisation_type", "type"))
    website: str | None


class OrganisationPage(BaseModel):
    """One page of organisations."""

    items: list[OrganisationOut]
    total: int = Field(description="How many organisations match, on every page together")
    page: int
    per_page: int


class OrganisationCreate(BaseModel):
    """A new organisation; the name must be new in its country."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    country: str = Field(description="ISO 3166-1 alpha-2 code, e.g. PT")
    type: OrganisationType
    website: str | None = Field(default=None, description="An http or https address")

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        code = value.upper()
        if code not in COUNTRIES:
            raise ValueError("unknown country code; use ISO 3166-1 alpha-2, e.g. PT")
        return code

    @field_validator("website")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        return clean_website(value)
