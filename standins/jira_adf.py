"""Atlassian Document Format for the Jira stand-in: plain text as ADF, ADF as plain text.

"Atlassian Document Format" (ADF),
developer.atlassian.com/cloud/jira/platform/apis/document/structure/:
a `doc` of version 1 whose `content` holds block nodes; text sits in `text` nodes.
"""

from __future__ import annotations

from typing import Any


def adf_document(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document Format document, one paragraph per blank-line block."""
    paragraphs = [block for block in text.split("\n\n") if block.strip()]
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": block}]}
            for block in paragraphs
        ],
    }


def is_adf_document(value: Any) -> bool:
    """The root shape the ADF structure page requires: type "doc", version 1, a content list."""
    return (isinstance(value, dict) and value.get("type") == "doc" and value.get("version") == 1
            and isinstance(value.get("content"), list))


def adf_plain_text(document: dict[str, Any]) -> str:
    """The text nodes of a document, a blank line between top-level blocks, a list item per
    line ("- ") and a link's address after its text. Jira Cloud's v2 renders ADF as wiki
    markup; the stand-in gives only this text (its choice)."""
    blocks = document.get("content")
    return "\n\n".join(_text_of(b) for b in blocks) if isinstance(blocks, list) else ""


def _text_of(node: Any) -> str:
    if not isinstance(node, dict):
        return ""
    kind, content = node.get("type"), node.get("content")
    children = content if isinstance(content, list) else []
    if kind == "text":
        text = str(node.get("text", ""))
        links = [m.get("attrs", {}).get("href") for m in node.get("marks", [])
                 if isinstance(m, dict) and m.get("type") == "link"]
        return f"{text} ({links[0]})" if links and links[0] and links[0] != text else text
    if kind == "hardBreak":
        return "\n"
    if kind in ("bulletList", "orderedList"):
        return "\n".join(f"- {_text_of(item)}" for item in children)
    if kind == "listItem":
        return "\n".join(_text_of(c) for c in children)
    return "".join(_text_of(c) for c in children)
