"""Pydantic models of the evidence API; they document /api/v1/evaluations in OpenAPI.

Pydantic checks the types only. Codes, required fields, ranges, confidence intervals and
DOIs are checked by ``app.evidence.content.validate``, the one validation forms and the API
share, so a wrong value gets the same message everywhere, at its field (an outcome's field
at ``["body", "outcomes", <index>, <field>]``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from app.evidence import content
from app.evidence.models import (
    DESIGNS,
    EVALUATION_STATUSES,
    INPUT_KINDS,
    MEASURES,
    OUTCOME_KINDS,
    RISKS_OF_BIAS,
    VERSION_STATES,
    VISIBILITIES,
)
from app.programmes.schemas import ID_MAX

# Shared problem models: the whole API answers errors the same way.
from app.programmes.schemas import FieldProblem as FieldProblem
from app.programmes.schemas import ValidationProblem as ValidationProblem

ProgrammeId = Annotated[int, Field(ge=1, le=ID_MAX)]
# Group sizes and event counts beyond any study's size are not data anyone has.
Count = Annotated[int, Field(le=content.SAMPLE_MAX)]

Direction = Literal["favourable", "harmful", "unclear"]
RatingLevel = Literal[
    "possibly_harmful",
    "effective",
    "promising",
    "no_effect",
    "prudent",
    "pioneering",
    "not_rated",
]


def _codes(description: str, codes: tuple[str, ...], default: str | None = None) -> Any:
    """A code field: documented with its allowed codes, checked by ``content.validate``."""
    # A field that may be null lists null among its values, so the schema accepts it.
    allowed: list[JsonValue] = [*codes, None] if default is None else list(codes)
    return Field(
        default=default,
        description=f"{description} One of: {', '.join(codes)}.",
        json_schema_extra={"enum": allowed},
    )


# --- input -------------------------------------------------------------------------------


class OutcomeIn(BaseModel):
    """One outcome: an effect size with its 95% CI, or the group statistics to compute it.

    With ``input_kind`` ``effect`` (the default) send ``estimate``, ``ci_low`` and
    ``ci_high`` on the measure's natural scale (a ratio, not its logarithm). With
    ``continuous`` send ``mean_t``, ``sd_t``, ``mean_c``, ``sd_c``, ``n_treatment`` and
    ``n_control``: the portal computes Hedges' g (measure ``smd``). With ``binary`` send
    ``events_t``, ``events_c``, ``n_treatment`` and ``n_control``: the portal computes the
    odds ratio or risk ratio (a continuity correction of 0.5 is added when a group has zero
    events or only events). Computed values replace any estimate sent.
    """

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, description="What was measured; required")
    kind: str | None = _codes("Required.", OUTCOME_KINDS)
    measure: str | None = _codes("The effect measure; required.", MEASURES)
    lower_is_better: bool = Field(
        default=False, description="True when a lower value is the beneficial direction"
    )
    input_kind: str = _codes("What is sent.", INPUT_KINDS, default="effect")
    estimate: float | None = None
    ci_low: float | None = Field(default=None, description="Lower bound of the 95% CI")
    ci_high: float | None = Field(default=None, description="Upper bound of the 95% CI")
    n_treatment: Count | None = Field(default=None, description="Programme group size")
    n_control: Count | None = Field(default=None, description="Comparison group size")
    mean_t: float | None = Field(default=None, description="Programme group mean (continuous)")
    sd_t: float | None = Field(default=None, description="Programme group SD (continuous)")
    mean_c: float | None = Field(default=None, description="Comparison group mean (continuous)")
    sd_c: float | None = Field(default=None, description="Comparison group SD (continuous)")
    events_t: Count | None = Field(default=None, description="Events, programme group (binary)")
    events_c: Count | None = Field(default=None, description="Events, comparison group (binary)")


class EvaluationFields(BaseModel):
    """An evaluation's content; every field may be left out (see the operations)."""

    model_config = ConfigDict(extra="forbid")

    programme_ids: list[ProgrammeId] | None = Field(
        default=None, description="The published programmes the study evaluates; required"
    )
    title: str | None = Field(default=None, description="As published; required")
    authors: list[str] | None = Field(
        default=None, description='As cited, one per item ("Family, Given"); at least one'
    )
    year: int | None = Field(default=None, description="Year of publication; not in the future")
    venue: str | None = Field(default=None, description="Journal or publisher")
    doi: str | None = Field(
        default=None,
        description="A DOI such as 10.1000/xyz123 (https://doi.org/ and doi: prefixes are "
        "accepted); stored in lower case",
    )
    url: str | None = Field(default=None, description="An http or https address")
    abstract: str | None = None
    design: str | None = _codes("Study design; required.", DESIGNS)
    country: str | None = Field(
        default=None, description="ISO 3166-1 alpha-2 code of where the study took place"
    )
    sample_size: int | None = Field(default=None, description="Participants; not negative")
    follow_up_months: int | None = Field(
        default=None, description="Months from the end of the programme to the last measurement"
    )
    risk_of_bias: str | None = _codes("Default not_assessed.", RISKS_OF_BIAS)
    visibility: str | None = _codes(
        "public (everyone) or members (members only); default public.", VISIBILITIES
    )
    outcomes: list[OutcomeIn] | None = Field(
        default=None, description="The results; sent as a whole (the list replaces the old one)"
    )
    publish: bool = Field(
        default=True,
        description="Publish (researchers and coordinators) or submit for review (other "
        "members) at once; false keeps a draft",
    )

    def content(self) -> dict[str, Any]:
        """The fields the caller sent (and only those), as ``content.validate`` takes them."""
        data = self.model_dump(exclude_unset=True, exclude={"publish", "revision", "outcomes"})
        if self.outcomes is not None:
            data["outcomes"] = [outcome.model_dump() for outcome in self.outcomes]
        return data


