"""Analytics rollup: closed UTC days of file records (and their sum per path) and failures, and
hours of completed runs and git-host calls, for the /stats analytics routes.

The existing rollup is emptied: its days were written before these tables existed, and the
rollup is contiguous (one "rolled through" day for every table), so the next stats request
rolls every closed day up again, into all the tables at once.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "stats_file_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("file_path", sa.String(length=500), nullable=False),
        sa.Column("modifications", sa.Integer(), nullable=False),
        sa.Column("issues", sa.Integer(), nullable=False),
        sa.Column("last_modified", _tz(), nullable=False),
        sa.PrimaryKeyConstraint("day", "file_path"),
    )
    op.create_table(
        "stats_file_total",
        sa.Column("file_path", sa.String(length=500), nullable=False),
        sa.Column("modifications", sa.BigInteger(), nullable=False),
        sa.Column("issues", sa.BigInteger(), nullable=False),
        sa.Column("last_modified", _tz(), nullable=False),
        sa.PrimaryKeyConstraint("file_path"),
    )
    op.create_table(
        "stats_failure_daily",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("error_preview", sa.String(length=100), nullable=True),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("last_seen", _tz(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("idx_sfd_day", "stats_failure_daily", ["day"])
    op.create_table(
        "stats_run_hourly",
        sa.Column("hour", _tz(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("duration_count", sa.Integer(), nullable=False),
        sa.Column("duration_sum", sa.Numeric(18, 3), nullable=False),
        sa.PrimaryKeyConstraint("hour"),
    )
    op.create_table(
        "stats_git_hourly",
        sa.Column("hour", _tz(), nullable=False),
        sa.Column("api_method", sa.String(length=10), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("duration_count", sa.Integer(), nullable=False),
        sa.Column("duration_sum", sa.Numeric(18, 3), nullable=False),
        sa.PrimaryKeyConstraint("hour", "api_method"),
    )
    op.execute("TRUNCATE stats_daily, stats_llm_daily")


def downgrade() -> None:
    op.drop_table("stats_git_hourly")
    op.drop_table("stats_run_hourly")
    op.drop_index("idx_sfd_day", table_name="stats_failure_daily")
    op.drop_table("stats_failure_daily")
    op.drop_table("stats_file_total")
    op.drop_table("stats_file_daily")
