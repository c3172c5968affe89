"""Matching ladder, refusals and their messages, Korean content and file creation."""

from __future__ import annotations

import codecs

import pytest

from editing import (
    AmbiguousMatchError,
    BinaryFileError,
    BlankSearchError,
    Edit,
    EditError,
    EncodingSource,
    EolStyle,
    FileTooLargeError,
    MatchKind,
    NoEditsError,
    NoMatchError,
    NoOpEditError,
    OverlappingEditsError,
    UnencodableTextError,
    apply_edits,
    create_file,
)
from tests.editing.edit_samples import join, material_id, material_source

CPP = (
    "// 재료 모듈\r\n"
    "class Material\r\n"
    "{\r\n"
    "public:\r\n"
    "\tint Density() const   \r\n"
    "\t{\r\n"
    "\t\treturn m_density;\r\n"
    "\t}\r\n"
    "\tint m_density;\t// 밀도 똠\r\n"
    "};\r\n"
)
DATA = CPP.encode("cp949")


def apply(edits: list[Edit], data: bytes = DATA, **options: object) -> bytes:
    return apply_edits(data, edits, path="src/material.h", **options).data  # type: ignore[arg-type]


class TestMatchingLadder:
    def test_an_exact_substring_matches_inside_a_line(self) -> None:
        result = apply_edits(DATA, [Edit("m_density;\t//", "m_weight;\t//")], path="m.h")
        assert result.match_kinds == (MatchKind.EXACT,)
        assert b"\tint m_weight;\t//" in result.data

    def test_trailing_whitespace_differences_are_ignored(self) -> None:
        result = apply_edits(DATA, [Edit("\tint Density() const\n", "\tint Density() noexcept\n")],
                             path="m.h")
        assert result.match_kinds == (MatchKind.TRAILING_WHITESPACE,)
        assert result.data == CPP.replace("\tint Density() const   ",
                                          "\tint Density() noexcept").encode("cp949")

    def test_a_uniform_indentation_difference_is_ignored_and_the_replacement_reindented(
        self,
    ) -> None:
        search = "{\n\treturn m_density;\n}\n"
        replace = "{\n\t// 캐시된 값\n\treturn m_density;\n}\n"
        result = apply_edits(DATA, [Edit(search, replace)], path="m.h")
        assert result.match_kinds == (MatchKind.INDENTATION,)
        expected = CPP.replace("\t{\r\n\t\treturn", "\t{\r\n\t\t// 캐시된 값\r\n\t\treturn")
        assert result.data == expected.encode("cp949")

    def test_a_search_indented_deeper_than_the_file_is_dedented(self) -> None:
        text = "def f():\n    return 1\n"
        result = apply_edits(text.encode(), [Edit("        def f():\n            return 1\n",
                                                  "        def f():\n            return 2\n")],
                             path="f.py")
        assert result.data == b"def f():\n    return 2\n"

    def test_mixed_tabs_and_spaces_are_not_a_uniform_difference(self) -> None:
        with pytest.raises(NoMatchError):
            apply([Edit("  int m_density;\t// 밀도 똠", "  int m_mass;")])


class TestMatchErrors:
    def test_a_search_found_twice_is_ambiguous_and_names_both_lines(self) -> None:
        with pytest.raises(AmbiguousMatchError) as caught:
            apply([Edit("m_density", "m_mass")])
        assert caught.value.edit_index == 0
        assert "more than one place (lines 7, 9; matched exact)" in str(caught.value)

    def test_a_whitespace_insensitive_match_must_be_unique_too(self) -> None:
        with pytest.raises(AmbiguousMatchError, match="lines 1, 3; matched trailing-whitespace"):
            apply_edits(b"x = 1  \ny = 2\nx = 1\n", [Edit("x = 1 \n", "x = 3\n")], path="p.py")

    def test_no_match_quotes_the_closest_lines_and_lists_matched_edits(self) -> None:
        edits = [Edit("class Material", "class MaterialInfo"),
                 Edit("\t\treturn m_densty * 2;", "\t\treturn m_density * 3;")]
        with pytest.raises(NoMatchError) as caught:
            apply(edits)
        message = str(caught.value)
        assert message.startswith("Edit 1: the search text starting 'return m_densty * 2;'")
        assert "    7| \t\treturn m_density;" in message
        assert "Edits that matched: 0" in message and "all-or-nothing" in message
        assert (caught.value.matched, caught.value.failed) == ((0,), (1,))

    def test_every_failed_edit_is_listed(self) -> None:
        with pytest.raises(NoMatchError, match="Other edits that failed: 2"):
            apply([Edit("nothing like this", "x"), Edit("class Material", "class M"),
                   Edit("also missing", "y")])

    def test_overlapping_edits_are_refused(self) -> None:
        edits = [Edit("public:\n\tint Density", "public:\n\tlong Density"),
                 Edit("int Density() const", "int Mass() const")]
        with pytest.raises(OverlappingEditsError, match="Edits 0 and 1 overlap at line 5"):
            apply(edits)

    def test_a_later_failure_leaves_no_partial_output(self) -> None:
        edits = [Edit("class Material", "class Renamed"), Edit("missing", "x")]
        with pytest.raises(EditError):
            apply(edits)
        assert apply([edits[0]]).count(b"Renamed") == 1  # the good edit alone still works


