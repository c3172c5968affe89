"""Jira wiki markup inside a line (text effects, links, mentions, images) as ADF inline nodes.

The rules are those of the "Text Formatting Notation Help" page
(jira.atlassian.com/secure/WikiRendererHelpAction.jspa?section=all) as Atlassian's own
converter applies them (editor-wikimarkup-transformer, `tokenize/common-formatter.ts`): a
marker opens only when not preceded by a letter or digit and not followed by a space, and
closes only when not preceded by a space and not followed by a letter or digit, so
`my_var_name`, `-5 to -3` and `C++` stay as written. Effects do not cross a line. Every
search is a lookup in positions found once per line, so hostile input stays linear.
"""

from __future__ import annotations

import re
from bisect import bisect_left

from integrations.wiki_links import Node, link, media, text_node

# ??citation?? has no ADF mark: Atlassian's converter makes it emphasis too.
_MARKERS: dict[str, Node] = {
    "??": {"type": "em"}, "*": {"type": "strong"}, "_": {"type": "em"},
    "-": {"type": "strike"}, "+": {"type": "underline"},
    "^": {"type": "subsup", "attrs": {"type": "sup"}},
    "~": {"type": "subsup", "attrs": {"type": "sub"}}, "!": {"type": "image"},
}
_CODE: Node = {"type": "code"}
# Where spans start whose characters are never markers: [links], {{monospace}}, emoticons
# such as (*), and -- or --- (dashes to the help page, not two strike markers); a {{ is
# closed by the next }}. The dashes stay as written: "--verbose" must survive.
_SPAN_START = re.compile(
    r"\[[^\[\]\n]+\]|\{\{|\((?:[!?/*+\-inxy]|on|off|flag|flagoff)\)|-{2,}")
_DROPPED = re.compile(r"\{(?:color|anchor)(?::[^}\n]*)?\}")  # colour and anchors: no meaning
_SPECIAL = re.compile(r"[*_\-+^~!?\[{\\(]")
_FILE_OR_URL = re.compile(r"[^\s|][^|]*\.[A-Za-z0-9]{1,8}(?:\|.*)?|[a-z]+://\S+")


def parse_inline(text: str) -> list[Node]:
    """The inline nodes of a paragraph's text; each newline is a hard break."""
    nodes: list[Node] = []
    for number, line in enumerate(text.split("\n")):
        if number:
            nodes.append({"type": "hardBreak"})
        line = _DROPPED.sub("", line)
        if _SPECIAL.search(line):
            nodes.extend(_Line(line).parse(0, None, []))
        elif line:
            nodes.append(text_node(line, []))
    return nodes


def _boundary(char: str) -> bool:
    """Not a letter or digit (Atlassian counts any non-ASCII character as a letter)."""
    return char == "\u00a0" or not (char.isascii() and char.isalnum() or not char.isascii())


class _Line:
    def __init__(self, text: str) -> None:
        self.text = text
        self.protected = _spans(text)
        inside = {i for start, end in self.protected.items() for i in range(start + 1, end)}
        self.closers: dict[str, list[int]] = {}
        for marker in _MARKERS:
            if marker not in text:
                self.closers[marker] = []
                continue
            found = (m.start() for m in re.finditer(f"(?={re.escape(marker)})", text))
            self.closers[marker] = [
                i for i in found
                if i > 0 and i not in inside and not text[i - 1].isspace()
                and text[i - 1] != "\\"
                and (i + len(marker) >= len(text) or _boundary(text[i + len(marker)]))]

    def parse(self, start: int, end: int | None, marks: list[Node]) -> list[Node]:
        text, stop = self.text, len(self.text) if end is None else end
        nodes: list[Node] = []
        buffer: list[str] = []

        def flush() -> None:
            if buffer:
                nodes.append(text_node("".join(buffer), marks))
                buffer.clear()

        i = start
        while i < stop:
            if text[i] == "\\" and i + 1 < stop:  # \\ is a line break, \x a literal x
                if text[i + 1] == "\\":
                    flush()
                    nodes.append({"type": "hardBreak"})
                else:
                    buffer.append(text[i + 1])
                i += 2
                continue
            span_end = self.protected.get(i)
            if span_end is not None and span_end <= stop:
                flush()
                nodes.extend(self._protected(text[i:span_end], marks))
                i = span_end
                continue
            marker = self._opening(i, stop)
            if marker is not None:
                close = self._closing(marker, i + len(marker) + 1, stop)
                if close is not None:
                    flush()
                    inner = (i + len(marker), close)
                    nodes.extend(self._effect(marker, inner, marks))
                    i = close + len(marker)
                    continue
            buffer.append(text[i])
            i += 1
        flush()
        return nodes

    def _opening(self, i: int, stop: int) -> str | None:
        text = self.text
        marker = "??" if text.startswith("??", i) else text[i]
        if marker not in _MARKERS or (i > 0 and not _boundary(text[i - 1])):
            return None
        after = i + len(marker)
        return marker if after < stop and text[after] != " " else None

    def _closing(self, marker: str, lowest: int, stop: int) -> int | None:
        positions = self.closers[marker]
        index = bisect_left(positions, lowest)
        if index < len(positions) and positions[index] + len(marker) <= stop:
            return positions[index]
        return None

    def _effect(self, marker: str, inner: tuple[int, int], marks: list[Node]) -> list[Node]:
        if marker != "!":
            return self.parse(inner[0], inner[1], [*marks, _MARKERS[marker]])
        raw = self.text[inner[0]:inner[1]]
        if not _FILE_OR_URL.fullmatch(raw):  # "(!) careful (!)" is not an image named ") careful ("
            return [text_node(f"!{raw}!", marks)]
        return [media(raw.split("|", 1)[0].strip())]

    def _protected(self, span: str, marks: list[Node]) -> list[Node]:
        if span.startswith("{{"):
            return [text_node(span[2:-2], [*marks, _CODE])] if len(span) > 4 else []
        if span.startswith("["):
            return link(span[1:-1], marks,
                        lambda shown, inner: _Line(shown).parse(0, None, inner))
        return [text_node(span, marks)]


def _spans(text: str) -> dict[int, int]:
    """Start -> end of each protected span, in one pass: once no }} follows a {{, none
    follows a later one either, so an unclosed {{ costs one search, not one per {{."""
    spans: dict[int, int] = {}
    position, monospace_closes = 0, True
    while (match := _SPAN_START.search(text, position)) is not None:
        position = match.end()
        if match.group() != "{{":
            spans[match.start()] = match.end()
            continue
        close = text.find("}}", position) if monospace_closes else -1
        monospace_closes = close >= 0
        if close >= 0:
            spans[match.start()] = position = close + 2
    return spans
