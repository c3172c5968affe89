"""The cost report as plain text, Markdown (Prefect artifact) and HTML (email body)."""

from __future__ import annotations

from html import escape

import pandas as pd

from reports.cost_report import CostReport

COLUMNS = {"cost_usd": "cost", "calls": "calls", "tokens": "tokens",
           "cache_hit_rate": "cache hits", "unpriced_calls": "unpriced"}


def _cell(column: str, value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "unpriced" if column == "cost_usd" else "—"
    if column == "cost_usd":
        return f"${float(value):,.4f}"  # type: ignore[arg-type]
    if column == "cache_hit_rate":
        return f"{float(value):.0%}"  # type: ignore[arg-type]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def rows(frame: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Header and formatted cells of a summary frame."""
    header = [COLUMNS.get(c, c.replace("_", " ")) for c in frame.columns]
    body = [[_cell(c, v) for c, v in zip(frame.columns, record, strict=True)]
            for record in frame.itertuples(index=False)]
    return header, body


def headline(report: CostReport) -> list[str]:
    t = report.totals
    money = f"${t['cost_usd']:,.4f}"
    if t["unpriced_calls"]:
        money += f" + {t['unpriced_calls']} unpriced call(s)"
    rate = "—" if t["success_rate"] is None else f"{t['success_rate']:.0%}"
    hits = "—" if t["cache_hit_rate"] is None else f"{t['cache_hit_rate']:.0%}"
    return [
        f"Cost: {money} (7-day average ${t['avg7_cost_usd']:,.4f})",
        f"Calls: {t['calls']:,} (7-day average {t['avg7_calls']:,}), tokens {t['tokens']:,}, "
        f"cache hits {hits}",
        f"Issue runs finished: {t['runs_finished']}, success {rate}, "
        f"p50 {_seconds(t['p50_seconds'])}, p95 {_seconds(t['p95_seconds'])}",
    ]


def _seconds(value: object) -> str:
    return "—" if value is None else f"{value} s"


def sections(report: CostReport) -> list[tuple[str, pd.DataFrame]]:
    return [("By model", report.by_model), ("By call type", report.by_call_type),
            ("Top issues by cost", report.top_issues)]


def title(report: CostReport) -> str:
    return f"LLM cost report for {report.day} ({report.timezone})"


def to_text(report: CostReport) -> str:
    lines = [*report.alerts, title(report), "", *headline(report)]
    for name, frame in sections(report):
        header, body = rows(frame)
        widths = [max(len(x) for x in col) for col in zip(header, *body, strict=True)]
        lines += ["", name, "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in body]
        if not body:
            lines.append("(no calls)")
    return "\n".join(lines) + "\n"


def to_markdown(report: CostReport) -> str:
    lines = [f"> **{escape(a)}**\n" for a in report.alerts]
    lines += [f"# {title(report)}", "", *(f"- {line}" for line in headline(report))]
    for name, frame in sections(report):
        header, body = rows(frame)
        lines += ["", f"## {name}", "", "| " + " | ".join(header) + " |",
                  "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in body]
    return "\n".join(lines) + "\n"


def _align(text: str) -> str:
    return "right" if text[:1].isdigit() or text[:1] == "$" else "left"


def _html_table(frame: pd.DataFrame) -> str:
    header, body = rows(frame)
    cell = 'style="padding:4px 10px;border-bottom:1px solid #ddd;text-align:{}"'
    head = "".join(f"<th {cell.format('left')}>{escape(h)}</th>" for h in header)
    trs = "".join(
        "<tr>" + "".join(
            f"<td {cell.format(_align(c))}>{escape(c)}</td>" for c in r) + "</tr>"
        for r in body
    ) or f'<tr><td colspan="{len(header)}">no calls</td></tr>'
    return f'<table style="border-collapse:collapse;font-size:13px"><tr>{head}</tr>{trs}</table>'


def to_html(report: CostReport, *, chart_cid: str) -> str:
    alerts = "".join(
        f'<p style="background:#fde2e1;color:#9b1c1c;padding:8px 12px;font-weight:bold">'
        f"{escape(a)}</p>" for a in report.alerts
    )
    facts = "".join(f"<li>{escape(line)}</li>" for line in headline(report))
    body = "".join(f"<h3>{escape(name)}</h3>{_html_table(frame)}"
                   for name, frame in sections(report))
    return (
        '<html><body style="font-family:Arial,sans-serif;color:#222">'
        f"{alerts}<h2>{escape(title(report))}</h2><ul>{facts}</ul>"
        f'<img src="cid:{chart_cid}" alt="LLM cost by model, last 14 days" width="720">'
        f"{body}<p style=\"color:#777;font-size:12px\">Yesterday's calls are attached as CSV."
        " Unpriced calls are models with no known price: their cost is unknown, not $0.</p>"
        "</body></html>"
    )
