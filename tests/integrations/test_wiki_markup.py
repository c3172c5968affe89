"""Jira wiki markup (REST v2 and webhook descriptions) reads as the same Markdown-like text as
ADF does. The inputs are the examples of Jira's "Text Formatting Notation Help" page
(jira.atlassian.com/secure/WikiRendererHelpAction.jspa?section=all)."""

from __future__ import annotations

import time

import pytest

from integrations.adf import adf_to_text
from integrations.wiki import wiki_to_adf, wiki_to_text

HELP_PAGE = {
    "headings": ("h1. Biggest heading\nh3. Medium heading\nh6. Smallest heading",
                 "# Biggest heading\n\n### Medium heading\n\n###### Smallest heading"),
    "strong": ("*strong*", "**strong**"),
    "emphasis": ("_emphasis_", "*emphasis*"),
    "citation": ("??citation??", "*citation*"),
    "deleted": ("-deleted-", "~~deleted~~"),
    "inserted": ("+inserted+", "<u>inserted</u>"),
    "superscript": ("^superscript^", "<sup>superscript</sup>"),
    "subscript": ("~subscript~", "<sub>subscript</sub>"),
    "monospaced, with no markup inside": ("{{monospaced *text*}}", "`monospaced *text*`"),
    "bq.": ("bq. Some block quoted text", "> Some block quoted text"),
    "quote": ("{quote}\n    here is quoteable\n content to be quoted\n{quote}",
              "> here is quoteable\n> content to be quoted"),
    "color is decoration": ("{color:red}\n    look ma, red text!\n{color}", "look ma, red text!"),
    "a newline and \\\\ are line breaks, a blank line a new paragraph": (
        "one\ntwo\\\\three\n\nfour", "one\ntwo\nthree\n\nfour"),
    "horizontal ruler": ("above\n----\nbelow", "above\n\n---\n\nbelow"),
    "anchor link": ("[#anchor]", "[#anchor](#anchor)"),
    "attachment link": ("[^attachment.ext]", "[attachment: attachment.ext]"),
    "bare link": ("[http://www.example.com]", "[http://www.example.com](http://www.example.com)"),
    "named link": ("[Example|http://example.com]", "[Example](http://example.com)"),
    "mail link": ("[mailto:legendaryservice@example.com]",
                  "[mailto:legendaryservice@example.com](mailto:legendaryservice@example.com)"),
    "user mention (Data Center)": ("[~username]", "@username"),
    "user mention (Cloud account id)": ("[~accountid:5b10a2844c20165700ede21g]",
                                        "@accountid:5b10a2844c20165700ede21g"),
    "bullets, nested": ("* some\n* bullet\n** indented\n** bullets\n* points",
                        "- some\n- bullet\n  - indented\n  - bullets\n- points"),
    "dash bullets": ("- different\n- bullet\n- types", "- different\n- bullet\n- types"),
    "numbered": ("# a\n# numbered\n# list", "1. a\n2. numbered\n3. list"),
    "numbered with nested bullets": (
        "# a\n# numbered\n#* with\n#* nested\n#* bullet\n# list",
        "1. a\n2. numbered\n   - with\n   - nested\n   - bullet\n3. list"),
    "bullets with nested numbers": (
        "* a\n* bulleted\n*# with\n*# nested\n*# numbered\n* list",
        "- a\n- bulleted\n  1. with\n  2. nested\n  3. numbered\n- list"),
    "external image": ("!http://www.host.com/image.gif!", "![](http://www.host.com/image.gif)"),
    "attached image with attributes": ("!image.jpg|thumbnail!", "[attachment: image.jpg]"),
    "table": ("||heading 1||heading 2||heading 3||\n|col A1|col A2|col A3|\n|col B1|col B2|col B3|",
              "| heading 1 | heading 2 | heading 3 |\n| --- | --- | --- |\n"
              "| col A1 | col A2 | col A3 |\n| col B1 | col B2 | col B3 |"),
    "noformat: literal": (
        "{noformat}\npreformatted piece of text\n so *no* further _formatting_ is done here\n"
        "{noformat}",
        "```\npreformatted piece of text\n so *no* further _formatting_ is done here\n```"),
    "panel": ("{panel}Some text{panel}", "> [!PANEL]\n> Some text"),
    "panel with a title": (
        "{panel:title=My Title|borderStyle=dashed|borderColor=#ccc|titleBGColor=#F7D6C1|"
        "bgColor=#FFFFCE}\na block of text surrounded with a *panel*\nyet _another_ line\n{panel}",
        "> [!PANEL]\n> **My Title**\n>\n> a block of text surrounded with a **panel**\n"
        "> yet *another* line"),
    "code with a title (a file name) keeps both": (
        "{code:title=Bar.java|borderStyle=solid}\n// Some comments here\npublic String getFoo()\n"
        "{\n    return foo;\n}\n{code}",
        "**Bar.java**\n\n```\n// Some comments here\npublic String getFoo()\n{\n    return foo;\n}"
        "\n```"),
    "code with a language keeps its indentation": (
        '{code:xml}\n    <test>\n        <another tag="attribute"/>\n    </test>\n{code}',
        '```xml\n    <test>\n        <another tag="attribute"/>\n    </test>\n```'),
    "escaped markers are literal": ("\\*not bold\\* and a\\|pipe", "*not bold* and a|pipe"),
}

