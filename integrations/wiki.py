"""Jira wiki markup (REST v2 and webhook descriptions) as ADF, so it reads as the same
Markdown-like text an ADF description gives.

Block rules from the "Text Formatting Notation Help" page
(jira.atlassian.com/secure/WikiRendererHelpAction.jspa?section=all), applied as Atlassian's
converter does (editor-wikimarkup-transformer, `tokenize/keyword.ts`, `list.ts`,
`table.ts`): `hN.` headings, `bq.`, `----`, lists of `*`, `#` and `-` nested by repeating
the marker (at most 20 deep), tables of `||header||` and `|cell|` rows, `{code:lang}`,
`{noformat}`, `{panel:title=...}` and `{quote}` blocks; a blank line ends a paragraph, a
list or a table, and a newline inside one is a line break.
"""

from __future__ import annotations

import re
from typing import Any

from integrations.adf import adf_to_text
from integrations.wiki_inline import parse_inline
from integrations.wiki_lists import LIST_START, parse_list
from integrations.wiki_tables import parse_table

Node = dict[str, Any]
_MACRO = re.compile(r"\{(code|noformat|panel|quote)(?::([^}\n]*))?\}", re.IGNORECASE)
_CLOSE = {name: re.compile(r"\{" + name + r"\}", re.IGNORECASE)
          for name in ("code", "noformat", "panel", "quote")}
_HEADING = re.compile(r"h([1-6])\.\s*(.*)")
_RULE = re.compile(r"-{4,5}")
_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")
MAX_MACRO_DEPTH = 3  # a panel in a quote in a panel: deeper is text


def wiki_to_text(markup: str) -> str:
    """The description as Markdown-like text (see `integrations.adf`)."""
    return adf_to_text(wiki_to_adf(markup))


def wiki_to_adf(markup: str, depth: int = 0) -> Node:
    text = markup.replace("\r\n", "\n").replace("\r", "\n")
    content: list[Node] = []
    for kind, params, body in _segments(text, depth):
        content.extend(_macro(kind, params, body, depth) if kind else _lines(body.split("\n")))
    return {"type": "doc", "version": 1, "content": content}


def _segments(text: str, depth: int) -> list[tuple[str, str, str]]:
    """Text between block macros, and the macros: (name or "", params, body). A macro
    without its closing tag stays text; once a name has no closing tag after some point,
    none is looked for again, so unclosed tags cost one search each name."""
    segments: list[tuple[str, str, str]] = []
    position, unclosed = 0, set[str]()
    search_from = 0
    while depth < MAX_MACRO_DEPTH and (match := _MACRO.search(text, search_from)) is not None:
        name = match.group(1).lower()
        search_from = match.end()
        close = None if name in unclosed else _CLOSE[name].search(text, match.end())
        if close is None:
            unclosed.add(name)
            continue
        segments.append(("", "", text[position:match.start()]))
        segments.append((name, match.group(2) or "", text[match.end():close.start()]))
        position = search_from = close.end()
    segments.append(("", "", text[position:]))
    return segments


def _macro(name: str, params: str, body: str, depth: int) -> list[Node]:
    options = _options(params)
    title = [_paragraph(options["title"], strong=True)] if options.get("title") else []
    if name in {"code", "noformat"}:  # literal: no markup inside; blank lines around dropped
        code = _BLANK_LINES.sub("", body).rstrip()
        node: Node = {"type": "codeBlock", "content": [{"type": "text", "text": code}] if code
                      else []}
        if name == "code" and options.get(""):  # {code:java}, {code:xml|title=a.xml}
            node["attrs"] = {"language": options[""]}
        return [*title, node]
    inner = wiki_to_adf(body, depth + 1)["content"]
    if name == "quote":
        return [{"type": "blockquote", "content": inner}]
    # A wiki panel has a title and colours but no type; the text says "PANEL", not a guess.
    return [{"type": "panel", "content": [*title, *inner]}]


def _options(params: str) -> dict[str, str]:
    """`java|title=Bar.java|borderStyle=solid` -> {"": "java", "title": "Bar.java", ...}."""
    options: dict[str, str] = {}
    for part in params.split("|"):
        key, equals, value = part.partition("=")
        if equals:
            options[key.strip().lower()] = value.strip()
        elif part.strip():
            options.setdefault("", part.strip())
    return options


def _lines(lines: list[str]) -> list[Node]:
    blocks: list[Node] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(_paragraph("\n".join(paragraph)))
            paragraph.clear()

    index = 0
    while index < len(lines):
        stripped = lines[index].strip()
        heading = _HEADING.fullmatch(stripped)
        starts_block = _starts_block(stripped) or bool(LIST_START.match(stripped))
        if not stripped or starts_block:
            flush()
        if not starts_block:
            if stripped:
                paragraph.append(stripped)
            index += 1
        elif stripped.startswith("|"):
            table, index = parse_table(lines, index)
            blocks.append(table)
        elif LIST_START.match(stripped) and not _RULE.fullmatch(stripped):
            found, index = parse_list(lines, index, _starts_block)
            blocks.extend(found)
        else:
            blocks.append(_line_block(stripped, heading))
            index += 1
    flush()
    return blocks


def _starts_block(stripped: str) -> bool:
    """A line that is a block of its own (or a table's first row), lists aside."""
    return bool(_HEADING.fullmatch(stripped) or stripped.startswith(("bq.", "|"))
                or _RULE.fullmatch(stripped))


def _line_block(stripped: str, heading: re.Match[str] | None) -> Node:
    """A heading, a `bq.` quote or a rule: blocks of one line."""
    if heading:
        return {"type": "heading", "attrs": {"level": int(heading.group(1))},
                "content": parse_inline(heading.group(2))}
    if stripped.startswith("bq."):
        return {"type": "blockquote", "content": [_paragraph(stripped[3:].strip())]}
    return {"type": "rule"}


def _paragraph(text: str, *, strong: bool = False) -> Node:
    content = parse_inline(text)
    if strong:
        for node in content:
            node.setdefault("marks", []).append({"type": "strong"})
    return {"type": "paragraph", "content": content}
