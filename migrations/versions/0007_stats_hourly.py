"""Stats rollup for /stats and /stats/daily at any size: closed UTC hours of the days not rolled
up yet (normally today) in `stats_hourly`, so today's figures come from its closed hours plus
the last hour's rows rather than from a day of LLM calls; and, per closed day in `stats_daily`,
its LLM totals over all models and its own p50/p95, so /stats/daily reads one narrow row a day,
and the duration histogram summed through that day, so /stats over any span reads two rows.

The daily rollup is emptied, as 0006 did: the new columns of its days are computed by the
rollup's own code, so the next stats request rolls every closed day up again (the analytics
tables' rows for those days are replaced, not counted twice).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LLM_TOTALS = (
    ("llm_calls", sa.Integer),
    ("llm_cache_hits", sa.Integer),
    ("llm_priced_calls", sa.Integer),
    ("llm_unpriced_calls", sa.Integer),
    ("llm_cost", lambda: sa.Numeric(18, 6)),
    ("llm_prompt_tokens", sa.BigInteger),
    ("llm_completion_tokens", sa.BigInteger),
    ("llm_cached_tokens", sa.BigInteger),
    ("llm_total_tokens", sa.BigInteger),
)


def _llm_columns() -> list[sa.Column]:
    return [sa.Column(name, kind(), nullable=False) for name, kind in LLM_TOTALS]


def upgrade() -> None:
    op.execute("TRUNCATE stats_daily, stats_llm_daily")
    for column in _llm_columns():
        op.add_column("stats_daily", column)
    op.add_column("stats_daily", sa.Column("p50_seconds", sa.Double(), nullable=True))
    op.add_column("stats_daily", sa.Column("p95_seconds", sa.Double(), nullable=True))
    op.add_column("stats_daily", sa.Column("duration_cum", sa.ARRAY(sa.BigInteger()),
                                           nullable=False))
    op.add_column("stats_daily", sa.Column("duration_cum_sum", sa.ARRAY(sa.Double()),
                                           nullable=False))
    op.create_table(
        "stats_hourly",
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
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
        *_llm_columns(),
        sa.PrimaryKeyConstraint("hour"),
    )


def downgrade() -> None:
    op.drop_table("stats_hourly")
    for name in ("duration_cum_sum", "duration_cum", "p95_seconds", "p50_seconds",
                 *(name for name, _ in reversed(LLM_TOTALS))):
        op.drop_column("stats_daily", name)
