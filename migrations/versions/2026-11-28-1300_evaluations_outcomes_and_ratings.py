"""evaluations outcomes and ratings

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=400), nullable=False),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("venue", sa.String(length=300), nullable=True),
        sa.Column("doi", sa.String(length=200), nullable=True),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("abstract", sa.Text(), nullable=False),
        sa.Column("design", sa.String(length=24), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("sample_size", sa.Integer(), nullable=True),
        sa.Column("follow_up_months", sa.Integer(), nullable=True),
        sa.Column("risk_of_bias", sa.String(length=16), nullable=False),
        sa.Column("published_version_id", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unpublished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unpublish_reason", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "design IN ('rct', 'cluster_rct', 'quasi_experimental', 'pre_post', 'qualitative', 'case_study', 'systematic_review', 'meta_analysis', 'other')",
            name=op.f("ck_evaluation_design_known"),
        ),
        sa.CheckConstraint(
            "risk_of_bias IN ('low', 'some_concerns', 'high', 'not_assessed')",
            name=op.f("ck_evaluation_risk_of_bias_known"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'published', 'unpublished', 'rejected')",
            name=op.f("ck_evaluation_status_known"),
        ),
        sa.CheckConstraint(
            "visibility IN ('public', 'members')", name=op.f("ck_evaluation_visibility_known")
        ),
        sa.CheckConstraint(
            "follow_up_months IS NULL OR follow_up_months >= 0",
            name=op.f("ck_evaluation_follow_up_positive"),
        ),
        sa.CheckConstraint(
            "sample_size IS NULL OR sample_size >= 0",
            name=op.f("ck_evaluation_sample_size_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["member.id"],
            name=op.f("fk_evaluation_created_by_id_member"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation")),
    )
    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_country"), ["country"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_evaluation_created_by_id"), ["created_by_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_evaluation_design"), ["design"], unique=False)
        batch_op.create_index(batch_op.f("ix_evaluation_doi"), ["doi"], unique=False)
        batch_op.create_index(
            "ix_evaluation_listing", ["status", "visibility", "year"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_evaluation_risk_of_bias"), ["risk_of_bias"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_evaluation_year"), ["year"], unique=False)

    op.create_table(
        "evaluation_programme",
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluation.id"],
            name=op.f("fk_evaluation_programme_evaluation_id_evaluation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programme.id"],
            name=op.f("fk_evaluation_programme_programme_id_programme"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "evaluation_id", "programme_id", name=op.f("pk_evaluation_programme")
        ),
    )
    with op.batch_alter_table("evaluation_programme", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluation_programme_programme_id"), ["programme_id"], unique=False
        )

    op.create_table(
        "evaluation_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decision_comment", sa.Text(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('draft', 'submitted', 'published', 'superseded', 'rejected', 'withdrawn')",
            name=op.f("ck_evaluation_version_state_known"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["member.id"],
            name=op.f("fk_evaluation_version_created_by_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["member.id"],
            name=op.f("fk_evaluation_version_decided_by_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluation.id"],
            name=op.f("fk_evaluation_version_evaluation_id_evaluation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_version")),
    )
    with op.batch_alter_table("evaluation_version", schema=None) as batch_op:
        batch_op.create_index(
            "ix_evaluation_version_number", ["evaluation_id", "number"], unique=True
        )
        batch_op.create_index(
            "ix_evaluation_version_state", ["state", "submitted_at"], unique=False
        )

    # evaluation and evaluation_version refer to each other: this key comes second.
    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_evaluation_published_version_id_evaluation_version"),
            "evaluation_version",
            ["published_version_id"],
            ["id"],
            ondelete="SET NULL",
        )

    op.create_table(
        "outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("measure", sa.String(length=16), nullable=False),
        sa.Column("estimate", sa.Float(), nullable=False),
        sa.Column("ci_low", sa.Float(), nullable=False),
        sa.Column("ci_high", sa.Float(), nullable=False),
        sa.Column("n_treatment", sa.Integer(), nullable=True),
        sa.Column("n_control", sa.Integer(), nullable=True),
        sa.Column("lower_is_better", sa.Boolean(), nullable=False),
        sa.Column("input_kind", sa.String(length=16), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("computation", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "input_kind IN ('effect', 'continuous', 'binary')",
            name=op.f("ck_outcome_input_kind_known"),
        ),
        sa.CheckConstraint(
            "kind IN ('abuse_or_offending', 'risk_or_protective_factor', 'knowledge_or_attitude', 'other')",
            name=op.f("ck_outcome_kind_known"),
        ),
        sa.CheckConstraint(
            "measure IN ('smd', 'odds_ratio', 'risk_ratio')", name=op.f("ck_outcome_measure_known")
        ),
        sa.CheckConstraint(
            "ci_low <= estimate AND estimate <= ci_high",
            name=op.f("ck_outcome_ci_contains_estimate"),
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluation.id"],
            name=op.f("fk_outcome_evaluation_id_evaluation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome")),
    )
    with op.batch_alter_table("outcome", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outcome_evaluation_id"), ["evaluation_id"], unique=False
        )
        batch_op.create_index("ix_outcome_kind_measure", ["kind", "measure"], unique=False)

    op.create_table(
        "programme_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("computed_level", sa.String(length=20), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("raise_by", sa.JSON(), nullable=False),
        sa.Column("evaluation_ids", sa.JSON(), nullable=False),
        sa.Column("overridden", sa.Boolean(), nullable=False),
        sa.Column("override_justification", sa.Text(), nullable=True),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "NOT overridden OR (override_justification IS NOT NULL AND override_justification <> '')",
            name=op.f("ck_programme_rating_override_justified"),
        ),
        sa.CheckConstraint(
            "computed_level IN ('possibly_harmful', 'effective', 'promising', 'no_effect', 'prudent', 'pioneering', 'not_rated')",
            name=op.f("ck_programme_rating_computed_level_known"),
        ),
        sa.CheckConstraint(
            "level IN ('possibly_harmful', 'effective', 'promising', 'no_effect', 'prudent', 'pioneering', 'not_rated')",
            name=op.f("ck_programme_rating_level_known"),
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["member.id"],
            name=op.f("fk_programme_rating_changed_by_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programme.id"],
            name=op.f("fk_programme_rating_programme_id_programme"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_rating")),
    )
    with op.batch_alter_table("programme_rating", schema=None) as batch_op:
        batch_op.create_index("ix_programme_rating_programme", ["programme_id", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_programme_rating_reviewed_on"), ["reviewed_on"], unique=False
        )

    op.create_table(
        "registry_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("registry_name", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_id"],
            ["member.id"],
            name=op.f("fk_registry_rating_added_by_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programme.id"],
            name=op.f("fk_registry_rating_programme_id_programme"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_rating")),
    )
    with op.batch_alter_table("registry_rating", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registry_rating_programme_id"), ["programme_id"], unique=False
        )

    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "rating_level", sa.String(length=20), server_default="not_rated", nullable=False
            )
        )
        batch_op.create_index(
            batch_op.f("ix_programme_rating_level"), ["rating_level"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_programme_rating_level"))
        batch_op.drop_column("rating_level")

    with op.batch_alter_table("registry_rating", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_rating_programme_id"))

    op.drop_table("registry_rating")
    with op.batch_alter_table("programme_rating", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_programme_rating_reviewed_on"))
        batch_op.drop_index("ix_programme_rating_programme")

    op.drop_table("programme_rating")
    with op.batch_alter_table("outcome", schema=None) as batch_op:
        batch_op.drop_index("ix_outcome_kind_measure")
        batch_op.drop_index(batch_op.f("ix_outcome_evaluation_id"))

    op.drop_table("outcome")
    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_evaluation_published_version_id_evaluation_version"), type_="foreignkey"
        )
    with op.batch_alter_table("evaluation_version", schema=None) as batch_op:
        batch_op.drop_index("ix_evaluation_version_state")
        batch_op.drop_index("ix_evaluation_version_number")

    op.drop_table("evaluation_version")
    with op.batch_alter_table("evaluation_programme", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_programme_programme_id"))

    op.drop_table("evaluation_programme")
    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_year"))
        batch_op.drop_index(batch_op.f("ix_evaluation_risk_of_bias"))
        batch_op.drop_index("ix_evaluation_listing")
        batch_op.drop_index(batch_op.f("ix_evaluation_doi"))
        batch_op.drop_index(batch_op.f("ix_evaluation_design"))
        batch_op.drop_index(batch_op.f("ix_evaluation_created_by_id"))
        batch_op.drop_index(batch_op.f("ix_evaluation_country"))

    op.drop_table("evaluation")
