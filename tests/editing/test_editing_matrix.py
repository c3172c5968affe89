"""Every encoding x line-ending style x position x operation gives the exact expected bytes.

The expected file is built independently, line by line: untouched lines keep
their content and ending, and new lines take the ending of the line they join.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

import pytest

from editing import Edit, EolStyle, apply_edits


@dataclass(frozen=True)
class Encoding:
    name: str
    codec: str
    bom: bytes
    extended: bool  # may hold CP949 extended syllables such as 똠 and 햏


ENCODINGS = [
    Encoding("cp949", "cp949", b"", True),
    Encoding("euc-kr", "euc_kr", b"", False),
    Encoding("utf-8", "utf-8", b"", True),
    Encoding("utf-8-sig", "utf-8", codecs.BOM_UTF8, True),
    Encoding("utf-16-le", "utf-16-le", codecs.BOM_UTF16_LE, True),
    Encoding("utf-16-be", "utf-16-be", codecs.BOM_UTF16_BE, True),
]
ENDINGS = {  # name -> (per-line ending pattern, final newline)
    "lf": (["\n"], True),
    "crlf": (["\r\n"], True),
    "mixed": (["\r\n", "\n", "\n", "\r\n"], True),
    "crlf-no-final-newline": (["\r\n"], False),
}
POSITIONS = {"start": 0, "middle": 6, "end": 9}
OPERATIONS = ("insert", "replace", "delete")


def source_lines(encoding: Encoding) -> list[str]:
    extended = "똠 햏" if encoding.extended else "똑 해"
    return [
        "// 재료 관리 모듈: 한국어 주석을 유지합니다",
        '#include "material.h"',
        "",
        'static const char* kName = "구리 합금";',
        "int Compute(int value)",
        "{",
        "\tint total = value;\t// 합계 계산",
        f"\treturn total;\t// 확장 음절 {extended}",
        "}",
        "// 파일 끝: 강철과 알루미늄",
    ]


def with_endings(lines: list[str], ending_name: str) -> list[tuple[str, str]]:
    pattern, final = ENDINGS[ending_name]
    rows = [(line, pattern[i % len(pattern)]) for i, line in enumerate(lines)]
    if not final:
        rows[-1] = (rows[-1][0], "")
    return rows


def edit_and_expectation(
    rows: list[tuple[str, str]], operation: str, row: int
) -> tuple[Edit, list[tuple[str, str]]]:
    content, ending = rows[row]
    expected = list(rows)
    if operation == "replace":
        expected[row] = (content + " /* 수정됨 */", ending)
        return Edit(content, content + " /* 수정됨 */"), expected
    if operation == "insert":
        joined = ending or rows[row - 1][1]  # the last line may have no ending of its own
        expected[row : row + 1] = [("\t// 새 줄 추가", joined), (content, ending)]
        return Edit(content, "\t// 새 줄 추가\n" + content), expected
    if row == 0:  # delete the first line: quote it with the next one
        following = rows[1][0]
        del expected[0]
        return Edit(f"{content}\n{following}", following), expected
    previous = rows[row - 1][0]
    expected[row - 1 : row + 1] = [(previous, ending)]
    return Edit(f"{previous}\n{content}", previous), expected


def encode(rows: list[tuple[str, str]], encoding: Encoding) -> bytes:
    return encoding.bom + "".join(c + e for c, e in rows).encode(encoding.codec)


@pytest.mark.parametrize("encoding", ENCODINGS, ids=lambda e: e.name)
@pytest.mark.parametrize("ending_name", list(ENDINGS))
@pytest.mark.parametrize("position", list(POSITIONS))
@pytest.mark.parametrize("operation", OPERATIONS)
class TestEditMatrix:
    def test_the_output_is_exactly_the_expected_bytes(
        self, encoding: Encoding, ending_name: str, position: str, operation: str
    ) -> None:
        rows = with_endings(source_lines(encoding), ending_name)
        edit, expected = edit_and_expectation(rows, operation, POSITIONS[position])
        result = apply_edits(encode(rows, encoding), [edit], path="src/material.cpp")
        assert result.data == encode(expected, encoding)
        assert result.bom is bool(encoding.bom)
        assert result.hunk_count == 1 and result.edit_count == 1

    def test_the_style_and_encoding_are_recorded(
        self, encoding: Encoding, ending_name: str, position: str, operation: str
    ) -> None:
        rows = with_endings(source_lines(encoding), ending_name)
        edit, _ = edit_and_expectation(rows, operation, POSITIONS[position])
        result = apply_edits(encode(rows, encoding), [edit], path="src/material.cpp")
        style = {"lf": EolStyle.LF, "mixed": EolStyle.MIXED}.get(ending_name, EolStyle.CRLF)
        assert result.eol is style
        assert result.original_encoding == result.final_encoding
        assert result.final_encoding.startswith("cp949" if encoding.name.startswith(("cp", "euc"))
                                                else encoding.codec)
