"""The team loop: Jira calls recorded per run, the run's Jira comment, and PR revisions as runs
linked to the run that opened the PR.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("issue_processing_history", sa.Column(
        "run_kind", sa.String(length=20), server_default="issue", nullable=False))
    op.create_check_constraint("check_run_kind", "issue_processing_history",
                               "run_kind IN ('issue', 'revision')")
    op.add_column("issue_processing_history", sa.Column(
        "parent_history_id", sa.Integer(), nullable=True))
    op.create_foreign_key(None, "issue_processing_history", "issue_processing_history",
                          ["parent_history_id"], ["id"], ondelete="CASCADE")
    op.create_index("idx_iph_parent_history_id", "issue_processing_history",
                    ["parent_history_id"], unique=False)
    op.add_column("issue_processing_history", sa.Column(
        "jira_comment_id", sa.String(length=64), nullable=True))
    op.create_table(
        "jira_api_history",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("history_id", sa.Integer(), nullable=False),
        sa.Column("task_run_id", sa.Uuid(), nullable=True),
        sa.Column("api_method", sa.String(length=10), nullable=False),
        sa.Column("endpoint", sa.String(length=500), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("duration_seconds", sa.Numeric(precision=8, scale=3), nullable=True),
        sa.Column("attempt", sa.Integer(), server_default="1", nullable=False),
        sa.Column("rate_limit", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.CheckConstraint("api_method IN ('GET', 'POST', 'PUT', 'DELETE')",
                           name="check_api_method"),
        sa.ForeignKeyConstraint(["history_id"], ["issue_processing_history.id"],
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("idx_jah_created_at", "jira_api_history",
                    [sa.literal_column("created_at DESC")], unique=False)
    op.create_index("idx_jah_history_id", "jira_api_history", ["history_id"], unique=False)


def downgrade() -> None:
    op.drop_table("jira_api_history")
    op.drop_column("issue_processing_history", "jira_comment_id")
    op.drop_index("idx_iph_parent_history_id", table_name="issue_processing_history")
    op.drop_column("issue_processing_history", "parent_history_id")
    op.drop_constraint("check_run_kind", "issue_processing_history", type_="check")
    op.drop_column("issue_processing_history", "run_kind")
