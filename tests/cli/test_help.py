"""The help says how each option is used: flags take no value."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli.app import app

runner = CliRunner()


class TestTheHelp:
    @pytest.mark.parametrize("command", [["process"], ["serve"], ["history"], ["db", "upgrade"],
                                         ["maintenance", "backup-database"]])
    def test_no_flag_is_shown_as_taking_a_value(self, command: list[str]) -> None:
        shown = runner.invoke(app, [*command, "--help"])
        assert shown.exit_code == 0, shown.output
        assert "<bool>" not in shown.output

    def test_force_is_shown_as_a_flag(self) -> None:
        shown = runner.invoke(app, ["process", "--help"]).output
        assert "--force " in shown and "--force <" not in shown
