"""The artifacts a person reads: links open in a browser, the files table has totals."""

from __future__ import annotations

from decimal import Decimal

from tasks.artifacts import clickable, files_table
from tasks.outcomes import FileOutcome


class TestArtifacts:
    def test_a_local_pull_request_links_to_its_repository_directory(self) -> None:
        assert clickable("local:///srv/repo#sdb/MAT-1-x") == "file:///srv/repo"
        url = "https://bitbucket.org/acme/shop/pull-requests/7"
        assert clickable(url) == url

    def test_the_totals_row_sums_the_files_and_an_unpriced_file_makes_the_cost_unpriced(
        self
    ) -> None:
        files = [FileOutcome(path="a.cpp", status="applied", action="modified", edit_count=2,
                             hunk_count=1, attempts=1, tokens=100, cost=Decimal("0.01")),
                 FileOutcome(path="b.py", status="failed", action="modified", attempts=3,
                             tokens=50, cost=Decimal("0.02"), error="no match")]
        total = files_table(files)[-1]
        assert total == {"path": "total", "status": "1 of 2 changed", "summary": "",
                         "edits": 2, "hunks": 1, "encoding": "", "attempts": 4, "tokens": 150,
                         "cost": "$0.030000", "diff": ""}
        unpriced = [*files, FileOutcome(path="c.h", status="applied", action="created",
                                        cost=None)]
        assert files_table(unpriced)[-1]["cost"] == "unpriced"
