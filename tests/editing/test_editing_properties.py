"""Random files and random edits: exact bytes, the round trip, and a diff that patches."""

from __future__ import annotations

import codecs
import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from editing import Edit, apply_edits, decide_encoding

ENCODINGS = {  # name -> (codec, bom, may hold non-BMP characters)
    "cp949": ("cp949", b"", False),
    "utf-8": ("utf-8", b"", True),
    "utf-8-sig": ("utf-8", codecs.BOM_UTF8, True),
    "utf-16-le": ("utf-16-le", codecs.BOM_UTF16_LE, True),
    "utf-16-be": ("utf-16-be", codecs.BOM_UTF16_BE, True),
}
KOREAN = "가각간갈감강개거건걸겨고구국그금기나다라마바사아자차카타파하똠햏뷁"
BASE = "abcxyz09 \t_{};=()\"'/*" + KOREAN
HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@$")


def alphabet(name: str) -> st.SearchStrategy[str]:
    extra = "😀丟" if ENCODINGS[name][2] else ""
    return st.text(st.sampled_from(BASE + extra), max_size=12)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]], dict[int, str]]:
    name = draw(st.sampled_from(sorted(ENCODINGS)))
    bodies = draw(st.lists(alphabet(name), min_size=1, max_size=12))
    endings = [draw(st.sampled_from(["\n", "\r\n"])) for _ in bodies]
    if draw(st.booleans()):
        endings[-1] = ""
    pairs = enumerate(zip(bodies, endings, strict=True))
    rows = [(f"L{i}:{body}", ending) for i, (body, ending) in pairs]
    targets = draw(st.sets(st.integers(0, len(rows) - 1), min_size=1, max_size=len(rows)))
    lines = st.lists(alphabet(name), min_size=0, max_size=3).map("\n".join)
    replacements = {row: draw(lines) for row in sorted(targets)}
    return name, rows, replacements


def patch(old: str, diff: str) -> str:
    """Apply a unified diff (as produced for history) to ``old``."""
    lines = old.splitlines(keepends=True)
    out, cursor, previous = [], 0, ""
    for line in diff.splitlines(keepends=True)[2:]:
        if match := HUNK.match(line.rstrip("\n")):
            start = int(match.group(1)) - (0 if match.group(2) == "0" else 1)
            out += lines[cursor:start]
            cursor = start
        elif line.startswith("\\"):
            if previous != "-":
                out[-1] = out[-1].removesuffix("\n")
        elif line[0] in " -":
            cursor += 1
            if line[0] == " ":
                out.append(line[1:])
        else:
            out.append(line[1:])
        previous = line[0]
    return "".join(out + lines[cursor:])


def expected_rows(rows: list[tuple[str, str]], replacements: dict[int, str]) -> str:
    parts = []
    for row, (content, ending) in enumerate(rows):
        if row in replacements:
            joiner = ending or (rows[row - 1][1] if row else "\n")
            parts.append(replacements[row].replace("\n", joiner) + ending)
        else:
            parts.append(content + ending)
    return "".join(parts)


class TestRandomEdits:
    @settings(max_examples=80, deadline=None, database=None)
    @given(scenarios())
    def test_edits_give_exact_bytes_and_round_trip(
        self, scenario: tuple[str, list[tuple[str, str]], dict[int, str]]
    ) -> None:
        name, rows, replacements = scenario
        codec, bom, _ = ENCODINGS[name]
        original = bom + "".join(c + e for c, e in rows).encode(codec)
        edits = [Edit(rows[row][0], text) for row, text in replacements.items()
                 if text != rows[row][0]]
        if not edits:
            return
        result = apply_edits(original, edits, path="r.txt", configured_encoding=name)
        expected = expected_rows(rows, replacements)
        assert result.data == bom + expected.encode(codec)
        first = min(replacements)
        prefix = bom + "".join(c + e for c, e in rows[:first]).encode(codec)
        assert result.data.startswith(prefix)
        decoded = decide_encoding(result.data, configured=name)
        assert decoded.text == expected

    @settings(max_examples=80, deadline=None, database=None)
    @given(scenarios())
    @example(("cp949", [("L0:", "\n"), ("L1:", "")], {0: "", 1: ""}))
    @example(("cp949", [("L0:", "")], {0: ""}))
    def test_the_diff_patches_the_old_text_into_the_new(
        self, scenario: tuple[str, list[tuple[str, str]], dict[int, str]]
    ) -> None:
        name, rows, replacements = scenario
        old = "".join(c + e for c, e in rows).replace("\r\n", "\n")
        edits = [Edit(rows[row][0], text) for row, text in replacements.items()
                 if text != rows[row][0]]
        if not edits:
            return
        result = apply_edits(old.encode(), edits, path="r.txt", configured_encoding="utf-8")
        assert patch(old, result.diff) == result.data.decode()
        assert result.diff.count("\n@@ ") + result.diff.startswith("@@") == result.hunk_count
