"""Indentation the model dropped and blank lines it added, after Aider's documented cases.

Source: Aider-AI/aider, ``tests/basic/test_editblock.py`` (the ``test_replace_part_with_*``
and ``test_replace_multiple_matches*`` cases) and ``aider/coders/editblock_coder.py``
(``replace_part_with_missing_leading_whitespace`` and the spurious leading blank line of
its issue #25). The file texts here are our own, shaped like those cases; each test names
the case it follows. Python results are also compiled, since broken indentation is the bug.
"""

from __future__ import annotations

import pytest

from editing import (
    AmbiguousIndentationError,
    AmbiguousMatchError,
    Edit,
    EolStyle,
    MatchKind,
    NoMatchError,
    apply_edits,
)

PY = (
    "class Material:\n"
    "    def density(self):\n"
    "        value = self._density  # 밀도\n"
    "        return value\n"
    "\n"
    "    def name(self):\n"
    '        return "강철"\n'
)
CPP = (
    "int Material::Density() const\r\n"
    "{\r\n"
    "\t\tint value = m_density;\t// 밀도 똠\r\n"
    "\t\treturn value;\r\n"
    "}\r\n"
)


def edited(text: str, edit: Edit, *, codec: str = "utf-8") -> tuple[str, MatchKind]:
    result = apply_edits(text.encode(codec), [edit], path="m.py", configured_encoding=codec)
    return result.data.decode(codec), result.match_kinds[0]


def compiles(text: str) -> bool:
    compile(text, "m.py", "exec")
    return True


class TestAidersMultiLineIndentationCasesStillPass:
    @pytest.mark.parametrize(
        ("search", "replace", "old", "new"),
        [  # test_replace_part_with_missing_leading_whitespace: every line lost its indent
            ("value = self._density  # 밀도\nreturn value\n",
             "value = self._density * 2  # 밀도\nreturn value\n",
             "self._density  #", "self._density * 2  #"),
            # test_replace_part_with_missing_varied_leading_whitespace: lost the same amount
            ("def density(self):\n    value = self._density  # 밀도\n",
             "def density(self):\n    value = self._density or 0  # 밀도\n",
             "self._density  #", "self._density or 0  #"),
            # test_replace_part_with_just_some_missing_leading_whitespace: lost part of it
            ("  def density(self):\n      value = self._density  # 밀도\n",
             "  def density(self):\n      value = self._density  # 밀도\n      if value is None:\n"
             "          value = 0.0\n",
             "# 밀도\n", "# 밀도\n        if value is None:\n            value = 0.0\n"),
        ],
        ids=["missing", "varied", "just-some-missing"],
    )
    def test_the_replacement_moves_with_the_search(
        self, search: str, replace: str, old: str, new: str
    ) -> None:
        text, kind = edited(PY, Edit(search, replace))
        assert text == PY.replace(old, new) and compiles(text)
        assert kind is MatchKind.INDENTATION


class TestAOneLineSearchWithoutItsIndentation:
    def test_later_lines_of_the_replacement_take_the_dropped_indentation(self) -> None:
        # replace_part_with_missing_leading_whitespace, for a search of one line
        search, replace = "return value\n", "value += 1\nreturn value\n"
        text, kind = edited(PY, Edit(search, replace))
        assert text == PY.replace("        return value\n",
                                  "        value += 1\n        return value\n")
        assert kind is MatchKind.INDENTATION and compiles(text)

    def test_a_nested_block_keeps_its_depth_relative_to_the_search(self) -> None:
        replace = "if value is None:\n    value = 0\nreturn value"
        text, _ = edited(PY, Edit("return value", replace))
        assert ("        if value is None:\n            value = 0\n        return value\n"
                in text) and compiles(text)

    def test_a_search_with_part_of_the_indentation_moves_by_the_rest(self) -> None:
        # test_replace_part_with_just_some_missing_leading_whitespace, for one line
        text, _ = edited(PY, Edit("    return value", "    value = abs(value)\n    return value"))
        assert "        value = abs(value)\n        return value\n" in text and compiles(text)

    def test_a_fragment_of_a_line_continues_at_the_line_indentation(self) -> None:
        text, kind = edited(PY, Edit("self._density  # 밀도",
                                     "self._density\nvalue = value or 0  # 밀도"))
        assert "        value = self._density\n        value = value or 0  # 밀도\n" in text
        assert kind is MatchKind.INDENTATION and compiles(text)

    def test_a_fragment_whose_later_lines_are_already_indented_keeps_them(self) -> None:
        text, kind = edited(PY, Edit("self._density  # 밀도",
                                     "self._density\n        value = value or 0  # 밀도"))
        assert "        value = self._density\n        value = value or 0  # 밀도\n" in text
        assert kind is MatchKind.EXACT

    def test_a_whole_quoted_line_is_not_touched(self) -> None:
        text, kind = edited(PY, Edit("        return value\n", "        return value\n# 끝\n"))
        assert "        return value\n# 끝\n" in text and kind is MatchKind.EXACT

    def test_a_multi_line_search_found_exactly_keeps_the_file_frame(self) -> None:
        # its later lines matched with the file's own indentation, so the model used it
        search = 'return "강철"'
        text, _ = edited(PY, Edit(f"def name(self):\n        {search}",
                                  f"def name(self):\n        # 이름\n        {search}"))
        assert '    def name(self):\n        # 이름\n        return "강철"' in text

    def test_later_lines_that_may_already_be_indented_are_refused(self) -> None:
        edit = Edit("return value\n", "value += 1\n        return value\n")
        with pytest.raises(AmbiguousIndentationError) as caught:
            apply_edits(PY.encode(), [edit], path="m.py")
        message = str(caught.value)
        assert message.startswith("Edit 0: the search text starting 'return value' matched "
                                  "line 4 without its indentation '        '")
        assert "Quote the whole line with its indentation" in message
        assert caught.value.edit_index == 0 and "nothing was written" in message

    @pytest.mark.parametrize("codec", ["cp949", "utf-8"])
    @pytest.mark.parametrize("eol", ["\n", "\r\n"], ids=["lf", "crlf"])
    def test_the_file_encoding_endings_and_indent_characters_are_kept(
        self, codec: str, eol: str
    ) -> None:
        original = PY.replace("\n", eol).encode(codec)
        edit = Edit("return value", "# 값 반환 똠\nreturn value")
        result = apply_edits(original, [edit], path="m.py", configured_encoding=codec)
        expected = PY.replace("        return value\n",
                              "        # 값 반환 똠\n        return value\n")
        assert result.data == expected.replace("\n", eol).encode(codec)
        assert result.eol is (EolStyle.CRLF if eol == "\r\n" else EolStyle.LF)

    def test_a_tab_indented_cp949_crlf_file_gains_tabs(self) -> None:
        edit = Edit("return value;", "// 확인 햏\nreturn value;")
        result = apply_edits(CPP.encode("cp949"), [edit], path="m.cpp")
        assert result.data == CPP.replace("\t\treturn value;\r\n",
                                          "\t\t// 확인 햏\r\n\t\treturn value;\r\n").encode("cp949")


