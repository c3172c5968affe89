"""Random files and random edits: exact bytes, the round trip, and a diff that patches."""

from __future__ import annotations

import codecs
import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from editing import Edit, MatchKind, apply_edits, decide_encoding

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


@st.composite
def dropped_indents(draw: st.DrawFn) -> tuple[str, str, list[str], int, list[str]]:
    """An indented file, the row to edit, and replacement lines in the search's frame.

    After Aider's replace_part_with_missing_leading_whitespace (aider/coders/
    editblock_coder.py): the search is one line without its indentation, and the model
    indents the replacement as if that line were at column 0.
    """
    name = draw(st.sampled_from(sorted(ENCODINGS)))
    unit = draw(st.sampled_from(["\t", "    ", "  "]))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    depths = draw(st.lists(st.integers(0, 3), min_size=1, max_size=10))
    target = draw(st.integers(0, len(depths) - 1))
    depths[target] = max(1, depths[target])
    rows = [unit * depth + f"L{i}:" + draw(alphabet(name)) for i, depth in enumerate(depths)]
    later = draw(st.lists(st.integers(0, 2), min_size=1, max_size=3))
    later[draw(st.integers(0, len(later) - 1))] = 0  # one at the search's own depth
    new = [unit * depth + f"N{j}:" + draw(alphabet(name))
           for j, depth in enumerate([draw(st.integers(0, 1)), *later])]
    return name, eol, rows, target, new


@st.composite
def blank_edges(draw: st.DrawFn) -> tuple[str, str, list[str], int, int, list[str], str, str]:
    """A file without blank lines, a block of it, and blank lines the search adds around it."""
    name = draw(st.sampled_from(sorted(ENCODINGS)))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    rows = [f"L{i}:" + draw(alphabet(name)) for i in range(draw(st.integers(1, 8)))]
    first = draw(st.integers(0, len(rows) - 1))
    last = draw(st.integers(first, min(first + 2, len(rows) - 1)))
    new = [f"N{j}:" + draw(alphabet(name)) for j in range(draw(st.integers(1, 3)))]
    blank = st.sampled_from(["\n", " \n", "\t\n"])
    lead = "".join(draw(st.lists(blank, max_size=2)))
    trail = "".join(draw(st.lists(blank, min_size=0 if lead else 1, max_size=2)))
    return name, eol, rows, first, last, new, lead, trail


class TestLooseIndentationAndBlankLines:
    @settings(max_examples=80, deadline=None, database=None)
    @given(dropped_indents(), st.booleans())
    def test_a_replacement_for_a_line_without_its_indentation_takes_that_indentation(
        self, scenario: tuple[str, str, list[str], int, list[str]], whole_line: bool
    ) -> None:
        name, eol, rows, target, new = scenario
        codec, bom, _ = ENCODINGS[name]
        indent = rows[target][: len(rows[target]) - len(rows[target].lstrip())]
        newline = "\n" if whole_line else ""
        edit = Edit(rows[target].lstrip() + newline, "\n".join(new) + newline)
        result = apply_edits(bom + eol.join([*rows, ""]).encode(codec), [edit], path="r.py",
                             configured_encoding=name)
        expected = [*rows[:target], *(indent + line for line in new), *rows[target + 1 :], ""]
        assert result.data == bom + eol.join(expected).encode(codec)

    @settings(max_examples=80, deadline=None, database=None)
    @given(blank_edges(), st.booleans())
    def test_blank_lines_the_file_lacks_at_the_search_edges_change_nothing(
        self, scenario: tuple[str, str, list[str], int, int, list[str], str, str], copied: bool
    ) -> None:
        name, eol, rows, first, last, new, lead, trail = scenario
        codec, bom, _ = ENCODINGS[name]
        core = "\n".join(new) + "\n"
        replace = lead + core + trail if copied else core
        edit = Edit(lead + "\n".join(rows[first : last + 1]) + "\n" + trail, replace)
        result = apply_edits(bom + eol.join([*rows, ""]).encode(codec), [edit], path="r.txt",
                             configured_encoding=name)
        expected = [*rows[:first], *new, *rows[last + 1 :], ""]
        assert result.data == bom + eol.join(expected).encode(codec)
        assert result.match_kinds == (MatchKind.BLANK_LINES,)