class TestRefusals:
    @pytest.mark.parametrize(
        ("edits", "error", "words"),
        [
            ([], NoEditsError, "edit list is empty"),
            ([Edit("", "int x;")], BlankSearchError, "Edit 0 has an empty"),
            ([Edit(" \t\n", "int x;")], BlankSearchError, "whitespace-only"),
            ([Edit("class Material", "class Material")], NoOpEditError, "identical text"),
        ],
        ids=["empty-list", "empty-search", "blank-search", "no-op"],
    )
    def test_unusable_edit_lists_are_refused(
        self, edits: list[Edit], error: type[EditError], words: str
    ) -> None:
        with pytest.raises(error, match=words):
            apply(edits)

    def test_files_over_the_size_limit_are_refused(self) -> None:
        with pytest.raises(FileTooLargeError, match=f"{len(DATA)} bytes, over the limit of 10"):
            apply([Edit("class", "struct")], max_bytes=10)

    def test_binary_files_are_refused(self) -> None:
        with pytest.raises(BinaryFileError):
            apply([Edit("ELF", "FLE")], data=b"\x7fELF\x00\x01\x02")

    @pytest.mark.parametrize(
        ("char", "name"), [("😀", "U+1F600"), ("丟", "U+4E1F")], ids=["emoji", "hanja"]
    )
    def test_characters_the_encoding_cannot_hold_are_refused_with_their_line(
        self, char: str, name: str
    ) -> None:
        with pytest.raises(UnencodableTextError) as caught:
            apply([Edit("\tint m_density;", f"\tint m_density;\n\t// 새 주석 {char}")])
        error = caught.value
        assert (error.char, error.line, error.encoding) == (char, 10, "cp949")
        assert f"{name}) at line 10" in str(error) and "cp949 cannot hold" in str(error)

    def test_the_same_characters_are_fine_in_utf8(self) -> None:
        data = apply([Edit("// 재료 모듈", "// 재료 모듈 😀 丟")], data=CPP.encode())
        assert "😀 丟".encode() in data


class TestKoreanContent:
    def test_korean_comments_and_string_literals_are_edited_in_cp949(self) -> None:
        source = '\t{ MAT_A,\t"강철",\t7.85f },\t// 똠 재료\r\n'.encode("cp949")
        result = apply_edits(source, [Edit('"강철"', '"햏강철"')], path="t.cpp")
        assert result.data.decode("cp949") == '\t{ MAT_A,\t"햏강철",\t7.85f },\t// 똠 재료\r\n'
        assert result.encoding_source is EncodingSource.DETECTED

    def test_a_material_entry_is_appended_to_a_crlf_cp949_table(self) -> None:
        text = join(material_source(total_lines=800, table_rows=200), "\r\n")
        last = f"\t{{ {material_id(199)},"
        row_start = text.index(last)
        row = text[row_start : text.index("\r\n", row_start)]
        new_row = '\t{ MAT_TITANIUM,\t"티타늄 1호",\t4.51f },\t// 비고: 신규 재료'
        result = apply_edits(text.encode("cp949"), [Edit(f"{row}\n}};", f"{row}\n{new_row}\n}};")],
                             path="material.cpp", configured_encoding="cp949")
        assert result.data == text.replace(row + "\r\n};", f"{row}\r\n{new_row}\r\n}};").encode(
            "cp949")
        assert result.eol is EolStyle.CRLF and "+" + new_row in result.diff

    def test_an_ascii_file_gains_korean_in_the_repository_default(self) -> None:
        result = apply_edits(b"int a;\r\n", [Edit("int a;", "int a; // 재료")], path="a.c",
                             default_encoding="cp949")
        assert result.data == "int a; // 재료\r\n".encode("cp949")
        assert (result.original_encoding, result.final_encoding) == ("ascii", "cp949")
        assert result.encoding_source is EncodingSource.ASCII_DEFAULT


class TestDiff:
    def test_the_diff_names_the_path_and_counts_hunks(self) -> None:
        result = apply_edits(DATA, [Edit("class Material", "class Mat"),
                                    Edit("};", "}; // 끝")], path="src/material.h")
        assert result.diff.startswith("--- a/src/material.h\n+++ b/src/material.h\n@@ -1,")
        assert result.hunk_count == 2 and result.edit_count == 2
        assert "\r" not in result.diff

    def test_a_missing_final_newline_is_marked(self) -> None:
        result = apply_edits(b"a\nb", [Edit("b", "c")], path="x")
        assert result.diff.endswith("-b\n\\ No newline at end of file\n+c\n"
                                    "\\ No newline at end of file\n")


class TestCreateFile:
    def test_new_content_takes_the_chosen_encoding_bom_and_endings(self) -> None:
        result = create_file("// 새 파일 똠\nint a;\n", path="new.h", encoding="utf-16",
                             eol=EolStyle.CRLF)
        assert result.data == codecs.BOM_UTF16_LE + "// 새 파일 똠\r\nint a;\r\n".encode(
            "utf-16-le")
        assert result.created and result.original_encoding is None
        assert result.diff.startswith("--- /dev/null\n+++ b/new.h\n@@ -0,0 +1,2 @@\n")

    def test_utf8_sig_means_a_bom(self) -> None:
        assert create_file("x\n", path="a", encoding="utf-8-sig").data == b"\xef\xbb\xbfx\n"

    def test_new_files_refuse_unencodable_text(self) -> None:
        with pytest.raises(UnencodableTextError, match="line 2"):
            create_file("// 주석\n😀\n", path="a.cpp", encoding="cp949")
