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


def _attrs(node: dict[str, Any]) -> dict[str, Any]:
    """A node's attrs, or none when a malformed document gives something else."""
    attrs = node.get("attrs")
    return attrs if isinstance(attrs, dict) else {}


def _list(node: dict[str, Any], name: str) -> list[Any]:
    value = node.get(name)
    return value if isinstance(value, list) else []


def _level(node: dict[str, Any]) -> int:
    level = _attrs(node).get("level")
    return max(1, min(level, 6)) if isinstance(level, int) else 1


def _inline(node: dict[str, Any]) -> str:
    kind = node.get("type")
    if kind == "text":
        text = str(node.get("text", ""))
        marks = {m.get("type") for m in _list(node, "marks") if isinstance(m, dict)}
        if "code" in marks:
            return f"`{text}`"
        if "strong" in marks:
            return f"**{text}**"
        return text
    if kind == "hardBreak":
        return "\n"
    if kind in {"mention", "emoji", "status", "date", "inlineCard"}:
        attrs = _attrs(node)
        return str(attrs.get("text") or attrs.get("shortName") or attrs.get("url") or "")
    return _children(node, "")


def _children(node: dict[str, Any], joiner: str) -> str:
    parts = [(_block(c) if joiner else _inline(c)) for c in _list(node, "content")
             if isinstance(c, dict)]
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
        return "#" * _level(node) + " " + _children(node, "")
    if kind == "codeBlock":
        language = str(_attrs(node).get("language") or "")
        return f"```{language}\n{_children(node, '')}\n```"
    if kind in {"bulletList", "orderedList"}:
        items = [c for c in _list(node, "content") if isinstance(c, dict)]
        marker = (lambda i: f"{i + 1}.") if kind == "orderedList" else (lambda i: "-")
        return "\n".join(f"{marker(i)} {_block(item)}" for i, item in enumerate(items))
    if kind == "listItem":
        return _children(node, "\n  ")
    if kind == "table":
        rows = [c for c in _list(node, "content") if isinstance(c, dict)]
        return "\n".join(
            "| " + " | ".join(_block(cell).replace("\n", " ") for cell in _list(row, "content")
                              if isinstance(cell, dict)) + " |"
            for row in rows)
    if kind in {"tableCell", "tableHeader", "blockquote", "panel", "expand"}:
        return _children(node, "\n")
    if kind == "rule":
        return "---"
    return _inline(node)