class EvaluationIn(EvaluationFields):
    """A new evaluation. Fields left out take their empty value; ``programme_ids``,
    ``title``, ``authors``, ``year`` and ``design`` are required, and each outcome needs
    a name, a kind, a measure and its effect (or group statistics)."""


class EvaluationPatch(EvaluationFields):
    """The fields to change; fields left out keep their value. ``outcomes``, when sent,
    replaces every outcome."""

    revision: str | None = Field(
        default=None,
        description="The revision token read from GET (alternative to the If-Match header)",
    )


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]
    comment: str = Field(
        default="",
        max_length=10_000,
        description="Required to reject: why the evaluation is not published",
    )


class UnpublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        max_length=10_000, description="Why the evaluation leaves the evidence; required"
    )


# --- output ------------------------------------------------------------------------------


class OutcomeOut(BaseModel):
    """An outcome with its effect, which way it points, and how it was computed."""

    name: str
    kind: str = Field(description=", ".join(OUTCOME_KINDS))
    measure: str = Field(description=", ".join(MEASURES))
    lower_is_better: bool
    input_kind: str = Field(description=", ".join(INPUT_KINDS))
    estimate: float
    ci_low: float
    ci_high: float
    n_treatment: int | None
    n_control: int | None
    mean_t: float | None
    sd_t: float | None
    mean_c: float | None
    sd_c: float | None
    events_t: int | None
    events_c: int | None
    direction: Direction = Field(
        description="favourable or harmful when the 95% CI lies entirely on that side of no "
        "effect (0 for smd, 1 for ratios), else unclear"
    )
    computation: str | None = Field(
        description="The formula, with its numbers, that computed the effect from group "
        "statistics (with any continuity correction); null for an effect sent as such"
    )


class EvaluationContentOut(BaseModel):
    """Every field of one content snapshot, as codes."""

    programme_ids: list[int]
    title: str
    authors: list[str]
    year: int | None
    venue: str | None
    doi: str | None
    url: str | None
    abstract: str
    design: str | None = Field(description=", ".join(DESIGNS))
    country: str | None
    sample_size: int | None
    follow_up_months: int | None
    risk_of_bias: str | None = Field(description=", ".join(RISKS_OF_BIAS))
    visibility: str | None = Field(description=", ".join(VISIBILITIES))
    outcomes: list[OutcomeOut]


