"""TARGETS_FILE refuses what would do harm, with one line that names the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from base.errors import ConfigError
from base.targets import load_targets

TARGET = "  - path: src/MaterialDB.cpp\n    instructions: add the material\n"


def targets_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "targets.yaml"
    path.write_text(text, encoding="utf-8")
    return path


class TestTheTargetsFile:
    def test_a_yaml_error_is_one_line_naming_the_file_and_the_place(self, tmp_path: Path) -> None:
        path = targets_file(tmp_path, "targets:\n  - path: a\n   instructions: [oops\n")
        with pytest.raises(ConfigError) as refused:
            load_targets(path)
        message = str(refused.value)
        assert "\n" not in message
        assert message.startswith(f"TARGETS_FILE {path} is not valid YAML: line ")

    @pytest.mark.parametrize("spec_path", ["src/MaterialDB.cpp", "src/{issue_key}.cpp"])
    def test_a_spec_path_that_could_overwrite_a_target_is_refused(
        self, tmp_path: Path, spec_path: str
    ) -> None:
        path = targets_file(tmp_path, f"spec_path: {spec_path}\ntargets:\n{TARGET}"
                            "  - path: src/MAT-1.cpp\n    instructions: x\n")
        with pytest.raises(ConfigError, match="would overwrite the target"):
            load_targets(path)

    def test_a_spec_path_beside_the_targets_is_accepted(self, tmp_path: Path) -> None:
        path = targets_file(tmp_path, f"spec_path: docs/{{issue_key}}.md\ntargets:\n{TARGET}")
        assert load_targets(path).spec_file("MAT-7") == "docs/MAT-7.md"
