"""The LLM wire contract is validated strictly, with messages the model can act on."""

from __future__ import annotations

import pytest

from editing import Edit, EditReply, EditShapeError, parse_edit_reply, parse_edits


class TestParseEdits:
    def test_a_well_formed_list_becomes_edits(self) -> None:
        assert parse_edits([{"search": "a", "replace": "b"}]) == [Edit("a", "b")]

    @pytest.mark.parametrize(
        ("obj", "words"),
        [
            ({"search": "a", "replace": "b"}, "must be a JSON array, got an object"),
            (["a"], "Edit 0 must be a JSON object"),
            ([{"search": "a"}], 'Edit 0 is missing key(s) replace; expected exactly "replace", '
                                '"search"'),
            ([{"search": "a", "replace": "b", "why": "c"}], "unexpected key(s) why"),
            ([{"search": "a", "replace": None}], '"replace" must be a string, got null'),
            ([{"search": "a", "replace": "b"}, {"search": 3, "replace": "b"}],
             'Edit 1: "search" must be a string, got a number'),
        ],
        ids=["not-a-list", "not-an-object", "missing-key", "extra-key", "null", "number"],
    )
    def test_wrong_shapes_are_refused_with_a_precise_message(self, obj: object, words: str) -> None:
        with pytest.raises(EditShapeError) as caught:
            parse_edits(obj)
        assert words in str(caught.value)


class TestParseEditReply:
    def test_the_envelope_keeps_the_summary(self) -> None:
        reply = parse_edit_reply({"edits": [{"search": "a", "replace": "b"}], "summary": "s"})
        assert reply == EditReply(edits=(Edit("a", "b"),), summary="s")

    @pytest.mark.parametrize(
        ("obj", "words"),
        [
            ({"edits": []}, "missing key(s) summary"),
            ({"edits": [], "summary": 1}, '"summary" must be a string'),
            ({"edits": "x", "summary": ""}, '"edits" must be a JSON array, got a string'),
            ([], "The reply must be a JSON object"),
        ],
        ids=["no-summary", "summary-type", "edits-type", "not-an-object"],
    )
    def test_a_malformed_envelope_is_refused(self, obj: object, words: str) -> None:
        with pytest.raises(EditShapeError) as caught:
            parse_edit_reply(obj)
        assert words in str(caught.value)
