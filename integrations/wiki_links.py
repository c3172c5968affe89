"""Jira wiki `[...]` links and `!...!` images as ADF nodes.

From the "Text Formatting Notation Help" page (Links, Images) and Atlassian's
`tokenize/links/link-parser.ts`: `[text|target|title]` (the text ends at the first `|`),
`[target]`, `[~user]` a mention (on Cloud `[~accountid:...]`, its id kept whole as the
converter keeps it), `[^file]` an attachment, `[#anchor]`, `[mailto:...]`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Node = dict[str, Any]
ParseText = Callable[[str, list[Node]], list[Node]]


def link(content: str, marks: list[Node], parse: ParseText) -> list[Node]:
    """The nodes of `[content]`; `parse` reads the shown text, which may hold markup."""
    body, _, rest = content.partition("|") if "|" in content else ("", "", content)
    target = rest.split("|", 1)[0].strip()
    if target.startswith("~") and len(target) > 1:
        return [{"type": "mention", "attrs": {"id": target[1:]}}]
    if target.startswith("^"):
        return [media(target[1:])]
    shown = body.strip() or target
    if target.startswith("#") or "://" in target or target.startswith(("mailto:", "file:")):
        return parse(shown, [*marks, {"type": "link", "attrs": {"href": target}}])
    return [text_node(f"[{content}]", marks)]  # [MAT-12], [space:Page]: kept as written


def media(name: str) -> Node:
    """An image or attachment: an external URL, else a file named by its name."""
    if "://" in name:
        return {"type": "media", "attrs": {"type": "external", "url": name}}
    return {"type": "media", "attrs": {"type": "file", "alt": name}}


def text_node(text: str, marks: list[Node]) -> Node:
    node: Node = {"type": "text", "text": text}
    if marks:
        node["marks"] = [dict(m) for m in marks]
    return node
