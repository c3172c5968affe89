"""The cost report as plain text, Markdown (Prefect artifact) and HTML (email body)."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from numbers import Real
from typing import NamedTuple
from urllib.parse import quote

import pandas as pd

from reports.cost_report import BASES, CostReport

COLUMNS = {"cost_usd": "cost", "calls": "calls", "tokens": "tokens",
           "cache_hit_rate": "cache hits", "unpriced_calls": "unpriced",
           "files_changed": "files", "pr_url": "PR", "flow_run_url": "Prefect run",
           "project_key": "project"}
LINKS = {"pr_url": "PR", "flow_run_url": "run"}  # column: the label its links show
URL_SAFE = ":/?#@!$&'*+,;=%~[]"  # kept as is in a Markdown link; ( ) | space etc. are quoted


class Link(NamedTuple):
    """A cell that Markdown and HTML show as a link and plain text as its address."""

    label: str
    href: str


Cell = str | Link


class Section(NamedTuple):
    name: str
    frame: pd.DataFrame
    empty: str  # what an empty table means, said instead of showing no rows


def _cell(column: str, value: object) -> Cell:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "unpriced" if column == "cost_usd" else "—"
    if column in LINKS and str(value).startswith(("https://", "http://")):
        return Link(LINKS[column], str(value))  # anything else (local://...) is only text
    if column == "cost_usd":
        return f"${float(value):,.4f}"  # type: ignore[arg-type]
    if column == "cache_hit_rate":
        return f"{float(value):.0%}"  # type: ignore[arg-type]
    if isinstance(value, Real) and not isinstance(value, bool):  # numpy's numbers too
        return f"{value:,}"
    return str(value)


def rows(frame: pd.DataFrame) -> tuple[list[str], list[list[Cell]]]:
    """Header and formatted cells of a summary frame."""
    header = [COLUMNS.get(c, c.replace("_", " ")) for c in frame.columns]
    body = [[_cell(c, v) for c, v in zip(frame.columns, record, strict=True)]
            for record in frame.itertuples(index=False)]
    return header, body


Figure = float | int | None


def _change(pct: Figure, current: Figure) -> str:
    """A signed percent; with a base of 0 there is no ratio: "new" if there is something now."""
    if pct is None:
        return "new" if current else "—"
    return f"{round(pct):+d}%"


def _against(t: dict[str, Figure], figure: str, shown: Callable[[Figure], str]) -> str:
    """"previous day X, +n%; 7-day average Y, +m%" for one figure of the totals."""
    return "; ".join(
        f"{label} {shown(t[f'{base}_{figure}'])}, "
        f"{_change(t[f'{figure}_vs_{base}_pct'], t[figure])}"
        for base, label in BASES.items()
    )


def headline(report: CostReport) -> list[str]:
    t = report.totals
    money = f"${t['cost_usd']:,.4f}"
    if t["unpriced_calls"]:
        money += f" + {t['unpriced_calls']} unpriced call(s)"
    rate = "—" if t["success_rate"] is None else f"{t['success_rate']:.0%}"
    hits = "—" if t["cache_hit_rate"] is None else f"{t['cache_hit_rate']:.0%}"
    return [
        f"Cost: {money} ({_against(t, 'cost_usd', lambda v: f'${v:,.4f}')})",
        f"Calls: {t['calls']:,} ({_against(t, 'calls', lambda v: f'{v:,}')}), "
        f"tokens {t['tokens']:,}, cache hits {hits}",
        f"Issue runs finished: {t['runs_finished']}, success {rate}, "
        f"p50 {_seconds(t['p50_seconds'])}, p95 {_seconds(t['p95_seconds'])}",
    ]


def _seconds(value: object) -> str:
    return "—" if value is None else f"{value} s"


def sections(report: CostReport) -> list[Section]:
    """What happened to each issue first (the reason to open the report), then the money."""
    return [Section("Issue runs", report.issue_runs, "no issue runs finished"),
            Section("Failed runs", report.failed_runs, "no failed runs"),
            Section("By model", report.by_model, "no calls"),
            Section("By call type", report.by_call_type, "no calls"),
            Section("By project and repository", report.by_route, "no calls"),
            Section("Top issues by cost", report.top_issues, "no calls")]


def title(report: CostReport) -> str:
    narrowed = "".join(f", {name} {value}" for name, value in (
        ("project", report.route.project_key), ("repository", report.route.repository))
        if value)
    return f"LLM cost report for {report.day} ({report.timezone}){narrowed}"


def _plain(cell: Cell) -> str:
    return cell.href if isinstance(cell, Link) else cell


def _text_table(section: Section) -> list[str]:
    header, body = rows(section.frame)
    if not body:
        return [f"({section.empty})"]
    cells = [[_plain(c) for c in r] for r in body]
    widths = [max(len(x) for x in col) for col in zip(header, *cells, strict=True)]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
            for r in [header, *cells]]


def to_text(report: CostReport) -> str:
    lines = [*report.alerts, title(report), "", *headline(report)]
    for section in sections(report):
        lines += ["", section.name, *_text_table(section)]
    return "\n".join(lines) + "\n"


def _md_text(text: str) -> str:
    """User text that stays text in a Markdown table: no HTML, no link, no column break."""
    for special in ("\\", "[", "]", "|"):
        text = text.replace(special, "\\" + special)
    return escape(text)


def _md_cell(cell: Cell) -> str:
    if isinstance(cell, Link):
        return f"[{_md_text(cell.label)}]({quote(cell.href, safe=URL_SAFE)})"
    return _md_text(cell)


def _md_table(section: Section) -> list[str]:
    header, body = rows(section.frame)
    if not body:
        return [f"_{section.empty}_"]
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(_md_cell(c) for c in r) + " |" for r in body)]


def to_markdown(report: CostReport) -> str:
    lines = [f"> **{escape(a)}**\n" for a in report.alerts]
    lines += [f"# {title(report)}", "", *(f"- {line}" for line in headline(report))]
    for section in sections(report):
        lines += ["", f"## {section.name}", "", *_md_table(section)]
    return "\n".join(lines) + "\n"


def _align(cell: Cell) -> str:
    text = _plain(cell)
    return "right" if text[:1].isdigit() or text[:1] == "$" else "left"


def _html_cell(cell: Cell) -> str:
    if isinstance(cell, Link):
        return f'<a href="{escape(cell.href)}">{escape(cell.label)}</a>'
    return escape(cell)


def _html_table(section: Section) -> str:
    header, body = rows(section.frame)
    cell = 'style="padding:4px 10px;border-bottom:1px solid #ddd;text-align:{}"'
    head = "".join(f"<th {cell.format('left')}>{escape(h)}</th>" for h in header)
    trs = "".join(
        "<tr>" + "".join(
            f"<td {cell.format(_align(c))}>{_html_cell(c)}</td>" for c in r) + "</tr>"
        for r in body
    ) or f'<tr><td colspan="{len(header)}">{escape(section.empty)}</td></tr>'
    return f'<table style="border-collapse:collapse;font-size:13px"><tr>{head}</tr>{trs}</table>'


def to_html(report: CostReport, *, chart_cid: str) -> str:
    alerts = "".join(
        f'<p style="background:#fde2e1;color:#9b1c1c;padding:8px 12px;font-weight:bold">'
        f"{escape(a)}</p>" for a in report.alerts
    )
    facts = "".join(f"<li>{escape(line)}</li>" for line in headline(report))
    body = "".join(f"<h3>{escape(section.name)}</h3>{_html_table(section)}"
                   for section in sections(report))
    return (
        '<html><body style="font-family:Arial,sans-serif;color:#222">'
        f"{alerts}<h2>{escape(title(report))}</h2><ul>{facts}</ul>"
        f'<img src="cid:{chart_cid}" alt="LLM cost by model, last 14 days" width="720">'
        f"{body}<p style=\"color:#777;font-size:12px\">Yesterday's calls are attached as CSV."
        " Unpriced calls are models with no known price: their cost is unknown, not $0.</p>"
        "</body></html>"
    )
