"""The run's one Jira comment, written once as ADF (REST v3, Jira Cloud) and once as wiki
text (REST v2, Jira Data Center) from the same lines, every text passed through `redact`.

ADF: "Atlassian Document Format" (developer.atlassian.com/cloud/jira/platform/apis/document/
structure/): paragraphs, a bullet list, `text` nodes with a `link` mark. Wiki: "Text
Formatting Notation" (jira.atlassian.com/secure/WikiRendererHelpAction.jspa): `[text|url]`
links, `* ` bullets, `{{code}}`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from base.redaction import redact

State = Literal["working", "waiting", "completed", "partial", "failed"]
MAX_SUMMARY_CHARS = 300  # a file's summary in the comment; the PR has the whole


@dataclass(frozen=True)
class FileLine:
    path: str
    changed: bool
    summary: str  # what was changed, or in plain words why not


@dataclass(frozen=True)
class RunReport:
    """What the comment says about one run."""

    state: State
    run_url: str | None
    pr_url: str | None = None
    approval_url: str | None = None
    files: tuple[FileLine, ...] = ()
    cost: str | None = None
    reason: str | None = None  # failed: what went wrong, in plain words
    advice: str | None = None  # failed: what a person can do about it
    notes: tuple[str, ...] = field(default=())  # e.g. a transition that was not available


Inline = str | tuple[str, str]  # text, or (text, url) for a link


@dataclass(frozen=True)
class Paragraph:
    parts: list[Inline]


@dataclass(frozen=True)
class Bullets:
    items: list[list[Inline]]


Block = Paragraph | Bullets

_HEADLINES: dict[State, str] = {
    "working": "sdb-agent is working on this issue.",
    "waiting": "sdb-agent wrote a spec for this issue and is waiting for its approval.",
    "completed": "sdb-agent opened a pull request for this issue.",
    "partial": "sdb-agent opened a pull request for this issue; some files were not changed.",
    "failed": "sdb-agent could not finish this issue.",
}


def blocks(report: RunReport) -> list[Block]:
    """The comment's content, in order, before it is written in either format."""
    out: list[Block] = [Paragraph([_HEADLINES[report.state]])]
    if report.pr_url:
        out.append(Paragraph(["Pull request: ", (report.pr_url, report.pr_url)]))
    if report.approval_url:
        out.append(Paragraph(["Approve or reject the spec: ", ("approval", report.approval_url)]))
    if report.reason:
        out.append(Paragraph([f"What went wrong: {report.reason}"]))
    if report.advice:
        out.append(Paragraph([f"What to do: {report.advice}"]))
    if report.files:
        out.append(Bullets([[f"{f.path}: {'changed' if f.changed else 'not changed'}"
                             + (f" - {_cut(f.summary)}" if f.summary else "")]
                            for f in report.files]))
    if report.cost:
        out.append(Paragraph([f"LLM cost: {report.cost}"]))
    out += [Paragraph([f"Note: {note}"]) for note in report.notes]
    if report.run_url:
        out.append(Paragraph([("This run in the Prefect UI", report.run_url)]))
    return out


def as_adf(report: RunReport) -> dict[str, Any]:
    content = [_adf_paragraph(b.parts) if isinstance(b, Paragraph) else
               {"type": "bulletList", "content": [
                   {"type": "listItem", "content": [_adf_paragraph(item)]} for item in b.items]}
               for b in blocks(report)]
    return {"type": "doc", "version": 1, "content": content}


def as_wiki(report: RunReport) -> str:
    return "\n\n".join(
        _wiki_line(b.parts) if isinstance(b, Paragraph) else
        "\n".join(f"* {_wiki_line(item)}" for item in b.items)
        for b in blocks(report))


def comment_body(report: RunReport, api_version: str) -> object:
    """The body REST `api_version` takes: ADF on "3", wiki text on "2"."""
    return as_adf(report) if api_version == "3" else as_wiki(report)


def _adf_paragraph(inlines: list[Inline]) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = []
    for part in inlines:
        if isinstance(part, str):
            nodes.append({"type": "text", "text": redact(part)})
        else:
            text, url = part
            nodes.append({"type": "text", "text": redact(text),
                          "marks": [{"type": "link", "attrs": {"href": redact(url)}}]})
    return {"type": "paragraph", "content": nodes}


def _wiki_line(inlines: list[Inline]) -> str:
    out = []
    for part in inlines:
        if isinstance(part, str):
            out.append(_wiki_text(redact(part)))
        else:
            text, url = part
            out.append(f"[{_wiki_text(redact(text))}|{redact(url)}]")
    return "".join(out)


def _wiki_text(text: str) -> str:
    """Text that wiki markup would otherwise read as formatting (`{`, `[`, `|`) escaped, and
    no line breaks inside a paragraph or bullet."""
    for mark in ("\\", "{", "}", "[", "]", "|"):
        text = text.replace(mark, "\\" + mark)
    return text.replace("\r", " ").replace("\n", " ")


def _cut(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_SUMMARY_CHARS else flat[:MAX_SUMMARY_CHARS - 1] + "…"