NOT_MARKUP = {
    "identifiers with underscores": "set my_var_name and _private_helper",
    "negative numbers": "from -5 to -3 degrees",
    "C++": "port it to C++ and C++17",
    "arithmetic": "2 * 3 * 4 = 24",
    "an exclamation": "Hello! World!",
    "emoticons around words": "(!) careful (!) and (*) starred (*)",
    "a markdown link": "see [docs](https://example.com)",
    "dashes": "a -- b --- c and --verbose",
}


class TestWikiMarkup:
    @pytest.mark.parametrize(("markup", "expected"), list(HELP_PAGE.values()),
                             ids=list(HELP_PAGE))
    def test_each_help_page_example_becomes_markdown(self, markup: str, expected: str) -> None:
        assert wiki_to_text(markup) == expected

    @pytest.mark.parametrize("plain", list(NOT_MARKUP.values()), ids=list(NOT_MARKUP))
    def test_text_that_only_looks_like_markup_is_kept_as_written(self, plain: str) -> None:
        assert wiki_to_text(plain) == plain

    def test_a_whole_description_reads_as_its_adf_twin_would(self) -> None:
        markup = (
            "h2. Request\n"
            "Add *Ti-6Al-4V* for [~accountid:5b10a2844c20165700ede21g]; the old -4.5- value "
            "is wrong, see [the datasheet|https://example.com/ti-6al-4v].\n\n"
            "||Property||Value||\n|density|4.43|\n|note|a \\| b|\n\n"
            "{code:cpp}\n{\"TI64\", 4.43},\n{code}\n"
            "* density\n** at 20 °C\n* yield strength")
        assert wiki_to_text(markup) == (
            "## Request\n\n"
            "Add **Ti-6Al-4V** for @accountid:5b10a2844c20165700ede21g; the old ~~4.5~~ value "
            "is wrong, see [the datasheet](https://example.com/ti-6al-4v).\n\n"
            "| Property | Value |\n| --- | --- |\n| density | 4.43 |\n| note | a \\| b |\n\n"
            "```cpp\n{\"TI64\", 4.43},\n```\n\n"
            "- density\n  - at 20 °C\n- yield strength")

    def test_a_table_right_under_a_list_stays_a_table(self) -> None:
        assert wiki_to_text("* item\n||h||\n|c|") == "- item\n\n| h |\n| --- |\n| c |"

    def test_a_link_s_pipe_is_not_a_cell_border_and_a_row_may_go_on_a_line(self) -> None:
        assert wiki_to_text("||a||b||\n|[x|http://y.test/a-b]|multi\nline|") == (
            "| a | b |\n| --- | --- |\n| [x](http://y.test/a-b) | multi<br>line |")

    def test_a_block_macro_without_its_closing_tag_stays_text(self) -> None:
        assert wiki_to_text("{code:java}\nint x;") == "{code:java}\nint x;"

    def test_the_adf_it_makes_is_the_adf_renderer_s_input(self) -> None:
        document = wiki_to_adf("*a*")
        assert document["type"] == "doc" and adf_to_text(document) == "**a**"

    @pytest.mark.parametrize("hostile", [
        "*" * 200_000, "{{" * 100_000, "[" * 200_000, "*a _b -c +d ^e ~f ??g " * 10_000,
        "{code:x}" * 25_000, "|a|b\n" * 20_000, ("*" * 20 + " x\n") * 10_000,
        "{panel}{quote}" * 15_000, "!a.png " * 30_000, "(*)" * 70_000, "\\" * 200_000,
    ], ids=["stars", "open monospace", "brackets", "markers", "unclosed code", "table rows",
            "deep lists", "nested macros", "images", "emoticons", "backslashes"])
    def test_hostile_markup_converts_in_linear_time(self, hostile: str) -> None:
        started = time.monotonic()
        wiki_to_text(hostile)
        assert time.monotonic() - started < 10
