"""ADF lists as Markdown lists: nesting by indentation, task states as `[x]`/`[ ]`.

Each item stays on its own line (a task list must not read "Write migrationUpdate docs").
Sources, developer.atlassian.com/cloud/jira/platform/apis/document/nodes/: bulletList,
orderedList (`attrs.order`, the first number), listItem, taskList/taskItem (`attrs.state`
"TODO" | "DONE"; a taskList may hold a nested taskList), decisionList/decisionItem
(`attrs.state` "DECIDED").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from integrations.adf_inline import attrs_of, children, inline_text

LIST_TYPES = frozenset({"bulletList", "orderedList", "taskList", "decisionList"})
Render = Callable[[dict[str, Any]], str]


def render_list(node: dict[str, Any], block: Render) -> str:
    lines: list[str] = []
    start = attrs_of(node).get("order")
    number = start if isinstance(start, int) and 0 <= start < 10**9 else 1
    for item in children(node):
        if item.get("type") in LIST_TYPES:  # a taskList nested directly in a taskList
            lines.extend(_indented(render_list(item, block).split("\n"), "  "))
            continue
        marker = _marker(node.get("type"), item, number)
        number += 1
        first, *rest = (_item_body(item, block) or "").split("\n")
        lines.append(f"{marker} {first}".rstrip())
        lines.extend(_indented(rest, " " * (len(marker.split(" ", 1)[0]) + 1)))
    return "\n".join(lines)


def _marker(kind: object, item: dict[str, Any], number: int) -> str:
    state = attrs_of(item).get("state")
    if kind == "orderedList":
        return f"{number}."
    if kind == "taskList" or item.get("type") in {"taskItem", "blockTaskItem"}:
        return "- [x]" if state == "DONE" else "- [ ]"
    if kind == "decisionList" or item.get("type") == "decisionItem":
        return "- [decided]" if state == "DECIDED" else "- [undecided]"
    return "-"


def _item_body(item: dict[str, Any], block: Render) -> str:
    """A listItem holds blocks; a taskItem or decisionItem holds inline nodes directly."""
    nodes = children(item)
    if item.get("type") in {"taskItem", "decisionItem"}:
        return inline_text(nodes)
    return "\n".join(text for text in (block(n) for n in nodes) if text)


def _indented(lines: list[str], indent: str) -> list[str]:
    return [f"{indent}{line}" if line else "" for line in lines]
