"""History writes never fail on text PostgreSQL refuses: NUL and unpaired surrogates in text
and JSONB columns are stored as U+FFFD, so a run's record is kept whatever an outside service
put into an error or an answer."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.engine import URL

from db.models import IssueProcessingHistory as Run
from db.session import connect_engine

HOSTILE = "a\x00b \ud800 c"


class TestHostileTextInHistory:
    def test_text_and_jsonb_columns_keep_the_row_with_replacement_characters(
        self, database_url: URL
    ) -> None:
        engine = connect_engine(database_url)
        try:
            with engine.begin() as conn:
                run_id = conn.execute(insert(Run).values(
                    issue_key="MAT-1", status="failed", error_message=HOSTILE,
                    issue_data={"summary": HOSTILE, HOSTILE: [HOSTILE]},
                    result_data={"files": [{"error": HOSTILE}]},
                ).returning(Run.id)).scalar_one()
            with engine.connect() as conn:
                row = conn.execute(select(Run.error_message, Run.issue_data, Run.result_data)
                                   .where(Run.id == run_id)).one()
        finally:
            engine.dispose()
        clean = "a\ufffdb \ufffd c"
        assert row.error_message == clean
        assert row.issue_data == {"summary": clean, clean: [clean]}
        assert row.result_data == {"files": [{"error": clean}]}
