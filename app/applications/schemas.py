"""Shapes of the applications API (request bodies and responses)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MemberType = Literal["researcher", "practitioner", "policy_maker", "other"]
OrganisationType = Literal[
    "university", "ngo", "public_authority", "health_service", "law_enforcement", "other"
]
Status = Literal["submitted", "info_requested", "approved", "rejected", "withdrawn"]
Decision = Literal["approve", "reject", "request_info"]


class ApplicationCreate(BaseModel):
    """An application to join the network. Give ``organisation_id`` or ``organisation_name``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Maria Example",
                    "email": "maria@example.org",
                    "country": "PT",
                    "organisation_name": "Example Helpline",
                    "organisation_type": "ngo",
                    "organisation_website": "https://helpline.example",
                    "member_type": "practitioner",
                    "expertise": ["helplines"],
                    "languages": ["pt", "en"],
                    "motivation": "I run a helpline and would like to share what we learn.",
                    "privacy_consent": True,
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=200, description="Full name")
    email: str = Field(min_length=3, max_length=320)
    country: str = Field(
        min_length=2, max_length=2, description="ISO 3166-1 alpha-2 code, upper case"
    )
    organisation_id: int | None = Field(
        default=None, description="An organisation listed by GET /api/v1/organisations"
    )
    organisation_name: str | None = Field(
        default=None, max_length=200, description="A new organisation to propose"
    )
    organisation_type: OrganisationType | None = Field(
        default=None, description="Required with organisation_name"
    )
    organisation_website: str | None = Field(default=None, max_length=500)
    member_type: MemberType
    expertise: list[str] = Field(description="Codes of areas of expertise, at least one")
    languages: list[str] = Field(description="ISO 639-1 codes, lower case, at least one")
    motivation: str = Field(min_length=1, max_length=5000)
    privacy_consent: bool = Field(
        description="Must be true: the applicant agrees to the current privacy notice"
    )

    @model_validator(mode="after")
    def _organisation_given(self) -> ApplicationCreate:
        if self.organisation_id is None and not (self.organisation_name or "").strip():
            raise ValueError("give organisation_id or organisation_name")
        if self.organisation_id is not None and (self.organisation_name or "").strip():
            raise ValueError("give organisation_id or organisation_name, not both")
        return self

    @field_validator("privacy_consent")
    @classmethod
    def _consent_given(cls, value: bool) -> bool:
        if not value:
            raise ValueError("the applicant must agree to the privacy notice")
        return value


class ApplicationCreated(BaseModel):
    id: int
    status: Status


class ApplicationOut(BaseModel):
    """An application as coordinators see it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str
    country: str
    organisation_id: int | None
    organisation_name: str | None = Field(
        description="The chosen organisation's name, or the proposed one's"
    )
    proposed_organisation_type: str | None
    proposed_organisation_website: str | None
    member_type: MemberType
    expertise: list[str]
    languages: list[str]
    motivation: str
    status: Status
    privacy_notice_version: str
    privacy_consented_at: datetime
    created_at: datetime
    decided_at: datetime | None
    decided_by_id: int | None
    decision_reason: str | None
    member_id: int | None


class ApplicationList(BaseModel):
    items: list[ApplicationOut]
    page: int
    per_page: int
    total: int


class DecisionIn(BaseModel):
    """A coordinator's decision; ``message`` is required to reject or to ask for information."""

    model_config = ConfigDict(extra="forbid")

    decision: Decision
    message: str | None = Field(default=None, max_length=5000)

    @model_validator(mode="after")
    def _message_when_needed(self) -> DecisionIn:
        if self.decision in ("reject", "request_info") and not (self.message or "").strip():
            raise ValueError("a message is required to reject or to request information")
        return self


class Problem(BaseModel):
    """An error, as RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
