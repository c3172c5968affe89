"""Every ADF node and mark becomes text that keeps its meaning.

The documents are the examples of the ADF specification's node and mark pages
(developer.atlassian.com/cloud/jira/platform/apis/document/nodes/<name>/ and .../marks/<name>/),
trimmed to what each case is about."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.adf import adf_to_text


def doc(*content: Any) -> dict[str, Any]:
    return {"version": 1, "type": "doc", "content": list(content)}


def para(*content: Any) -> dict[str, Any]:
    return {"type": "paragraph", "content": list(content)}


def text(value: str, *marks: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": value}
    if marks:
        node["marks"] = list(marks)
    return node


def item(*content: Any) -> dict[str, Any]:
    return {"type": "listItem", "content": list(content)}


def task(state: str, value: str) -> dict[str, Any]:
    return {"type": "taskItem", "attrs": {"localId": value, "state": state},
            "content": [text(value)]}


def cell(kind: str, *paragraphs: str, **attrs: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"type": kind, "content": [para(text(p)) for p in paragraphs]}
    if attrs:
        node["attrs"] = attrs
    return node


def row(*cells: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tableRow", "content": list(cells)}


MOON = {"type": "media", "attrs": {"id": "4478e39c-cf9b-41d1-ba92-68589487cd75", "type": "file",
                                   "collection": "MediaServicesSample", "alt": "moon.jpeg",
                                   "width": 225, "height": 225}}

MARKS = {
    "strong (the structure page's example)": (
        para(text("Hello "), text("world", {"type": "strong"})), "Hello **world**"),
    "em": (para(text("Hello world", {"type": "em"})), "*Hello world*"),
    "strike keeps a struck value from reading as live": (
        para(text("density "), text("4.5", {"type": "strike"}), text(" 4.43")),
        "density ~~4.5~~ 4.43"),
    "underline": (para(text("Hello world", {"type": "underline"})), "<u>Hello world</u>"),
    "code": (para(text("Hello world", {"type": "code"})), "`Hello world`"),
    "code holding a backtick": (para(text("a`b", {"type": "code"})), "`` a`b ``"),
    "link keeps its href": (
        para(text("Hello world", {"type": "link", "attrs": {
            "href": "http://atlassian.com", "title": "Atlassian"}})),
        "[Hello world](http://atlassian.com)"),
    "subsup sub": (para(text("H"), text("2", {"type": "subsup", "attrs": {"type": "sub"}}),
                        text("O")), "H<sub>2</sub>O"),
    "subsup sup": (para(text("m"), text("2", {"type": "subsup", "attrs": {"type": "sup"}})),
                   "m<sup>2</sup>"),
    "textColor is decoration": (
        para(text("Hello world", {"type": "textColor", "attrs": {"color": "#97a0af"}})),
        "Hello world"),
    "strong and em together, spaces outside the markers": (
        para(text("bold "), text("both ", {"type": "strong"}, {"type": "em"}), text("end")),
        "bold ***both*** end"),
    "a struck link": (
        para(text("old", {"type": "strike"}, {"type": "link", "attrs": {"href": "https://o"}})),
        "[~~old~~](https://o)"),
}

INLINE_NODES = {
    "hardBreak": (para(text("Hello"), {"type": "hardBreak"}, text("world")), "Hello\nworld"),
    "mention": (para({"type": "mention", "attrs": {
        "id": "ABCDE-ABCDE-ABCDE-ABCDE", "text": "@Bradley Ayers", "userType": "APP"}}),
        "@Bradley Ayers"),
    "mention without a display name": (
        para({"type": "mention", "attrs": {"id": "5b10a2844c20165700ede21g"}}),
        "@5b10a2844c20165700ede21g"),
    "emoji": (para({"type": "emoji", "attrs": {"shortName": ":grinning:", "text": "😀"}}),
              ":grinning:"),
    "date: epoch milliseconds as a UTC date": (
        para(text("due "), {"type": "date", "attrs": {"timestamp": "1582152559000"}}),
        "due 2020-02-19"),
    "date just before midnight UTC stays on its UTC day": (
        para({"type": "date", "attrs": {"timestamp": "1700006399999"}}), "2023-11-14"),
    "date that is not a timestamp is kept as written": (
        para({"type": "date", "attrs": {"timestamp": "soon"}}), "soon"),
    "status": (para({"type": "status", "attrs": {
        "localId": "abcdef12-abcd-abcd-abcd-abcdef123456", "text": "In Progress",
        "color": "yellow"}}), "[status: In Progress]"),
    "inlineCard": (para({"type": "inlineCard", "attrs": {"url": "https://atlassian.com"}}),
                   "<https://atlassian.com>"),
    "placeholder is the editor's hint, not text": (
        para(text("a"), {"type": "placeholder", "attrs": {"text": "Type here"}}), "a"),
}

BLOCK_NODES = {
    "heading levels": (doc({"type": "heading", "attrs": {"level": 1}, "content": [
        text("Heading 1")]}, {"type": "heading", "attrs": {"level": 3}, "content": [
            text("Heading 3")]}), "# Heading 1\n\n### Heading 3"),
    "codeBlock with its language": (
        {"type": "codeBlock", "attrs": {"language": "javascript"},
         "content": [text("var foo = {};\nvar bar = [];")]},
        "```javascript\nvar foo = {};\nvar bar = [];\n```"),
    "codeBlock holding a fence": (
        {"type": "codeBlock", "content": [text("```\nx\n```")]}, "````\n```\nx\n```\n````"),
    "blockquote": ({"type": "blockquote", "content": [para(text("Hello")), para(text("world"))]},
                   "> Hello\n>\n> world"),
    "panel keeps its type": (
        {"type": "panel", "attrs": {"panelType": "warning"}, "content": [para(text("Hot"))]},
        "> [!WARNING]\n> Hot"),
    "expand keeps its title": (
        {"type": "expand", "attrs": {"title": "Hello world"},
         "content": [para(text("Hidden text"))]},
        "<details><summary>Hello world</summary>\n\nHidden text\n\n</details>"),
    "nestedExpand": ({"type": "nestedExpand", "attrs": {"title": "More"},
                      "content": [para(text("x"))]},
                     "<details><summary>More</summary>\n\nx\n\n</details>"),
    "rule": (doc(para(text("a")), {"type": "rule"}, para(text("b"))), "a\n\n---\n\nb"),
    "blockCard": ({"type": "blockCard", "attrs": {"url": "https://atlassian.com"}},
                  "<https://atlassian.com>"),
    "embedCard": ({"type": "embedCard", "attrs": {"url": "https://example.com/v",
                                                  "layout": "center"}},
                  "<https://example.com/v>"),
    "mediaSingle names its file": (
        {"type": "mediaSingle", "attrs": {"layout": "center"}, "content": [MOON]},
        "[attachment: moon.jpeg]"),
    "media with a link mark": (
        {"type": "mediaSingle", "content": [{**MOON, "marks": [
            {"type": "link", "attrs": {"href": "https://developer.atlassian.com/"}}]}]},
        "[[attachment: moon.jpeg]](https://developer.atlassian.com/)"),
    "mediaSingle with a caption": (
        {"type": "mediaSingle", "content": [MOON, {"type": "caption", "content": [
            text("The moon")]}]}, "[attachment: moon.jpeg]\nThe moon"),
    "mediaGroup names each file": (
        {"type": "mediaGroup", "content": [
            {"type": "media", "attrs": {
                "type": "file", "id": "6e7c7f2c-dd7a-499c-bceb-6f32bfbf30b5",
                "collection": "ae730abd"}},
            {"type": "media", "attrs": {"type": "external", "url": "https://x.test/a.png"}}]},
        "[attachment: 6e7c7f2c-dd7a-499c-bceb-6f32bfbf30b5]\n![](https://x.test/a.png)"),
    "extension names itself": (
        {"type": "extension", "attrs": {"extensionType": "com.atlassian.confluence.macro.core",
                                        "extensionKey": "toc"}}, "[extension: toc]"),
    "bodiedExtension keeps its content": (
        {"type": "bodiedExtension", "attrs": {"extensionKey": "x"},
         "content": [para(text("inside"))]}, "inside"),
    "layoutSection: columns one after the other, not run together": (
        {"type": "layoutSection", "content": [
            {"type": "layoutColumn", "attrs": {"width": 50}, "content": [
                para(text("Write migration"))]},
            {"type": "layoutColumn", "attrs": {"width": 50}, "content": [
                para(text("Update docs"))]}]}, "Write migration\n\nUpdate docs"),
    "an unknown node keeps its text": (
        {"type": "futureNode", "content": [text("kept "), text("anyway")]}, "kept anyway"),
}

LISTS = {
    "nested bullets are indented": (
        {"type": "bulletList", "content": [
            item(para(text("Fruit")), {"type": "bulletList", "content": [
                item(para(text("Apple"))), item(para(text("Pear")))]}),
            item(para(text("Bread")))]},
        "- Fruit\n  - Apple\n  - Pear\n- Bread"),
    "orderedList starts at attrs.order, nested numbers indent under the text": (
        {"type": "orderedList", "attrs": {"order": 3}, "content": [
            item(para(text("Third")), {"type": "orderedList", "content": [
                item(para(text("Sub")))]}),
            item(para(text("Fourth")))]},
        "3. Third\n   1. Sub\n4. Fourth"),
    "taskList keeps each item and its state": (
        {"type": "taskList", "attrs": {"localId": "l"}, "content": [
            task("DONE", "Write migration"), task("TODO", "Update docs")]},
        "- [x] Write migration\n- [ ] Update docs"),
    "a taskList nested in a taskList": (
        {"type": "taskList", "attrs": {"localId": "l"}, "content": [
            task("TODO", "Ship"), {"type": "taskList", "attrs": {"localId": "m"},
                                   "content": [task("DONE", "Test")]}]},
        "- [ ] Ship\n  - [x] Test"),
    "decisionList (the decisionList page's example)": (
        doc(para(text("Hello")), {"type": "decisionList", "attrs": {"localId": "decision-list-id"},
                                  "content": [{"type": "decisionItem", "attrs": {
                                      "localId": "item-test-id", "state": "DECIDED"},
                                      "content": [text("Start using Document Format for apps")]}]},
            para(text("World"))),
        "Hello\n\n- [decided] Start using Document Format for apps\n\nWorld"),
}

TABLES = {
    "a header row gets the separator": (
        {"type": "table", "attrs": {"isNumberColumnEnabled": False, "layout": "center"},
         "content": [row(cell("tableHeader", "Alloy"), cell("tableHeader", "Density")),
                     row(cell("tableCell", "Ti-6Al-4V"), cell("tableCell", "4.43"))]},
        "| Alloy | Density |\n| --- | --- |\n| Ti-6Al-4V | 4.43 |"),
    "a pipe in a cell is escaped, not a column": (
        {"type": "table", "content": [row(cell("tableHeader", "a|b")),
                                      row(cell("tableCell", "x || y"))]},
        "| a\\|b |\n| --- |\n| x \\|\\| y |"),
    "a cell's paragraphs stay apart": (
        {"type": "table", "content": [row(cell("tableHeader", "Note")),
                                      row(cell("tableCell", "first", "second"))]},
        "| Note |\n| --- |\n| first<br>second |"),
    "no header row: an empty one stands in, header cells elsewhere are bold": (
        {"type": "table", "content": [row(cell("tableHeader", "Density"),
                                          cell("tableCell", "4.43"))]},
        "|  |  |\n| --- | --- |\n| **Density** | 4.43 |"),
    "colspan keeps the columns aligned": (
        {"type": "table", "content": [
            row(cell("tableHeader", "a"), cell("tableHeader", "b"), cell("tableHeader", "c")),
            row(cell("tableCell", "wide", colspan=2), cell("tableCell", "z"))]},
        "| a | b | c |\n| --- | --- | --- |\n| wide |  | z |"),
}


class TestAdfToText:
    @pytest.mark.parametrize(("node", "expected"), list(MARKS.values()), ids=list(MARKS))
    def test_every_mark_is_written_out_or_deliberately_dropped(
        self, node: dict[str, Any], expected: str
    ) -> None:
        assert adf_to_text(doc(node)) == expected

    @pytest.mark.parametrize(("node", "expected"), list(INLINE_NODES.values()),
                             ids=list(INLINE_NODES))
    def test_every_inline_node_keeps_what_it_says(
        self, node: dict[str, Any], expected: str
    ) -> None:
        assert adf_to_text(doc(node)) == expected

    @pytest.mark.parametrize(("node", "expected"), list(BLOCK_NODES.values()),
                             ids=list(BLOCK_NODES))
    def test_every_block_node_keeps_its_structure(
        self, node: dict[str, Any], expected: str
    ) -> None:
        assert adf_to_text(node if node["type"] == "doc" else doc(node)) == expected

    @pytest.mark.parametrize(("node", "expected"), list(LISTS.values()), ids=list(LISTS))
    def test_lists_keep_nesting_items_and_states(
        self, node: dict[str, Any], expected: str
    ) -> None:
        assert adf_to_text(node if node["type"] == "doc" else doc(node)) == expected

    @pytest.mark.parametrize(("node", "expected"), list(TABLES.values()), ids=list(TABLES))
    def test_tables_are_markdown_tables(self, node: dict[str, Any], expected: str) -> None:
        assert adf_to_text(doc(node)) == expected

    def test_a_hostile_colspan_does_not_make_a_million_cells(self) -> None:
        table = {"type": "table", "content": [row(cell("tableCell", "x", colspan=10**9))]}
        lines = adf_to_text(doc(table)).split("\n")
        assert [line.count("|") for line in lines] == [65, 65, 65]  # 64 columns at most

    @pytest.mark.parametrize("value", [None, [], "text", 5, {"type": "doc", "content": "x"}])
    def test_what_is_not_a_document_gives_no_text(self, value: Any) -> None:
        assert adf_to_text(value) == ""
