"""Atlassian Document Format (Jira REST v3 descriptions) to Markdown-ish plain text.

A small walker over the node types Jira issue descriptions use; unknown nodes keep their
text, so nothing the reporter wrote is dropped.
"""

from __future__ import annotations

from typing import Any

_BLOCK_SEPARATOR = "\n\n"


def adf_to_text(node: Any) -> str:
    """The document's text with headings, lists, code blocks and tables kept readable."""
    return _block(node).strip()


def _inline(node: dict[str, Any]) -> str:
    kind = node.get("type")
    if kind == "text":
        text = str(node.get("text", ""))
        marks = {m.get("type") for m in node.get("marks", []) if isinstance(m, dict)}
        if "code" in marks:
            return f"`{text}`"
        if "strong" in marks:
            return f"**{text}**"
        return text
    if kind == "hardBreak":
        return "\n"
    if kind in {"mention", "emoji", "status", "date", "inlineCard"}:
        attrs = node.get("attrs", {})
        return str(attrs.get("text") or attrs.get("shortName") or attrs.get("url") or "")
    return _children(node, "")


def _children(node: dict[str, Any], joiner: str) -> str:
    content = node.get("content", [])
    if not isinstance(content, list):
        return ""
    parts = [(_block(c) if joiner else _inline(c)) for c in content if isinstance(c, dict)]
    return joiner.join(p for p in parts if p or not joiner)


def _block(node: Any) -> str:
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "doc":
        return _children(node, _BLOCK_SEPARATOR)
    if kind == "paragraph":
        return _children(node, "")
    if kind == "heading":
        level = int(node.get("attrs", {}).get("level", 1))
        return "#" * max(1, min(level, 6)) + " " + _children(node, "")
    if kind == "codeBlock":
        language = node.get("attrs", {}).get("language") or ""
        return f"```{language}\n{_children(node, '')}\n```"
    if kind in {"bulletList", "orderedList"}:
        items = [c for c in node.get("content", []) if isinstance(c, dict)]
        marker = (lambda i: f"{i + 1}.") if kind == "orderedList" else (lambda i: "-")
        return "\n".join(f"{marker(i)} {_block(item)}" for i, item in enumerate(items))
    if kind == "listItem":
        return _children(node, "\n  ")
    if kind == "table":
        rows = [c for c in node.get("content", []) if isinstance(c, dict)]
        return "\n".join(
            "| " + " | ".join(_block(cell).replace("\n", " ") for cell in row.get("content", [])
                              if isinstance(cell, dict)) + " |"
            for row in rows)
    if kind in {"tableCell", "tableHeader", "blockquote", "panel", "expand"}:
        return _children(node, "\n")
    if kind == "rule":
        return "---"
    return _inline(node)
