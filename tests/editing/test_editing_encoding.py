"""The encoding decision follows the documented priority order and never loses bytes."""

from __future__ import annotations

import codecs

import pytest

from editing import (
    AmbiguousEncodingError,
    BinaryFileError,
    Edit,
    EncodingConfigError,
    EncodingLabel,
    EncodingSource,
    UndecodableFileError,
    apply_edits,
    create_file,
    decide_encoding,
)
from tests.editing.edit_samples import join, material_source

KOREAN = "// 재료 테이블: 구리와 강철의 밀도\n// 확장 음절 똠 햏 포함\n" * 5
STANDARD_KOREAN = "// 재료 테이블: 구리와 강철의 밀도를 관리합니다\n" * 8


class TestPriorityOrder:
    @pytest.mark.parametrize(
        ("data", "codec", "bom", "source"),
        [
            (codecs.BOM_UTF8 + KOREAN.encode(), "utf-8", codecs.BOM_UTF8, EncodingSource.BOM),
            (codecs.BOM_UTF16_LE + KOREAN.encode("utf-16-le"), "utf-16-le",
             codecs.BOM_UTF16_LE, EncodingSource.BOM),
            (codecs.BOM_UTF16_BE + KOREAN.encode("utf-16-be"), "utf-16-be",
             codecs.BOM_UTF16_BE, EncodingSource.BOM),
            (KOREAN.encode(), "utf-8", b"", EncodingSource.UTF8),
            (KOREAN.encode("cp949"), "cp949", b"", EncodingSource.DETECTED),
            (STANDARD_KOREAN.encode("euc_kr"), "cp949", b"", EncodingSource.DETECTED),
        ],
        ids=["utf-8-bom", "utf-16-le-bom", "utf-16-be-bom", "utf-8", "cp949", "euc-kr"],
    )
    def test_each_rule_decodes_to_the_original_text(
        self, data: bytes, codec: str, bom: bytes, source: EncodingSource
    ) -> None:
        decoded = decide_encoding(data)
        assert (decoded.codec, decoded.bom, decoded.source) == (codec, bom, source)
        assert decoded.bom + decoded.text.encode(decoded.codec) == data

    def test_configured_encoding_wins_over_detection(self) -> None:
        data = STANDARD_KOREAN.encode("euc_kr")
        decoded = decide_encoding(data, configured="euc-kr")
        assert decoded.source is EncodingSource.CONFIGURED
        assert decoded.codec == "cp949"  # euc_kr itself cannot hold 똠 or 햏

    def test_configured_utf8_keeps_an_existing_bom_apart(self) -> None:
        decoded = decide_encoding(codecs.BOM_UTF8 + b"int a;\n", configured="utf-8")
        assert (decoded.text, decoded.bom) == ("int a;\n", codecs.BOM_UTF8)

    def test_configured_utf16_allows_nul_bytes_without_a_bom(self) -> None:
        decoded = decide_encoding("int a;\n".encode("utf-16-le"), configured="utf-16-le")
        assert decoded.text == "int a;\n"


class TestKoreanFamily:
    def test_cp949_extended_syllables_survive_detection(self) -> None:
        data = "// 똠방각하 햏자\n".encode("cp949") * 20
        decoded = decide_encoding(data)
        assert decoded.codec == "cp949"
        assert "똠" in decoded.text and "햏" in decoded.text

    def test_python_euc_kr_codec_mishandles_extended_syllables(self) -> None:
        with pytest.raises(UnicodeDecodeError):
            "똠".encode("cp949").decode("euc_kr")
        assert "똠".encode("euc_kr") != "똠".encode("cp949")  # an 8-byte jamo sequence

    def test_large_cp949_file_is_detected_from_a_sample_and_proven_in_full(self) -> None:
        text = join(material_source(total_lines=40_000), "\r\n")
        decoded = decide_encoding(text.encode("cp949"))
        assert decoded.codec == "cp949" and decoded.text == text
        assert "chardet" in decoded.reason


class TestAsciiHasNoEvidence:
    def test_ascii_uses_the_repository_default_for_new_text(self) -> None:
        decoded = decide_encoding(b"int a;\r\n", default_encoding="cp949")
        assert (decoded.codec, decoded.source) == ("cp949", EncodingSource.ASCII_DEFAULT)
        assert decoded.label == "ascii" and "repository default" in decoded.reason

    def test_ascii_without_a_default_uses_utf8_and_says_so(self) -> None:
        decoded = decide_encoding(b"int a;\n")
        assert decoded.codec == "utf-8" and "no default configured" in decoded.reason

    def test_a_utf16_default_is_refused_for_ascii_files(self) -> None:
        with pytest.raises(EncodingConfigError, match="not ASCII-compatible"):
            decide_encoding(b"int a;\n", default_encoding="utf-16")


