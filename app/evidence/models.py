"""Evaluations of programmes, their outcomes, the programmes' ratings and other registries'.

Like programmes, an evaluation row carries its listed (published) content, mirrored from
the version that was published last, and every version keeps a snapshot of its content in
``evaluation_version.data``. Outcomes belong to the listed content; ratings are computed
from the listed outcomes of published evaluations.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, TimestampMixin, utcnow

DESIGNS = (
    "rct",
    "cluster_rct",
    "quasi_experimental",
    "pre_post",
    "qualitative",
    "case_study",
    "systematic_review",
    "meta_analysis",
    "other",
)
RIGOROUS_DESIGNS = ("rct", "cluster_rct", "quasi_experimental")
REVIEW_DESIGNS = ("systematic_review", "meta_analysis")
RISKS_OF_BIAS = ("low", "some_concerns", "high", "not_assessed")
OUTCOME_KINDS = (
    "abuse_or_offending",
    "risk_or_protective_factor",
    "knowledge_or_attitude",
    "other",
)
MEASURES = ("smd", "odds_ratio", "risk_ratio")
# How an outcome's effect was entered: as an effect size, or as group statistics the portal
# turns into one (means and SDs -> Hedges' g; events -> odds or risk ratio).
INPUT_KINDS = ("effect", "continuous", "binary")
# draft: not yet sent; submitted: a practitioner's evaluation waiting for a coordinator;
# published: listed and counted in ratings; unpublished: taken down by a coordinator with a
# reason; rejected: refused on review.
EVALUATION_STATUSES = ("draft", "submitted", "published", "unpublished", "rejected")
VERSION_STATES = ("draft", "submitted", "published", "superseded", "rejected", "withdrawn")
VISIBILITIES = ("public", "members")
RATING_LEVELS = (
    "possibly_harmful",
    "effective",
    "promising",
    "no_effect",
    "prudent",
    "pioneering",
    "not_rated",
)


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


evaluation_programme = Table(
    "evaluation_programme",
    Base.metadata,
    Column("evaluation_id", ForeignKey("evaluation.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "programme_id", ForeignKey("programme.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class Evaluation(TimestampMixin, Base):
    __tablename__ = "evaluation"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(EVALUATION_STATUSES)})", name="status_known"),
        CheckConstraint(f"design IN ({_in(DESIGNS)})", name="design_known"),
        CheckConstraint(f"risk_of_bias IN ({_in(RISKS_OF_BIAS)})", name="risk_of_bias_known"),
        CheckConstraint(f"visibility IN ({_in(VISIBILITIES)})", name="visibility_known"),
        CheckConstraint("sample_size IS NULL OR sample_size >= 0", name="sample_size_positive"),
        CheckConstraint(
            "follow_up_months IS NULL OR follow_up_months >= 0", name="follow_up_positive"
        ),
        Index("ix_evaluation_listing", "status", "visibility", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    title: Mapped[str] = mapped_column(String(400))
    # Authors as written in the citation, one per list item ("Family, Given").
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    year: Mapped[int] = mapped_column(Integer, index=True)
    venue: Mapped[str | None] = mapped_column(String(300))
    doi: Mapped[str | None] = mapped_column(String(200), index=True)
    url: Mapped[str | None] = mapped_column(String(500))
    abstract: Mapped[str] = mapped_column(Text, default="")
    design: Mapped[str] = mapped_column(String(24), index=True)
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    sample_size: Mapped[int | None] = mapped_column(Integer)
    follow_up_months: Mapped[int | None] = mapped_column(Integer)
    risk_of_bias: Mapped[str] = mapped_column(String(16), default="not_assessed", index=True)
    published_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("evaluation_version.id", ondelete="SET NULL", use_alter=True)
    )
    published_at: Mapped[datetime | None]
    unpublished_at: Mapped[datetime | None]
    unpublish_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"), index=True
    )
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    outcomes: Mapped[list[Outcome]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="Outcome.position"
    )


class Outcome(Base):
    """One result of an evaluation's listed content, with its effect and 95% CI."""

    __tablename__ = "outcome"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(OUTCOME_KINDS)})", name="kind_known"),
        CheckConstraint(f"measure IN ({_in(MEASURES)})", name="measure_known"),
        CheckConstraint(f"input_kind IN ({_in(INPUT_KINDS)})", name="input_kind_known"),
        CheckConstraint("ci_low <= estimate AND estimate <= ci_high", name="ci_contains_estimate"),
        Index("ix_outcome_kind_measure", "kind", "measure"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(32))
    measure: Mapped[str] = mapped_column(String(16))
    estimate: Mapped[float] = mapped_column(Float)
    ci_low: Mapped[float] = mapped_column(Float)
    ci_high: Mapped[float] = mapped_column(Float)
    n_treatment: Mapped[int | None] = mapped_column(Integer)
    n_control: Mapped[int | None] = mapped_column(Integer)
    lower_is_better: Mapped[bool] = mapped_column(Boolean, default=False)
    input_kind: Mapped[str] = mapped_column(String(16), default="effect")
    # The group statistics entered instead of an effect size, and how it was computed.
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    computation: Mapped[str | None] = mapped_column(Text)


class EvaluationVersion(TimestampMixin, Base):
    """One version of an evaluation's content (citation, design, outcomes) as a snapshot."""

    __tablename__ = "evaluation_version"
    __table_args__ = (
        CheckConstraint(f"state IN ({_in(VERSION_STATES)})", name="state_known"),
        Index("ix_evaluation_version_number", "evaluation_id", "number", unique=True),
        Index("ix_evaluation_version_state", "state", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), default="draft")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    decision_comment: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]


class ProgrammeRating(Base):
    """A rating of a programme's evidence; the newest row is the current one.

    A new row is written whenever the computed rating or an override changes, so the
    history of a programme's rating is kept.
    """

    __tablename__ = "programme_rating"
    __table_args__ = (
        CheckConstraint(f"level IN ({_in(RATING_LEVELS)})", name="level_known"),
        CheckConstraint(f"computed_level IN ({_in(RATING_LEVELS)})", name="computed_level_known"),
        CheckConstraint(
            "NOT overridden OR "
            "(override_justification IS NOT NULL AND override_justification <> '')",
            name="override_justified",
        ),
        Index("ix_programme_rating_programme", "programme_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    # The level shown: the override's when overridden, else the computed one.
    level: Mapped[str] = mapped_column(String(20))
    computed_level: Mapped[str] = mapped_column(String(20))
    rule: Mapped[str] = mapped_column(String(40))
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    raise_by: Mapped[list[Any]] = mapped_column(JSON, default=list)
    evaluation_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    override_justification: Mapped[str | None] = mapped_column(Text)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When a coordinator last confirmed the rating (or it was computed from new evidence).
    reviewed_on: Mapped[date] = mapped_column(index=True)


class RegistryRating(TimestampMixin, Base):
    """The rating another registry gave a programme, shown beside the network's own."""

    __tablename__ = "registry_rating"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    registry_name: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(200))
    year: Mapped[int | None] = mapped_column(Integer)
    url: Mapped[str | None] = mapped_column(String(500))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
