"""search index

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 15:00:00.000000

The documents are built by ``portal db upgrade`` after the migration (``search_state``
starts at version 0, so the first upgrade fills the index from the records already there).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("programme", "evaluation", "member", "organisation")
FTS_TABLES = {
    # English text, stemmed; every other language without a stemmer (SQLite has only Porter).
    "search_fts_en": "porter unicode61 remove_diacritics 2",
    "search_fts": "unicode61 remove_diacritics 2",
}


def upgrade() -> None:
    op.create_table(
        "search_document",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("language", sa.String(length=3), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("codes", sa.Text(), nullable=False),
        sa.Column("rating_level", sa.String(length=20), nullable=True),
        sa.Column("rating_order", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_ts", sa.BigInteger(), nullable=False),
        sa.Column("rated_ts", sa.BigInteger(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_document")),
        sa.UniqueConstraint("kind", "record_id", name="uq_search_document_record"),
    )
    op.create_index("ix_search_document_seq", "search_document", ["seq"], unique=False)
    op.create_table(
        "search_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("built_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_state")),
    )
    op.execute("INSERT INTO search_state (id, seq, generation, built_version) VALUES (1, 0, 0, 0)")
    if op.get_bind().dialect.name == "postgresql":
        # The text lives in a narrow table of its own: its rows hold the id and, moved out of
        # line (toast_tuple_target), the document's tsvector, so a search that matches tens of
        # thousands of documents reads a few hundred heap pages, not the documents themselves.
        op.execute(
            "CREATE TABLE search_text (id bigint PRIMARY KEY, kind varchar(16) NOT NULL, "
            "tsv tsvector NOT NULL, title_tsv tsvector NOT NULL) WITH (toast_tuple_target = 128)"
        )
        # One index per kind: a search looks in one kind, and never walks the others' matches.
        for kind in KINDS:
            for column in ("tsv", "title_tsv"):
                op.execute(
                    f"CREATE INDEX ix_search_text_{column}_{kind} ON search_text "
                    f"USING gin ({column}) WHERE kind = '{kind}'"
                )
    else:
        for name, tokenizer in FTS_TABLES.items():
            op.execute(
                f"CREATE VIRTUAL TABLE {name} USING fts5(title, body, tokenize = '{tokenizer}')"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE search_text")
    else:
        for name in FTS_TABLES:
            op.execute(f"DROP TABLE {name}")
    op.drop_table("search_state")
    op.drop_index("ix_search_document_seq", table_name="search_document")
    op.drop_table("search_document")