class TestRefusals:
    def test_nul_bytes_without_a_utf16_bom_mean_binary(self) -> None:
        with pytest.raises(BinaryFileError, match="NUL byte at offset 3"):
            decide_encoding(b"abc\x00def")

    def test_bytes_that_do_not_decode_in_the_configured_encoding_are_refused(self) -> None:
        with pytest.raises(UndecodableFileError, match="configured encoding 'utf-8'"):
            decide_encoding("재료".encode("cp949"), configured="utf-8")

    def test_unknown_configured_encodings_are_refused(self) -> None:
        with pytest.raises(EncodingConfigError, match="Unknown encoding 'klingon'"):
            decide_encoding(b"x", configured="klingon")

    def test_stateful_encodings_are_refused(self) -> None:
        with pytest.raises(EncodingConfigError, match="stateful"):
            decide_encoding(b"x", configured="iso2022_kr")

    def test_a_truncated_utf16_body_is_refused_not_replaced(self) -> None:
        with pytest.raises(UndecodableFileError, match="utf-16-le"):
            decide_encoding(codecs.BOM_UTF16_LE + b"a\x00b")


def _few_korean(word: str) -> bytes:
    """A CP949 source file whose only non-ASCII bytes are one short Korean comment."""
    return ("int x = 1;\r\n" * 40 + f"// {word}\r\nint y;\r\n").encode("cp949")


class TestTwoReadings:
    def test_cp949_bytes_that_are_also_valid_utf8_are_marked_ambiguous(self) -> None:
        data = _few_korean("표")  # C7 A5: valid UTF-8 for "ǥ" as well
        decoded = decide_encoding(data)
        assert (decoded.codec, decoded.alternative) == ("utf-8", "cp949")
        assert "also read as cp949" in decoded.reason

    def test_a_chardet_guess_that_cp949_also_reads_is_marked_ambiguous(self) -> None:
        decoded = decide_encoding(_few_korean("재료"))
        assert decoded.source is EncodingSource.DETECTED and decoded.alternative == "cp949"

    def test_new_korean_text_in_an_ambiguous_file_is_refused_with_the_fix_named(self) -> None:
        data = _few_korean("표")
        with pytest.raises(AmbiguousEncodingError, match="set `encoding:` for this file") as err:
            apply_edits(data, [Edit("int y;", "int y; // 밀도")], path="a.cpp")
        assert err.value.edit_index == 0

    def test_ascii_edits_to_an_ambiguous_file_keep_every_other_byte(self) -> None:
        data = _few_korean("표")
        result = apply_edits(data, [Edit("int y;", "int y = 2;")], path="a.cpp")
        assert result.data == data.replace(b"int y;", b"int y = 2;")

    def test_a_configured_encoding_settles_it(self) -> None:
        data = _few_korean("표")
        result = apply_edits(data, [Edit("int y;", "int y; // 밀도")], path="a.cpp",
                             configured_encoding="cp949")
        assert result.data.decode("cp949").endswith("int y; // 밀도\r\n")

    @pytest.mark.parametrize(("data", "default"), [
        (STANDARD_KOREAN.encode("utf-8"), None),  # real UTF-8 Korean does not read as CP949
        (KOREAN.encode("cp949"), None),  # chardet reads it as the Korean family itself
        (_few_korean("표"), "utf-8"),  # the repository says its files are UTF-8
    ])
    def test_a_single_reading_is_not_marked(self, data: bytes, default: str | None) -> None:
        assert decide_encoding(data, default_encoding=default).alternative is None


class TestEncodingLabel:
    @pytest.mark.parametrize("text", ["cp949", "utf-8+bom", "utf-16-le+bom", "ascii"])
    def test_the_stored_form_parses_and_prints_unchanged(self, text: str) -> None:
        assert str(EncodingLabel.parse(text)) == text

    def test_the_bom_is_a_flag_beside_the_codec(self) -> None:
        assert EncodingLabel.parse("utf-16-le+bom") == EncodingLabel("utf-16-le", bom=True)
        assert EncodingLabel.parse("cp949") == EncodingLabel("cp949", bom=False)

    @pytest.mark.parametrize(("text", "configured"),
                             [("cp949", "cp949"), ("utf-8+bom", None), ("ascii", None)])
    def test_bytes_are_reread_as_the_codec_unless_a_bom_or_ascii_decides(
        self, text: str, configured: str | None
    ) -> None:
        assert EncodingLabel.parse(text).reread_as == configured

    def test_files_read_and_written_name_their_bom_the_same_way(self) -> None:
        decoded = decide_encoding(codecs.BOM_UTF16_LE + "int a;\n".encode("utf-16-le"))
        assert decoded.label == "utf-16-le+bom"
        assert create_file("x\n", path="a", encoding="utf-8-sig").final_encoding == "utf-8+bom"