class TestBlankLinesAtTheEdgesOfASearch:
    def test_a_spurious_leading_blank_line_is_ignored(self) -> None:
        # test_replace_part_with_missing_leading_whitespace_including_blank_line (issue #25)
        search = "\n  value = self._density  # 밀도\n  return value\n"
        replace = "  value = self._density or 0  # 밀도\n  return value\n"
        text, kind = edited(PY, Edit(search, replace))
        assert text == PY.replace("self._density  #", "self._density or 0  #")
        assert kind is MatchKind.BLANK_LINES

    def test_a_spurious_trailing_blank_line_is_ignored(self) -> None:
        edit = Edit("    def density(self):\n\n", "    def density(self) -> float:\n")
        text, kind = edited(PY, edit)
        assert text == PY.replace("density(self):", "density(self) -> float:")
        assert kind is MatchKind.BLANK_LINES

    def test_the_same_blank_lines_in_the_replacement_are_not_added(self) -> None:
        edit = Edit("\n\n        return value\n\n", "\n\n        return value or 0\n\n")
        text, _ = edited(PY, edit)
        assert text == PY.replace("return value\n", "return value or 0\n")

    def test_an_extra_blank_line_in_the_replacement_is_kept(self) -> None:
        text, _ = edited(PY, Edit("\n        return value\n", "\n\n        return value\n"))
        assert text == PY.replace("        return value\n", "\n        return value\n")

    def test_a_blank_line_the_file_has_is_matched_as_written(self) -> None:
        text, kind = edited(PY, Edit("\n    def name(self):\n", "    def name(self):\n"))
        assert text == PY.replace("\n\n    def name", "\n    def name")
        assert kind is MatchKind.EXACT

    def test_a_leading_blank_line_never_joins_the_line_above(self) -> None:
        # the same case with the indentation right: "\n" + the line is also a substring
        text, kind = edited(PY, Edit("\n        return value\n", "        return value or 0\n"))
        assert text == PY.replace("return value\n", "return value or 0\n")
        assert kind is MatchKind.BLANK_LINES and compiles(text)

    def test_a_trailing_blank_line_past_the_end_keeps_the_final_newline(self) -> None:
        text, kind = edited(PY, Edit('        return "강철"\n\n', '        return "구리"\n'))
        assert text == PY.replace("강철", "구리") and kind is MatchKind.BLANK_LINES

    def test_a_trailing_scrap_of_indentation_is_not_taken_from_the_next_line(self) -> None:
        # "\n" plus part of the next line's indentation is also a substring
        edit = Edit("    def density(self):\n    ", "    def density(self) -> float:\n")
        text, kind = edited(PY, edit)
        assert text == PY.replace("density(self):", "density(self) -> float:")
        assert kind is MatchKind.BLANK_LINES and compiles(text)

    def test_the_rest_must_still_be_unique(self) -> None:
        with pytest.raises(AmbiguousMatchError, match=r"lines 2, 6; matched blank-lines"):
            edited(PY, Edit("self):\n\n", "self) -> str:\n\n"))

    def test_an_edit_that_only_removed_the_missing_blank_line_still_fails(self) -> None:
        with pytest.raises(NoMatchError, match="blank lines at its edges"):
            edited(PY, Edit("\n        return value\n", "        return value\n"))

    def test_a_cp949_crlf_file_is_edited_byte_exactly(self) -> None:
        edit = Edit("\n\t\treturn value;\n\n", "\t\treturn value * 2;\t// 두 배\n")
        result = apply_edits(CPP.encode("cp949"), [edit], path="m.cpp")
        assert result.data == CPP.replace("return value;", "return value * 2;\t// 두 배").encode(
            "cp949")
        assert result.match_kinds == (MatchKind.BLANK_LINES,) and result.eol is EolStyle.CRLF


class TestWhereThisEngineDiffersFromAider:
    def test_a_search_found_twice_is_refused_rather_than_replaced_first(self) -> None:
        # test_replace_multiple_matches(_missing_whitespace): Aider edits the first one
        with pytest.raises(AmbiguousMatchError, match="lines 3, 4"):
            edited(PY, Edit("value", "amount"))
