"""Pydantic models of the programmes API; they document /api/v1/programmes in OpenAPI.

Pydantic checks the types only. Codes, required fields, ranges and references are checked
by ``app.programmes.content.validate``, the one validation forms and the API share, so an
unknown code gets the same message everywhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.applications.schemas import Problem

# Ids are 32-bit integers in the database; larger numbers name nothing.
ID_MAX = 2_147_483_647


class TranslationIn(BaseModel):
    """The title and summary in another language than the description's."""

    model_config = ConfigDict(extra="forbid")

    language: str = Field(description="ISO 639-1 code, e.g. de")
    title: str
    summary: str = ""


class TranslationOut(BaseModel):
    language: str = Field(description="ISO 639-1 code")
    title: str
    summary: str = ""


class ProgrammeIn(BaseModel):
    """A programme's content. Vocabulary fields take codes (see /api/v1/vocabularies).

    On creation, fields left out take their empty value; ``title``, ``summary``,
    ``target_groups``, ``countries`` and ``languages`` are required.
    """

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, description="At most 200 characters; required")
    summary: str | None = Field(
        default=None, description="What the programme does and for whom, in plain language"
    )
    description: str | None = Field(default=None, description="Markdown; no raw HTML")
    content_language: str | None = Field(
        default=None, description="ISO 639-1 code of the language the content is written in"
    )
    target_groups: list[str] | None = Field(
        default=None, description="Codes: offenders, parents, schools, children"
    )
    target_subgroups: list[str] | None = Field(
        default=None, description="Codes of subgroups of the chosen target groups"
    )
    prevention_level: str | None = Field(
        default=None, description="One code: primary, secondary or tertiary"
    )
    settings: list[str] | None = Field(default=None, description="Codes, e.g. school, online")
    delivery: list[str] | None = Field(
        default=None, description="Codes, e.g. face_to_face, helpline"
    )
    abuse_addressed: str | None = Field(
        default=None, description="One code: contact, online or both"
    )
    countries: list[str] | None = Field(
        default=None, description="ISO 3166-1 alpha-2 codes, e.g. DE, PT"
    )
    languages: list[str] | None = Field(
        default=None, description="ISO 639-1 codes of the languages it is delivered in"
    )
    age_min: int | None = Field(default=None, description="Youngest participants, 0 to 120")
    age_max: int | None = Field(default=None, description="Oldest participants, 0 to 120")
    manual_available: bool | None = None
    training_required: bool | None = None
    cost: str | None = Field(default=None, description="Cost to participants, free text")
    duration: str | None = Field(default=None, description="Free text, e.g. 6 weekly sessions")
    start_year: int | None = None
    still_running: bool | None = None
    provider_organisation_id: int | None = Field(default=None, ge=1, le=ID_MAX)
    provider_name: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    website: str | None = Field(default=None, description="An http or https address")
    visibility: str | None = Field(
        default=None, description="public (everyone) or members (members of the network only)"
    )
    adapted_from_id: int | None = Field(
        default=None, ge=1, le=ID_MAX, description="The published programme this adapts"
    )
    translations: list[TranslationIn] | None = None

    def content(self) -> dict[str, Any]:
        """The fields the caller sent (and only those), as ``content.validate`` takes them."""
        return self.model_dump(exclude_unset=True, exclude={"revision"})


class ProgrammePatch(ProgrammeIn):
    """The fields to change; fields left out keep their value."""

    revision: str | None = Field(
        default=None,
        description="The revision token read from GET (alternative to the If-Match header)",
    )


class WorkingVersionOut(BaseModel):
    """The version being edited or reviewed (maintainers and reviewers only)."""

    number: int
    state: str = Field(description="draft, submitted or changes_requested")
    token: str = Field(description="The revision token an edit must send (If-Match)")
    changes: list[str] = Field(
        description="Fields that differ from the published version (all set fields before "
        "the first publication)"
    )


