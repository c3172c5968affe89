"""Daily stats rollup: closed UTC days of runs, git-host calls and LLM calls, for /stats.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stats_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("processing", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("files_modified", sa.BigInteger(), nullable=False),
        sa.Column("duration_count", sa.Integer(), nullable=False),
        sa.Column("duration_sum", sa.Numeric(18, 3), nullable=False),
        sa.Column("duration_hist", sa.ARRAY(sa.Integer()), nullable=False),
        sa.Column("duration_hist_sum", sa.ARRAY(sa.Double()), nullable=False),
        sa.Column("bitbucket_calls", sa.Integer(), nullable=False),
        sa.Column("bitbucket_errors", sa.Integer(), nullable=False),
        sa.Column("rolled_up_at", sa.DateTime(timezone=True),
                  server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "stats_llm_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("call_type", sa.String(length=50), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("cache_hits", sa.Integer(), nullable=False),
        sa.Column("priced_calls", sa.Integer(), nullable=False),
        sa.Column("unpriced_calls", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Numeric(18, 6), nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cached_tokens", sa.BigInteger(), nullable=False),
        sa.Column("total_tokens", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "model", "call_type"),
    )


def downgrade() -> None:
    op.drop_table("stats_llm_daily")
    op.drop_table("stats_daily")
