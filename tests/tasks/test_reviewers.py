"""Who is asked to review a new PR: PR_REVIEWERS, then the issue's reporter when REVIEWER_MAP
maps them (by Jira accountId, else email, without regard to case), each once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from base.errors import ConfigError
from base.settings import Settings
from tasks.pull_request import reviewers


def _issue(**reporter: str) -> dict[str, Any]:
    return {"issue": {"key": "MAT-1", "fields": {"summary": "s", "reporter": reporter}}}


def _settings(tmp_path: Path, mapping: str | None, pr_reviewers: str = "") -> Settings:
    values = {"PR_REVIEWERS": pr_reviewers}
    if mapping is not None:
        path = tmp_path / "reviewers.yaml"
        path.write_text(mapping, encoding="utf-8")
        values["REVIEWER_MAP"] = str(path)
    return Settings.from_values(values)


def test_the_mapped_reporter_follows_the_configured_reviewers_once(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "557058:kim: '{kim-uuid}'\nlee@example.com: '{lee-uuid}'\n",
                         pr_reviewers="{lead-uuid}, {kim-uuid}")
    assert reviewers(settings, _issue(accountId="557058:kim")) == ("{lead-uuid}", "{kim-uuid}")
    assert reviewers(settings, _issue(accountId="557058:unknown",
                                      emailAddress="Lee@Example.com")) == (
        "{lead-uuid}", "{kim-uuid}", "{lee-uuid}")


def test_without_a_map_or_a_mapping_only_the_configured_reviewers_are_asked(
    tmp_path: Path,
) -> None:
    assert reviewers(_settings(tmp_path, None, "{lead-uuid}"), _issue(accountId="x")) == (
        "{lead-uuid}",)
    assert reviewers(_settings(tmp_path, "someone: '{s}'\n"), _issue(accountId="x")) == ()


def test_a_map_that_is_not_a_mapping_of_strings_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="REVIEWER_MAP .*: a mapping of Jira accountId"):
        reviewers(_settings(tmp_path, "- a list\n"), _issue(accountId="x"))
