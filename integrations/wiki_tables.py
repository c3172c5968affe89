"""Jira wiki tables (`||header||header||` and `|cell|cell|` rows) as ADF tables.

As Atlassian's converter reads them (`tokenize/table.ts`): a run of `||` opens a header
cell and `|` a plain one, a `|` inside a `[text|url]` link is not a cell border, a row that
does not end with `|` goes on to the next line inside its last cell, and a blank line or a
line that is not a row ends the table. `\\|` is a literal pipe.
"""

from __future__ import annotations

import re
from typing import Any

from integrations.wiki_inline import parse_inline

Node = dict[str, Any]
# A border (group 1), or cell text: an escaped pipe, a whole link, a run of other characters.
_TOKEN = re.compile(r"(\|+)|\\\||\[[^\[\]\n]+\]|[^|\[\\]+|.", re.DOTALL)


def parse_table(lines: list[str], index: int) -> tuple[Node, int]:
    """The table starting at `lines[index]` and the index of the first line after it."""
    rows: list[str] = []
    while index < len(lines):
        stripped = lines[index].strip()
        if stripped.startswith("|"):
            rows.append(stripped)
        elif stripped and rows and not rows[-1].endswith("|"):
            rows[-1] += "\n" + stripped
        else:
            break
        index += 1
    return {"type": "table", "content": [_row(raw) for raw in rows]}, index


def _row(raw: str) -> Node:
    cells = []
    for header, text in _cells(raw):
        paragraph = {"type": "paragraph", "content": parse_inline(text.strip())}
        kind = "tableHeader" if header else "tableCell"
        cells.append({"type": kind, "content": [paragraph]})
    return {"type": "tableRow", "content": cells}


def _cells(raw: str) -> list[tuple[bool, str]]:
    """(is a header, markup) of each cell of one row."""
    cells: list[tuple[bool, str]] = []
    border, buffer = "", []
    for token in _TOKEN.finditer(raw):
        if token.group(1) is None:
            buffer.append(token.group())
            continue
        if buffer:
            cells.append((border == "||", "".join(buffer)))
            buffer = []
        border = token.group(1)
    if "".join(buffer).strip():
        cells.append((border == "||", "".join(buffer)))
    return cells
