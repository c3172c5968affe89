"""Prompt windows keep the place an edit must go while staying a fraction of the file."""

from __future__ import annotations

from editing import Region, build_window, estimate_tokens
from tests.editing.edit_samples import join, material_id, material_source

SPEC = (
    "신규 재료 '티타늄'을 재료 테이블 kMaterialTable에 추가해 주세요. "
    f"밀도는 4.51f 이고 {material_id(299)} 다음에 MAT_TITANIUM 으로 넣어야 합니다. "
    "MaterialId enum 에도 추가가 필요합니다."
)


def big_file() -> list[str]:
    return material_source(total_lines=5000, table_rows=300)


class TestWindowOnALargeFile:
    def test_the_window_is_at_most_a_quarter_of_the_file(self) -> None:
        text = join(big_file(), "\r\n")
        window = build_window(text, SPEC, token_budget=4000)
        assert window.tokens <= 0.25 * estimate_tokens(text)
        assert window.file_tokens == estimate_tokens(text)

    def test_the_window_holds_the_end_of_the_table_and_the_enum(self) -> None:
        lines = big_file()
        window = build_window(join(lines, "\r\n"), SPEC, token_budget=4000)
        table_end = lines.index("};", lines.index("static const MaterialInfo kMaterialTable[] ="))
        for needed in (table_end, table_end - 1, lines.index("\tMAT_COUNT")):
            number = needed + 1
            assert f"{number:>5}| {lines[needed]}" in window.text
            assert any(r.first <= number <= r.last for r in window.regions)

    def test_the_window_holds_the_table_declaration(self) -> None:
        window = build_window(join(big_file(), "\n"), SPEC, token_budget=4000)
        assert "static const MaterialInfo kMaterialTable[] =" in window.text

    def test_gaps_between_regions_are_marked(self) -> None:
        window = build_window(join(big_file(), "\n"), SPEC, token_budget=4000)
        assert len(window.regions) > 1 and "\n  ...\n" in window.text
        assert not window.whole_file


class TestSmallFiles:
    def test_a_file_within_budget_is_shown_whole(self) -> None:
        window = build_window("int a;\nint b;\n", "anything", token_budget=1000)
        assert window.regions == (Region(1, 2),) and window.whole_file
        assert window.text == "    1| int a;\n    2| int b;"

    def test_a_python_block_around_a_hit_keeps_its_header(self) -> None:
        body = [f"    x{n} = {n}" for n in range(200)]
        lines = ["import os", "", "def load_settings():", *body, "    return x0", "", "y = 1"]
        window = build_window("\n".join(lines), "Change load_settings to return x5",
                              token_budget=200)
        assert "    3| def load_settings():" in window.text
        assert window.tokens <= 200 + 10


class TestTokenEstimate:
    def test_tokens_are_utf8_bytes_over_four(self) -> None:
        assert estimate_tokens("abcd") == 1 and estimate_tokens("재료") == 2
