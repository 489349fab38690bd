"""views over time read each post's readings in (post, time) order with their counts from
the index alone, so the dashboards never scan every reading

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("view_snapshots", schema=None) as batch_op:
        # The new index starts with the old one's columns: it serves its lookups too.
        batch_op.drop_index("ix_view_snapshots_publication_taken")
        batch_op.create_index(
            "ix_view_snapshots_publication_taken_views",
            ["publication_id", "taken_at", "id", "views"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("view_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_view_snapshots_publication_taken_views")
        batch_op.create_index(
            "ix_view_snapshots_publication_taken", ["publication_id", "taken_at"], unique=False
        )
