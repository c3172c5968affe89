"""Run routing (PROJECTS_FILE): each issue run names its Jira project and its repository.

`project_key` is the issue key's prefix, which is how Jira makes keys, so it is a generated
column: old rows get it from their keys, and no insert can get it wrong. `repository`
(`workspace/repository` on Bitbucket, the path of a local repository) is recorded by the
claim from the run's route or the single-repository settings. Rows from before this
migration keep it NULL: they went to the one repository configured then, which the database
never recorded (git-host calls keep only endpoint templates), so a value here would be a
guess.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-20 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("issue_processing_history", sa.Column(
        "project_key", sa.String(50), sa.Computed("split_part(issue_key, '-', 1)", persisted=True),
        nullable=True))
    op.add_column("issue_processing_history", sa.Column("repository", sa.Text(), nullable=True))
    op.create_index("idx_iph_project_key", "issue_processing_history", ["project_key"])
    op.create_index("idx_iph_repository", "issue_processing_history", ["repository"])


def downgrade() -> None:
    op.drop_index("idx_iph_repository", table_name="issue_processing_history")
    op.drop_index("idx_iph_project_key", table_name="issue_processing_history")
    op.drop_column("issue_processing_history", "repository")
    op.drop_column("issue_processing_history", "project_key")
