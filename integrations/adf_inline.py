"""ADF inline nodes and text marks as Markdown-like text that keeps what they mean.

A struck-through value must not read as a live one and a link must keep its target, so every
mark of the ADF specification is either written out or ignored on purpose (colours, alignment,
comments: decoration only). Sources, developer.atlassian.com/cloud/jira/platform/apis/document/:
`marks/*` and `nodes/{text,hardBreak,mention,emoji,date,status,inlineCard,mediaInline}`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

# Innermost first: `code` sits inside every other wrapper, a link outside all of them.
_WRAPPERS = (("subsup", None), ("strike", ("~~", "~~")), ("underline", ("<u>", "</u>")),
             ("em", ("*", "*")), ("strong", ("**", "**")))


def attrs_of(node: dict[str, Any]) -> dict[str, Any]:
    """A node's (or mark's) attrs, or none when a malformed document gives something else."""
    attrs = node.get("attrs")
    return attrs if isinstance(attrs, dict) else {}


def children(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The node's child nodes; anything in `content` that is not a node is dropped."""
    content = node.get("content")
    return [c for c in content if isinstance(c, dict)] if isinstance(content, list) else []


def text_attr(node: dict[str, Any], name: str) -> str:
    value = attrs_of(node).get(name)
    return value if isinstance(value, str) else ""


def inline_text(nodes: list[dict[str, Any]]) -> str:
    """The inline nodes of a paragraph, heading or item as one string."""
    return "".join(inline(node) for node in nodes)


def inline(node: dict[str, Any]) -> str:
    kind = node.get("type")
    if kind == "text":
        return _marked(str(node.get("text", "")), _marks(node))
    if kind == "hardBreak":
        return "\n"
    if kind == "mention":  # attrs.text is "@Name" when Jira knows it; else the account id
        name = text_attr(node, "text") or text_attr(node, "id")
        return name if name.startswith("@") else f"@{name}"
    if kind == "emoji":  # attrs.shortName (":grinning:") is required; text is the glyph
        return text_attr(node, "shortName") or text_attr(node, "text")
    if kind == "date":
        return iso_date(attrs_of(node).get("timestamp"))
    if kind == "status":  # a lozenge: its text is a state, not prose
        return f"[status: {text_attr(node, 'text')}]"
    if kind == "inlineCard":
        return card_url(node)
    if kind in {"mediaInline", "media"}:
        return _marked(media_placeholder(node), _marks(node))
    if kind == "placeholder":  # the editor's hint in an empty template, not the author's text
        return ""
    if kind == "inlineExtension":
        return extension_text(node)
    return text_attr(node, "text") or inline_text(children(node))


def iso_date(timestamp: Any) -> str:
    """The UTC calendar date of a date node. Its `attrs.timestamp` is a string of epoch
    milliseconds (what the editor writes; the date node page only says "string"); a value
    that is not one is kept as written rather than dropped."""
    raw = str(timestamp) if timestamp is not None else ""
    try:
        return datetime.fromtimestamp(int(raw) / 1000, tz=UTC).date().isoformat()
    except (ValueError, OverflowError, OSError):
        return raw


def card_url(node: dict[str, Any]) -> str:
    """inlineCard/blockCard/embedCard: `attrs.url`, or the JSON-LD `attrs.data` it may carry."""
    url = text_attr(node, "url")
    data = attrs_of(node).get("data")
    if not url and isinstance(data, dict):
        url = str(data.get("url") or data.get("name") or "")
    return f"<{url}>" if url else ""


def media_placeholder(node: dict[str, Any]) -> str:
    """A file the text cannot carry, named so the reader knows something is there."""
    attrs = attrs_of(node)
    if attrs.get("type") == "external" and text_attr(node, "url"):
        return f"![{text_attr(node, 'alt')}]({text_attr(node, 'url')})"
    name = text_attr(node, "alt") or text_attr(node, "id") or "unnamed"
    return f"[attachment: {name}]"


def extension_text(node: dict[str, Any]) -> str:
    """An app's macro: its fallback `attrs.text`, else which extension it is."""
    return text_attr(node, "text") or f"[extension: {text_attr(node, 'extensionKey') or '?'}]"


def _marks(node: dict[str, Any]) -> dict[str, dict[str, Any]]:
    marks = node.get("marks")
    if not isinstance(marks, list):
        return {}
    return {str(m.get("type")): attrs_of(m) for m in marks if isinstance(m, dict)}


def _marked(text: str, marks: dict[str, dict[str, Any]]) -> str:
    """`text` in the Markdown of its marks; spaces stay outside the markers, where
    Markdown needs them. textColor, backgroundColor, annotation and the block marks
    (alignment, indentation, breakout, border) change no meaning and are left out."""
    core = text.strip()
    if not core or not marks:
        return text
    lead, trail = text[:len(text) - len(text.lstrip())], text[len(text.rstrip()):]
    if "code" in marks:
        fence = "``" if "`" in core else "`"
        core = f"{fence}{core}{fence}" if fence == "`" else f"{fence} {core} {fence}"
    for kind, wrapper in _WRAPPERS:
        if kind not in marks:
            continue
        if wrapper is None:  # subsup: attrs.type is "sub" or "sup"
            tag = "sub" if marks[kind].get("type") == "sub" else "sup"
            wrapper = (f"<{tag}>", f"</{tag}>")
        core = f"{wrapper[0]}{core}{wrapper[1]}"
    href = marks.get("link", {}).get("href")
    if isinstance(href, str) and href:
        core = f"[{core}]({href})"
    return f"{lead}{core}{trail}"
