"""Atlassian Document Format (Jira REST v3 descriptions) to Markdown-like text for the LLM.

Every node and mark of the specification is rendered so the text keeps its meaning: a
struck value stays struck, a link keeps its target, a task keeps its state, a table keeps
its header. A node it does not know keeps its text, so nothing the reporter wrote is
dropped. Source: developer.atlassian.com/cloud/jira/platform/apis/document/structure/ and
the node pages under .../document/nodes/ named beside each rule.
"""

from __future__ import annotations

from typing import Any

from integrations.adf_inline import (
    attrs_of,
    card_url,
    children,
    extension_text,
    inline,
    inline_text,
    text_attr,
)
from integrations.adf_lists import LIST_TYPES, render_list
from integrations.adf_table import render_table

_BLOCK_SEPARATOR = "\n\n"
_INLINE_TYPES = frozenset({"text", "hardBreak", "mention", "emoji", "date", "status",
                           "inlineCard", "mediaInline", "placeholder", "inlineExtension"})
_PANEL_TYPES = frozenset({"info", "note", "tip", "warning", "success", "error", "custom"})


def adf_to_text(node: Any) -> str:
    """The document's text with its structure written as Markdown."""
    return block(node).strip() if isinstance(node, dict) else ""


def block(node: dict[str, Any]) -> str:
    kind = node.get("type")
    if kind == "paragraph":
        return inline_text(children(node))
    if kind == "heading":  # attrs.level 1-6
        level = attrs_of(node).get("level")
        level = max(1, min(level, 6)) if isinstance(level, int) else 1
        return "#" * level + " " + inline_text(children(node))
    if kind == "codeBlock":  # attrs.language is optional
        return _fenced(inline_text(children(node)), text_attr(node, "language"))
    if kind == "blockquote":
        return _quoted(_blocks(node))
    if kind == "panel":  # attrs.panelType: info, note, warning, success, error (tip, custom)
        panel_type = text_attr(node, "panelType")
        label = panel_type.upper() if panel_type in _PANEL_TYPES else "PANEL"
        return _quoted(f"[!{label}]\n{_blocks(node)}")
    if kind in {"expand", "nestedExpand"}:  # attrs.title: the visible line of a folded section
        summary = text_attr(node, "title")
        return f"<details><summary>{summary}</summary>\n\n{_blocks(node)}\n\n</details>"
    if kind == "rule":
        return "---"
    if kind in LIST_TYPES:
        return render_list(node, block)
    if kind == "table":
        return render_table(node, block)
    if kind in {"mediaSingle", "mediaGroup"}:  # media (+ caption): one placeholder a line
        return "\n".join(text for text in (block(c) for c in children(node)) if text)
    if kind == "media":
        return inline(node)
    if kind in {"blockCard", "embedCard"}:  # attrs.url (blockCard may carry attrs.data)
        return card_url(node)
    if kind == "extension":
        return extension_text(node)
    if kind == "caption":  # under a mediaSingle
        return inline_text(children(node))
    if kind in _INLINE_TYPES:
        return inline(node)
    # doc, layoutSection/layoutColumn (columns read one after the other), bodiedExtension,
    # listItem or tableCell out of place, and node types this code does not know
    return _blocks(node)


def _blocks(node: dict[str, Any]) -> str:
    nodes = children(node)
    if nodes and all(n.get("type") in _INLINE_TYPES for n in nodes):
        return inline_text(nodes)
    if not nodes and node.get("type") not in {"doc", None}:
        return text_attr(node, "text")
    return _BLOCK_SEPARATOR.join(text for text in (block(n) for n in nodes) if text)


def _fenced(code: str, language: str) -> str:
    """A fence longer than any run of backticks inside the code, so the code cannot end it."""
    longest, run = 0, 0
    for char in code:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{code}\n{fence}"


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))
