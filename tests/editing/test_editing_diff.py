"""The diff built from the edit spans equals a whole-file ``difflib`` diff."""

from __future__ import annotations

import difflib

import pytest

from editing import Edit, apply_edits

ROWS = [f"row {n}: value = {n * 7}\n" for n in range(40)]


@pytest.mark.parametrize(
    ("changes", "hunks"),
    [
        ({0: "row 0 changed\n"}, 1),
        ({1: ""}, 1),
        ({39: "row 39 changed\nand one more\n"}, 1),
        ({0: "first\n", 39: "last\n"}, 2),
        ({10: "ten\n", 14: "fourteen\n"}, 1),
        ({10: "ten\n", 17: "seventeen\n"}, 1),  # six lines apart: the contexts touch
        ({10: "ten\n", 18: "eighteen\n"}, 2),
        ({2: "two\nand a half\n", 5: "", 8: "eight\n", 30: "thirty\n"}, 2),
    ],
)
def test_the_diff_equals_difflib_on_the_whole_file(changes: dict[int, str], hunks: int) -> None:
    edits = [Edit(ROWS[row], text) for row, text in changes.items()]
    result = apply_edits("".join(ROWS).encode(), edits, path="t.txt")
    new = [changes.get(row, line) for row, line in enumerate(ROWS)]
    expected = difflib.unified_diff(ROWS, "".join(new).splitlines(keepends=True),
                                    "a/t.txt", "b/t.txt")
    assert result.diff == "".join(expected)
    assert result.hunk_count == hunks
