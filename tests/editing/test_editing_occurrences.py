"""Searches located together in one pass give exactly what one ``str.find`` after another gives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import editing.occurrences
from editing import AmbiguousMatchError, Edit, EditError, OverlappingEditsError, apply_edits
from editing.occurrences import batch_occurrences, scan_occurrences

ROWS = [f"\t{{ ROW_{n:03d}, {n} }}," for n in range(10)]
FILLER = [f"// filler line {n} of the table module, kept for its size" for n in range(600)]
SEARCHES = [f"\t{{ ROW_{n:03d}," for n in range(10)]
SELF_OVERLAPPING = "\t{ ROW_0" * 2  # twice in its line, the second starting inside the first
SELF_OVERLAPPING_LINE = "\t{ ROW_0" * 3


def one_by_one(text: str, search: str, limit: int) -> list[int]:
    found: list[int] = []
    position = text.find(search)
    while position >= 0 and len(found) < limit:
        found.append(position)
        position = text.find(search, position + 1)
    return found


def table(*tail: str, final_newline: bool = True) -> str:
    """Ten table rows in the middle of filler, so their common prefix is sparse."""
    return "\n".join(FILLER[:300] + ROWS + FILLER[300:] + list(tail)) + (
        "\n" if final_newline else "")


def refusal(text: str, edits: list[Edit]) -> str:
    with pytest.raises(EditError) as caught:
        apply_edits(text.encode(), edits, path="table.c")
    return f"{type(caught.value).__name__}: {caught.value}"


class TestScanOccurrences:
    def test_a_search_overlapping_itself_is_found_at_each_start(self) -> None:
        assert scan_occurrences("aaa", ["aa"], limit=5) == {"aa": [0, 1]}

    def test_a_search_that_begins_another_is_found_at_the_same_offset(self) -> None:
        assert scan_occurrences("xaaaay", ["aa", "aaa"], limit=5) == {
            "aa": [1, 2, 3], "aaa": [1, 2]}

    def test_a_duplicate_far_away_at_the_very_end_is_found(self) -> None:
        text = "k = 1;" + "." * 100_000 + "k = 1;"
        assert scan_occurrences(text, ["k = 1;"], limit=5) == {"k = 1;": [0, 100_006]}

    def test_each_search_stops_at_the_limit_and_the_others_are_still_found(self) -> None:
        text = "ab" * 10 + "zz"
        assert scan_occurrences(text, ["ab", "ba", "zz"], limit=3) == {
            "ab": [0, 2, 4], "ba": [1, 3, 5], "zz": [20]}

    def test_regex_metacharacters_are_literal_and_absent_searches_map_to_nothing(self) -> None:
        text = "abc a.c (x) \\d 1"
        found = scan_occurrences(text, ["a.c", "(x)", "\\d", "x+"], limit=5)
        assert found == {"a.c": [4], "(x)": [8], "\\d": [12], "x+": []}

    @settings(max_examples=200, deadline=None, database=None)
    @given(st.text("ab\n똠", max_size=40),
           st.lists(st.text("ab\n똠", min_size=1, max_size=4), min_size=1, max_size=6))
    def test_it_agrees_with_repeated_find(self, text: str, searches: list[str]) -> None:
        found = scan_occurrences(text, searches, limit=3)
        assert found == {search: one_by_one(text, search, 3) for search in searches}


class TestBatchOccurrences:
    @pytest.mark.parametrize(
        ("text", "searches"),
        [
            (table("\t{ ROW_007,", final_newline=False), SEARCHES),
            (table(SELF_OVERLAPPING_LINE), [SELF_OVERLAPPING, *SEARCHES]),
            (table(), ["\t{ ROW_00", "\t{ ROW_004, 4 }", *SEARCHES]),
        ],
    )
    def test_the_edit_cases_below_take_the_one_pass(self, text: str, searches: list[str]) -> None:
        found = batch_occurrences(text, searches, limit=5)
        assert found == {search: one_by_one(text, search, 5) for search in searches}

    @pytest.mark.parametrize(
        ("case", "text", "searches"),
        [
            ("small group", table(), SEARCHES[:7]),
            ("short searches", "a1 a2 a3 a4 a5 a6 a7 a8 " * 100,
             [f"a{n}" for n in range(1, 9)]),
            ("dense prefix", "\t{ ROW_00\n" * 1000 + table(), SEARCHES),
        ],
    )
    def test_searches_cheaper_to_find_one_by_one_are_left_out(
        self, case: str, text: str, searches: list[str]
    ) -> None:
        assert batch_occurrences(text, searches, limit=5) == {}


@pytest.fixture(params=["one pass", "one by one"])
def located(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run each test with the batch scan, then with every search found on its own."""
    if request.param == "one by one":
        monkeypatch.setattr(editing.occurrences, "_MIN_GROUP", 10**9)
    return str(request.param)


class TestEditsLocatedInOnePass:
    def test_a_batch_of_unique_rows_is_edited(self, located: str) -> None:
        edits = [Edit(search, search.replace("ROW_", "ITEM_")) for search in SEARCHES]
        result = apply_edits(table().encode(), edits, path="table.c")
        assert result.data == table().replace("ROW_", "ITEM_").encode()

    def test_a_duplicate_at_the_very_end_is_refused_with_the_same_message(
        self, located: str
    ) -> None:
        text = table("\t{ ROW_007,", final_newline=False)
        edits = [Edit(search, search.replace("ROW_", "ITEM_")) for search in SEARCHES]
        message = refusal(text, edits)
        assert message.startswith(
            "AmbiguousMatchError: Edit 7: the search text starting '{ ROW_007,' occurs in more "
            "than one place (lines 308, 611; matched exact).")
        assert "Edits that matched: 0, 1, 2, 3, 4, 5, 6, 8, 9 (nothing was written" in message

    def test_a_search_overlapping_itself_is_ambiguous_on_one_line(self, located: str) -> None:
        edits = [Edit(SELF_OVERLAPPING, "\t{ ROW_0"), *(Edit(s, s + " ") for s in SEARCHES)]
        with pytest.raises(AmbiguousMatchError, match=r"\(lines 611, 611; matched exact\)"):
            apply_edits(table(SELF_OVERLAPPING_LINE).encode(), edits, path="table.c")

    def test_a_search_found_more_than_five_times_names_its_first_five_lines(
        self, located: str
    ) -> None:
        edits = [Edit("\t{ ROW_00", "\t{ ITEM_00"), *(Edit(s, s + " ") for s in SEARCHES)]
        with pytest.raises(AmbiguousMatchError, match=r"lines 301, 302, 303, 304, 305;"):
            apply_edits(table().encode(), edits, path="table.c")

    def test_overlapping_edits_are_still_refused(self, located: str) -> None:
        edits = [Edit(search, search + " ") for search in SEARCHES]
        edits.append(Edit("\t{ ROW_004, 4 }", "\t{ ROW_004, 40 }"))
        with pytest.raises(OverlappingEditsError, match="Edits 4 and 10 overlap at line 305"):
            apply_edits(table().encode(), edits, path="table.c")
