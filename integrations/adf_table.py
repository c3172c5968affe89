"""ADF tables as Markdown tables, one text row per table row.

A `|` in a cell is escaped so it cannot make a column, a cell's paragraphs are joined with
`<br>`, and a cell spanning columns is followed by empty cells so the columns line up.
Markdown needs a header row: the first row is it when all its cells are tableHeader nodes,
else an empty one stands in, so no data row is presented as a header; a header cell
elsewhere (a row's heading) is bold. Sources,
developer.atlassian.com/cloud/jira/platform/apis/document/nodes/: table, tableRow,
tableHeader, tableCell (`attrs.colspan`, `attrs.rowspan`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from integrations.adf_inline import attrs_of, children

MAX_COLSPAN = 64  # a hostile colspan must not make a million empty cells
Render = Callable[[dict[str, Any]], str]


def render_table(node: dict[str, Any], block: Render) -> str:
    rows = children(node)
    has_header = bool(rows) and _all_headers(rows[0])
    grid = [_row(row, block, bold=number > 0 or not has_header)
            for number, row in enumerate(rows)]
    width = max((len(cells) for cells in grid), default=0)
    if width == 0:
        return ""
    header, body = (grid[0], grid[1:]) if has_header else ([], grid)
    lines = [_line(header, width), "| " + " | ".join(["---"] * width) + " |"]
    lines.extend(_line(cells, width) for cells in body)
    return "\n".join(lines)


def _all_headers(row: dict[str, Any]) -> bool:
    cells = children(row)
    return bool(cells) and all(cell.get("type") == "tableHeader" for cell in cells)


def _row(row: dict[str, Any], block: Render, *, bold: bool) -> list[str]:
    """The row's cell texts; header cells bold when `bold` (they are not the header row)."""
    cells: list[str] = []
    for cell in children(row):
        span = attrs_of(cell).get("colspan")
        extra = min(span, MAX_COLSPAN) - 1 if isinstance(span, int) and span > 1 else 0
        text = _cell_text(cell, block)
        cells.append(f"**{text}**" if bold and text and cell.get("type") == "tableHeader"
                     else text)
        cells.extend([""] * extra)
    return cells


def _cell_text(cell: dict[str, Any], block: Render) -> str:
    parts = [text for text in (block(n) for n in children(cell)) if text]
    return "<br>".join(parts).replace("|", "\\|").replace("\n", "<br>")


def _line(cells: list[str], width: int) -> str:
    padded = cells + [""] * (width - len(cells))
    return "| " + " | ".join(padded) + " |"
