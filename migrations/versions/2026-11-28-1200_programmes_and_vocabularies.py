"""programmes and vocabularies

Revision ID: 0004
Revises: 0003b
Create Date: 2026-11-28 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The seed terms as they were when this migration was written (codes are stable).
SEED_TERMS: dict[str, list[tuple[str, str | None]]] = {
    "target_groups": [
        ("offenders", None),
        ("parents", None),
        ("schools", None),
        ("children", None),
    ],
    "target_subgroups": [
        ("help_seekers", "offenders"),
        ("criminal_proceedings", "offenders"),
        ("after_release", "offenders"),
        ("harmful_sexual_behaviour", "offenders"),
        ("parents", "parents"),
        ("foster_kinship_carers", "parents"),
        ("families", "parents"),
        ("teachers", "schools"),
        ("school_staff", "schools"),
        ("whole_school", "schools"),
        ("child_professionals", "schools"),
        ("age_0_5", "children"),
        ("age_6_11", "children"),
        ("age_12_17", "children"),
        ("age_18_25", "children"),
    ],
    "prevention_level": [("primary", None), ("secondary", None), ("tertiary", None)],
    "settings": [
        ("school", None),
        ("community", None),
        ("online", None),
        ("health_care", None),
        ("criminal_justice", None),
        ("family_home", None),
        ("sport_leisure", None),
        ("faith", None),
        ("workplace", None),
    ],
    "delivery": [
        ("face_to_face", None),
        ("online", None),
        ("helpline", None),
        ("self_help", None),
        ("blended", None),
        ("campaign", None),
    ],
    "abuse_addressed": [("contact", None), ("online", None), ("both", None)],
    "countries": [
        ("AT", None),
        ("BE", None),
        ("BG", None),
        ("CY", None),
        ("CZ", None),
        ("DE", None),
        ("DK", None),
        ("EE", None),
        ("ES", None),
        ("FI", None),
        ("FR", None),
        ("GR", None),
        ("HR", None),
        ("HU", None),
        ("IE", None),
        ("IT", None),
        ("LT", None),
        ("LU", None),
        ("LV", None),
        ("MT", None),
        ("NL", None),
        ("PL", None),
        ("PT", None),
        ("RO", None),
        ("SE", None),
        ("SI", None),
        ("SK", None),
        ("AL", None),
        ("BA", None),
        ("CH", None),
        ("GB", None),
        ("GE", None),
        ("IS", None),
        ("LI", None),
        ("MD", None),
        ("ME", None),
        ("MK", None),
        ("NO", None),
        ("RS", None),
        ("TR", None),
        ("UA", None),
    ],
    "languages": [
        ("bg", None),
        ("cs", None),
        ("da", None),
        ("de", None),
        ("el", None),
        ("en", None),
        ("es", None),
        ("et", None),
        ("fi", None),
        ("fr", None),
        ("ga", None),
        ("hr", None),
        ("hu", None),
        ("it", None),
        ("lt", None),
        ("lv", None),
        ("mt", None),
        ("nl", None),
        ("pl", None),
        ("pt", None),
        ("ro", None),
        ("sk", None),
        ("sl", None),
        ("sv", None),
        ("ar", None),
        ("bs", None),
        ("is", None),
        ("ka", None),
        ("lb", None),
        ("mk", None),
        ("no", None),
        ("ru", None),
        ("sq", None),
        ("sr", None),
        ("tr", None),
        ("uk", None),
    ],
}


def upgrade() -> None:
    op.create_table(
        "programme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("content_language", sa.String(length=3), nullable=False),
        sa.Column("prevention_level", sa.String(length=40), nullable=True),
        sa.Column("abuse_addressed", sa.String(length=40), nullable=True),
        sa.Column("age_min", sa.Integer(), nullable=True),
        sa.Column("age_max", sa.Integer(), nullable=True),
        sa.Column("manual_available", sa.Boolean(), nullable=False),
        sa.Column("training_required", sa.Boolean(), nullable=False),
        sa.Column("cost", sa.String(length=200), nullable=True),
        sa.Column("duration", sa.String(length=200), nullable=True),
        sa.Column("start_year", sa.Integer(), nullable=True),
        sa.Column("still_running", sa.Boolean(), nullable=False),
        sa.Column("provider_organisation_id", sa.Integer(), nullable=True),
        sa.Column("provider_name", sa.String(length=200), nullable=True),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("contact_email", sa.String(length=320), nullable=True),
        sa.Column("website", sa.String(length=500), nullable=True),
        sa.Column("adapted_from_id", sa.Integer(), nullable=True),
        sa.Column("published_version_id", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("content_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archive_reason", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'changes_requested', 'published', 'rejected')",
            name=op.f("ck_programme_status_known"),
        ),
        sa.CheckConstraint(
            "visibility IN ('public', 'members')", name=op.f("ck_programme_visibility_known")
        ),
        sa.CheckConstraint(
            "age_min IS NULL OR age_max IS NULL OR age_min <= age_max",
            name=op.f("ck_programme_age_range_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["adapted_from_id"],
            ["programme.id"],
            name=op.f("fk_programme_adapted_from_id_programme"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["member.id"],
            name=op.f("fk_programme_created_by_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["provider_organisation_id"],
            ["organisation.id"],
            name=op.f("fk_programme_provider_organisation_id_organisation"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme")),
    )
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_programme_adapted_from_id"), ["adapted_from_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_programme_created_by_id"), ["created_by_id"], unique=False
        )
        batch_op.create_index(
            "ix_programme_listing",
            ["status", "archived_at", "visibility", "published_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_programme_provider_organisation_id"),
            ["provider_organisation_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_programme_title"), ["title"], unique=False)

    op.create_table(
        "vocabulary_term",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vocabulary", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("parent_code", sa.String(length=40), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["retired_by_id"],
            ["member.id"],
            name=op.f("fk_vocabulary_term_retired_by_id_member"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vocabulary_term")),
        sa.UniqueConstraint("vocabulary", "code", name=op.f("uq_vocabulary_term_vocabulary_code")),
    )
    with op.batch_alter_table("vocabulary_term", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vocabulary_term_vocabulary"), ["vocabulary"], unique=False
        )

    from datetime import UTC, datetime

    now = datetime.now(UTC)
    vocabulary_term = sa.table(
        "vocabulary_term",
        sa.column("vocabulary", sa.String),
        sa.column("code", sa.String),
        sa.column("parent_code", sa.String),
        sa.column("position", sa.Integer),
        sa.column("labels", sa.JSON),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(
        vocabulary_term,
        [
            {
                "vocabulary": vocabulary,
                "code": code,
                "parent_code": parent,
                "position": position,
                "labels": {},
                "created_at": now,
                "updated_at": now,
            }
            for vocabulary, terms in SEED_TERMS.items()
            for position, (code, parent) in enumerate(terms)
        ],
    )

    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programme.id"],
            name=op.f("fk_attachment_programme_id_programme"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["member.id"],
            name=op.f("fk_attachment_uploaded_by_id_member"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment")),
    )
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attachment_programme_id"), ["programme_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_attachment_sha256"), ["sha256"], unique=False)

    op.create_table(
        "implementation_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("setting", sa.String(length=40), nullable=True),
        sa.Column("start_year", sa.Integer(), nullable=False),
        sa.Column("end_year", sa.Integer(), nullable=True),
        sa.Column("people_reached", sa.Integer(), nullable=True),
        sa.Column("what_worked", sa.Text(), nullable=False),
        sa.Column("what_did_not_work", sa.Text(), nullable=False),
        sa.Column("adaptations", sa.Text(), nullable=False),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "visibility IN ('public', 'members')",
            name=op.f("ck_implementation_report_visibility_known"),
        ),
        sa.CheckConstraint(
            "end_year IS NULL OR start_year IS NULL OR start_year <= end_year",
            name=op.f("ck_implementation_report_years_ordered"),
        ),
        sa.CheckConstraint(
            "people_reached IS NULL OR people_reached >= 0",
            name=op.f("ck_implementation_report_reach_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["member.id"],
            name=op.f("fk_implementation_report_author_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_implementation_report_organisation_id_organisation"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programme.id"],
            name=op.f("fk_implementation_report_programme_id_programme"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_implementation_report")),
    )
    with op.batch_alter_table("implementation_report", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_implementation_report_author_id"), ["author_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_implementation_report_country"), ["country"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_implementation_report_programme_id"), ["programme_id"], unique=False
        )

    op.create_table(
        "programme_maintainer",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_programme_maintainer_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programme.id"],
            name=op.f("fk_programme_maintainer_programme_id_programme"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("programme_id", "member_id", name=op.f("pk_programme_maintainer")),
    )
    with op.batch_alter_table("programme_maintainer", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_programme_maintainer_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "programme_term",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programme.id"],
            name=op.f("fk_programme_term_programme_id_programme"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("programme_id", "field", "code", name=op.f("pk_programme_term")),
    )
    with op.batch_alter_table("programme_term", schema=None) as batch_op:
        batch_op.create_index(
            "ix_programme_term_field_code", ["field", "code", "programme_id"], unique=False
        )

    op.create_table(
        "programme_translation",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=3), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programme.id"],
            name=op.f("fk_programme_translation_programme_id_programme"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("programme_id", "language", name=op.f("pk_programme_translation")),
    )
    op.create_table(
        "programme_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('draft', 'submitted', 'changes_requested', 'revised', 'published', 'superseded', 'rejected', 'withdrawn')",
            name=op.f("ck_programme_version_state_known"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["member.id"],
            name=op.f("fk_programme_version_created_by_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["member.id"],
            name=op.f("fk_programme_version_decided_by_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programme.id"],
            name=op.f("fk_programme_version_programme_id_programme"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["member.id"],
            name=op.f("fk_programme_version_submitted_by_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["member.id"],
            name=op.f("fk_programme_version_updated_by_id_member"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_version")),
    )
    with op.batch_alter_table("programme_version", schema=None) as batch_op:
        batch_op.create_index(
            "ix_programme_version_programme_number", ["programme_id", "number"], unique=True
        )
        batch_op.create_index("ix_programme_version_state", ["state", "submitted_at"], unique=False)
    # programme and programme_version refer to each other: this key comes second.
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_programme_published_version_id_programme_version"),
            "programme_version",
            ["published_version_id"],
            ["id"],
            ondelete="SET NULL",
        )

    op.create_table(
        "programme_thread_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('comment', 'submit', 'approve', 'request_changes', 'reject', 'archive', 'restore')",
            name=op.f("ck_programme_thread_entry_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["member.id"],
            name=op.f("fk_programme_thread_entry_author_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programme.id"],
            name=op.f("fk_programme_thread_entry_programme_id_programme"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["programme_version.id"],
            name=op.f("fk_programme_thread_entry_version_id_programme_version"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_thread_entry")),
    )
    with op.batch_alter_table("programme_thread_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_programme_thread_entry_programme_id"), ["programme_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("programme_thread_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_programme_thread_entry_programme_id"))

    op.drop_table("programme_thread_entry")
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_programme_published_version_id_programme_version"), type_="foreignkey"
        )
    with op.batch_alter_table("programme_version", schema=None) as batch_op:
        batch_op.drop_index("ix_programme_version_state")
        batch_op.drop_index("ix_programme_version_programme_number")

    op.drop_table("programme_version")
    op.drop_table("programme_translation")
    with op.batch_alter_table("programme_term", schema=None) as batch_op:
        batch_op.drop_index("ix_programme_term_field_code")

    op.drop_table("programme_term")
    with op.batch_alter_table("programme_maintainer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_programme_maintainer_member_id"))

    op.drop_table("programme_maintainer")
    with op.batch_alter_table("implementation_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_implementation_report_programme_id"))
        batch_op.drop_index(batch_op.f("ix_implementation_report_country"))
        batch_op.drop_index(batch_op.f("ix_implementation_report_author_id"))

    op.drop_table("implementation_report")
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachment_sha256"))
        batch_op.drop_index(batch_op.f("ix_attachment_programme_id"))

    op.drop_table("attachment")
    with op.batch_alter_table("vocabulary_term", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vocabulary_term_vocabulary"))

    op.drop_table("vocabulary_term")
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_programme_title"))
        batch_op.drop_index(batch_op.f("ix_programme_provider_organisation_id"))
        batch_op.drop_index("ix_programme_listing")
        batch_op.drop_index(batch_op.f("ix_programme_created_by_id"))
        batch_op.drop_index(batch_op.f("ix_programme_adapted_from_id"))

    op.drop_table("programme")
