"""Spend control: the run's cost estimate and ledger share, the daily LLM ledger with its
in-flight reservations, caps set at run time, and same-day cost alerts.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RUNS = "issue_processing_history"


def upgrade() -> None:
    op.add_column(_RUNS, sa.Column("cost_estimate_usd", sa.Numeric(12, 6), nullable=True))
    op.add_column(_RUNS, sa.Column("cost_estimate_worst_usd", sa.Numeric(12, 6), nullable=True))
    op.add_column(_RUNS, sa.Column("cost_estimate_method", sa.String(length=80), nullable=True))
    op.add_column(_RUNS, sa.Column("llm_reserved_usd", sa.Numeric(12, 6), server_default="0",
                                   nullable=False))
    op.add_column(_RUNS, sa.Column("llm_spent_usd", sa.Numeric(12, 6), server_default="0",
                                   nullable=False))
    op.create_table(
        "llm_budget_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reserved_usd", sa.Numeric(14, 6), server_default="0", nullable=False),
        sa.Column("spent_usd", sa.Numeric(14, 6), server_default="0", nullable=False),
        sa.Column("calls", sa.Integer(), server_default="0", nullable=False),
        sa.Column("refusals", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "llm_budget_reservation",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("history_id", sa.Integer(), nullable=True),
        sa.Column("amount_usd", sa.Numeric(12, 6), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.ForeignKeyConstraint(["history_id"], [f"{_RUNS}.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("idx_lbr_history_id", "llm_budget_reservation", ["history_id"])
    op.create_table(
        "llm_budget_cap",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("usd", sa.Numeric(12, 6), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.CheckConstraint("name IN ('per_run', 'per_day')", name="check_name"),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "cost_alert",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("threshold_usd", sa.Numeric(12, 6), nullable=False),
        sa.Column("spent_usd", sa.Numeric(14, 6), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("channels", sa.Text(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_cost_alert_day_threshold", "cost_alert", ["day", "threshold_usd"],
                    unique=True)


def downgrade() -> None:
    op.drop_table("cost_alert")
    op.drop_table("llm_budget_cap")
    op.drop_table("llm_budget_reservation")
    op.drop_table("llm_budget_day")
    for column in ("llm_spent_usd", "llm_reserved_usd", "cost_estimate_method",
                   "cost_estimate_worst_usd", "cost_estimate_usd"):
        op.drop_column(_RUNS, column)
