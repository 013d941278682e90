"""account security: e-mail change links and the last used one-time code

Revision ID: 0003a
Revises: 0002
Create Date: 2026-11-28 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003a"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PURPOSES_BEFORE = "purpose IN ('verify_email', 'reset_password', 'set_password')"
PURPOSES_AFTER = "purpose IN ('verify_email', 'reset_password', 'set_password', 'change_email')"


def upgrade() -> None:
    # A plain ADD COLUMN: SQLite need not rebuild the member table (and touch its children).
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_last_used_step", sa.Integer(), nullable=True))
    with op.batch_alter_table("account_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("new_email", sa.String(length=320), nullable=True))
        batch_op.drop_constraint("purpose_known", type_="check")
        batch_op.create_check_constraint("purpose_known", PURPOSES_AFTER)


def downgrade() -> None:
    # Links to change an address cannot be kept under the old rule.
    op.execute("DELETE FROM account_token WHERE purpose = 'change_email'")
    with op.batch_alter_table("account_token", schema=None) as batch_op:
        batch_op.drop_constraint("purpose_known", type_="check")
        batch_op.create_check_constraint("purpose_known", PURPOSES_BEFORE)
        batch_op.drop_column("new_email")
    # SQLite 3.35+ drops a column in place; rebuilding member would cascade to its children.
    with op.batch_alter_table("member", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("totp_last_used_step")