class ProgrammeOut(BaseModel):
    """A programme as the caller may see it.

    The content fields are the listed content: the published version's, or the draft's
    before the first publication. An edit of a published programme goes into the working
    version and changes the listed content only when a coordinator approves it.
    """

    id: int
    status: str = Field(description="draft, submitted, changes_requested, published or rejected")
    visibility: str = Field(description="public or members")
    title: str
    summary: str
    description: str = Field(description="Markdown")
    content_language: str
    target_groups: list[str]
    target_subgroups: list[str]
    prevention_level: str | None
    settings: list[str]
    delivery: list[str]
    abuse_addressed: str | None
    countries: list[str]
    languages: list[str]
    age_min: int | None
    age_max: int | None
    manual_available: bool
    training_required: bool
    cost: str | None
    duration: str | None
    start_year: int | None
    still_running: bool
    provider_organisation_id: int | None
    provider_name: str | None
    contact_name: str | None
    contact_email: str | None
    website: str | None
    adapted_from_id: int | None
    translations: list[TranslationOut]
    attachment_ids: list[int]
    published_at: datetime | None
    content_updated_at: datetime | None
    archived: bool
    archive_reason: str | None
    adaptation_ids: list[int] = Field(description="Listed programmes that adapt this one")
    version: int | None = Field(description="Number of the published version")
    revision: str | None = Field(
        default=None,
        description="Token to send with PATCH (If-Match); only for those who may edit",
    )
    working_version: WorkingVersionOut | None = Field(
        default=None, description="The edit in progress; only for those who may edit"
    )


class ProgrammePage(BaseModel):
    """One page of the catalogue."""

    items: list[ProgrammeOut]
    total: int = Field(description="How many programmes match, on every page together")
    page: int
    per_page: int


class SubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(default="", max_length=10_000, description="A note for the reviewers")


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "request_changes", "reject"]
    comment: str = Field(
        default="",
        max_length=10_000,
        description="Required unless approving: what to change, or why it is rejected",
    )


class VersionOut(BaseModel):
    """One version of a programme's content, and who moved it along."""

    number: int
    state: str = Field(
        description="draft, submitted, changes_requested, revised (sent back, then edited "
        "into a newer version), published, superseded, rejected or withdrawn"
    )
    created_at: datetime
    submitted_at: datetime | None
    published_at: datetime | None
    decided_at: datetime | None
    submitted_by: str | None = Field(description='A name, or "Former member"')
    decided_by: str | None = Field(description='A name, or "Former member"')
    changes: list[str] = Field(description="Fields changed against the previous published version")


class VersionList(BaseModel):
    """Versions newest first: published ones, and every version for maintainers and
    reviewers."""

    items: list[VersionOut]


class ProgrammeContentOut(BaseModel):
    """Every field of one content snapshot, as codes."""

    title: str
    summary: str
    description: str
    content_language: str
    target_groups: list[str]
    target_subgroups: list[str]
    prevention_level: str | None
    settings: list[str]
    delivery: list[str]
    abuse_addressed: str | None
    countries: list[str]
    languages: list[str]
    age_min: int | None
    age_max: int | None
    manual_available: bool
    training_required: bool
    cost: str | None
    duration: str | None
    start_year: int | None
    still_running: bool
    provider_organisation_id: int | None
    provider_name: str | None
    contact_name: str | None
    contact_email: str | None
    website: str | None
    visibility: str
    adapted_from_id: int | None
    translations: list[TranslationOut]
    attachment_ids: list[int]


class VersionDetail(VersionOut):
    """One version with its full content."""

    content: ProgrammeContentOut


class StaleChange(BaseModel):
    field: str
    label: str
    yours: Any = Field(description="What the request would save")
    saved: Any = Field(description="What is saved now")


class StaleProblem(BaseModel):
    """Someone saved the programme after the caller read it; nothing was saved."""

    type: str = "about:blank"
    title: str
    status: int = 409
    detail: str
    revision: str = Field(description="The current revision token: send it to save anyway")
    changes: list[StaleChange]


class FieldProblem(BaseModel):
    loc: list[str | int] = Field(description='Where: e.g. ["body", "countries"]')
    msg: str
    type: str


class ValidationProblem(Problem):
    """Invalid input: problem details with one entry per field or query parameter."""

    errors: list[FieldProblem] = Field(default_factory=list)
