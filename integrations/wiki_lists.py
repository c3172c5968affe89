"""Jira wiki lists (`*`, `-` bullets, `#` numbers, nested by repeating: `#*`) as ADF lists.

As the "Text Formatting Notation Help" page and Atlassian's converter (`tokenize/list.ts`)
have it: the last marker character says the kind, a line of text that starts no item
continues the one before it, and a blank line ends the list. Unlike that converter, a line
that starts another block (a table row, a heading) ends the list too, so a table written
right under a list stays a table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from integrations.wiki_inline import parse_inline

Node = dict[str, Any]
LIST_START = re.compile(r"([*#]{1,20}|-)\s(.*)")
_LIST_ITEM = re.compile(r"([*#-]{1,20})\s(.*)")


def parse_list(lines: list[str], index: int,
               other_block: Callable[[str], bool]) -> tuple[list[Node], int]:
    """The list starting at `lines[index]` and the index of the first line after it."""
    items: list[tuple[str, list[str]]] = []
    while index < len(lines) and (stripped := lines[index].strip()):
        match = (_LIST_ITEM if items else LIST_START).match(stripped)
        if match and not (items and other_block(stripped)):
            items.append((match.group(1), [match.group(2)]))
        elif items and not other_block(stripped):
            items[-1][1].append(stripped)
        else:
            break
        index += 1
    return _nested(items), index


def _nested(items: list[tuple[str, list[str]]]) -> list[Node]:
    roots: list[Node] = []
    open_lists: list[tuple[str, Node]] = []  # the kind and node of each open level
    for markers, text in items:
        kinds = ["orderedList" if char == "#" else "bulletList" for char in markers]
        keep = 0
        while keep < min(len(open_lists), len(kinds)) and open_lists[keep][0] == kinds[keep]:
            keep += 1
        del open_lists[keep:]
        while len(open_lists) < len(kinds):
            kind = kinds[len(open_lists)]
            node: Node = {"type": kind, "content": []}
            if open_lists:
                parent = open_lists[-1][1]["content"]
                if not parent:
                    parent.append({"type": "listItem", "content": []})
                parent[-1]["content"].append(node)
            else:
                roots.append(node)
            open_lists.append((kind, node))
        paragraph = {"type": "paragraph", "content": parse_inline("\n".join(text))}
        open_lists[-1][1]["content"].append({"type": "listItem", "content": [paragraph]})
    return roots