class EvaluationItem(EvaluationContentOut):
    """A listed (published) evaluation."""

    id: int
    status: str = Field(description=", ".join(EVALUATION_STATUSES))
    published_at: datetime | None


class EvaluationPage(BaseModel):
    """One page of the evidence list."""

    items: list[EvaluationItem]
    total: int = Field(description="How many evaluations match, on every page together")
    page: int
    per_page: int


class VersionSummary(BaseModel):
    """One version of the evaluation's content."""

    number: int
    state: str = Field(description=", ".join(VERSION_STATES))
    created_at: datetime
    submitted_at: datetime | None
    published_at: datetime | None
    decided_at: datetime | None
    decision_comment: str | None = Field(
        default=None, description="The reviewer's comment; only for those who may edit"
    )


class WorkingVersionOut(BaseModel):
    """The version being edited or waiting for review (only for those who may edit)."""

    number: int
    state: str = Field(description="draft or submitted")
    token: str = Field(description="The revision token an edit must send (If-Match)")
    content: EvaluationContentOut


class EvaluationOut(EvaluationContentOut):
    """An evaluation as the caller may see it.

    The content is the listed content (the published version's; before the first
    publication, the working version's). An edit of a published evaluation goes into the
    working version until it is published.
    """

    id: int
    status: str = Field(description=", ".join(EVALUATION_STATUSES))
    published_at: datetime | None
    unpublished_at: datetime | None
    unpublish_reason: str | None
    version: int | None = Field(description="Number of the published version")
    versions: list[VersionSummary] = Field(
        description="Newest first: the published ones, and every version for those who may edit"
    )
    revision: str | None = Field(
        default=None,
        description="Token to send with PATCH (If-Match); only for those who may edit",
    )
    working_version: WorkingVersionOut | None = Field(
        default=None, description="The edit in progress; only for those who may edit"
    )


class StaleEvaluationProblem(BaseModel):
    """Someone saved the evaluation after the caller read it; nothing was saved."""

    type: str = "about:blank"
    title: str
    status: int = 409
    detail: str
    revision: str = Field(description="The current revision token: send it to save anyway")
    fields: list[str] = Field(
        description="The fields where the request differs from what is saved now"
    )


# --- a programme's evidence --------------------------------------------------------------


class ReasonOut(BaseModel):
    text: str
    evaluation_ids: list[int] = Field(description="The evaluations the sentence names")


class RatingOut(BaseModel):
    """The programme's rating under the network's scheme, and why."""

    level: RatingLevel
    label: str
    rule: str = Field(description="The rule that matched, e.g. effective_two_rigorous")
    reasons: list[ReasonOut]
    raise_by: list[str] = Field(description="What evidence would raise the rating")
    overridden: bool = Field(description="A coordinator set the level by hand")
    justification: str | None = Field(description="The coordinator's reason for the override")
    computed_level: RatingLevel = Field(description="The level the rules give")
    reviewed_on: date | None = Field(description="When the rating was last reviewed")
    due_for_review: bool = Field(description="Reviewed more than three years ago")


class PooledOut(BaseModel):
    """A random-effects (DerSimonian-Laird) pooled estimate of one outcome kind and measure.

    Ratios are pooled on the log scale; the estimate and CI are on the natural scale.
    """

    kind: str = Field(description=", ".join(OUTCOME_KINDS))
    measure: str = Field(description=", ".join(MEASURES))
    studies: int = Field(description="How many effects were pooled")
    estimate: float
    ci_low: float
    ci_high: float
    tau2: float = Field(description="Between-study variance, on the analysis scale")
    i2: float = Field(description="Share of the variation due to heterogeneity, 0 to 1")
    lower_is_better: bool


class RegistryRatingOut(BaseModel):
    """The rating another registry gave the programme."""

    registry_name: str
    label: str
    year: int | None
    url: str | None


class ProgrammeEvidenceOut(BaseModel):
    """A programme's rating, pooled effects, evaluations and other registries' ratings."""

    programme_id: int
    rating: RatingOut
    pooled: list[PooledOut]
    evaluations: list[EvaluationItem] = Field(
        description="The published evaluations the caller may see, newest first"
    )
    registry_ratings: list[RegistryRatingOut]
