"""Webhook outbox: an accepted delivery is its `webhook_delivery` row, written as the run to
start (deployment, parameters, tags, idempotency key) before the 202; the app's hand-off loop
turns it into a flow run and records the run, the time, and each failed attempt on the row.

A row waiting for its hand-off has the new outcome `queued`; a handed-off one is `accepted`,
as every delivery that started a run was before. A downgrade leaves queued rows `failed`
with a reason: the older code cannot hand them off.

Before, a delivery that Prefect did not take kept its delivery id on a `failed` row (503), so
that Jira's retry would try again. Now such a row would answer the retry "duplicate": the id
moves into the reason, as it does for refused requests, and the retry is judged afresh.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTCOMES = ("accepted", "duplicate", "ignored", "rejected", "failed")


def _outcome_check(outcomes: tuple[str, ...]) -> None:
    op.drop_constraint("check_outcome", "webhook_delivery", type_="check")
    op.create_check_constraint("check_outcome", "webhook_delivery",
                               f"outcome IN ({', '.join(repr(o) for o in outcomes)})")


def upgrade() -> None:
    _outcome_check(("queued", *OUTCOMES))
    op.execute("UPDATE webhook_delivery SET reason = 'delivery ' || delivery_id || ': ' || "
               "COALESCE(reason, ''), delivery_id = NULL "
               "WHERE outcome = 'failed' AND delivery_id IS NOT NULL")
    op.add_column("webhook_delivery", sa.Column("deployment", sa.String(200), nullable=True))
    op.add_column("webhook_delivery", sa.Column(
        "run_parameters", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column("webhook_delivery", sa.Column(
        "run_tags", postgresql.ARRAY(sa.String(100)), nullable=True))
    op.add_column("webhook_delivery", sa.Column("idempotency_key", sa.Text(), nullable=True))
    op.add_column("webhook_delivery", sa.Column(
        "handoff_due_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("webhook_delivery", sa.Column(
        "handoff_attempts", sa.Integer(), server_default="0", nullable=False))
    op.add_column("webhook_delivery", sa.Column("handoff_error", sa.Text(), nullable=True))
    op.add_column("webhook_delivery", sa.Column(
        "handed_off_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("idx_wd_handoff_due", "webhook_delivery", ["handoff_due_at"], unique=False,
                    postgresql_where=sa.text("outcome = 'queued'"))


def downgrade() -> None:
    op.execute("UPDATE webhook_delivery SET outcome = 'failed', reason = 'queued for hand-off "
               "when the schema was downgraded; never handed off' WHERE outcome = 'queued'")
    op.drop_index("idx_wd_handoff_due", table_name="webhook_delivery",
                  postgresql_where=sa.text("outcome = 'queued'"))
    for name in ("handed_off_at", "handoff_error", "handoff_attempts", "handoff_due_at",
                 "idempotency_key", "run_tags", "run_parameters", "deployment"):
        op.drop_column("webhook_delivery", name)
    _outcome_check(OUTCOMES)
