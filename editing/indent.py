"""Indentation the model got wrong: measure the shift against the file, re-indent the replacement.

Models often drop or change leading whitespace, and usually the same way in the search and
in the replacement (Aider's editblock coder relies on the same observation). So once a
search is placed with a different indentation, the replacement is moved by the same
difference. The prefix that is added is always copied from the file, so a tab-indented
file gains tabs, never spaces.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Indent:
    """A uniform shift; ``added`` is True when the file is deeper than the search."""

    prefix: str
    added: bool


def leading(line: str) -> str:
    """The leading whitespace of one line."""
    return line[: len(line) - len(line.lstrip())]


def uniform_indent(block: list[str], wanted: list[str]) -> Indent | None:
    """The one shift that turns every non-blank ``wanted`` line into its ``block`` line."""
    pairs = [(leading(a), leading(b)) for a, b in zip(block, wanted, strict=True) if b.strip()]
    have, want = pairs[0]
    if have.endswith(want):
        indent = Indent(have[: len(have) - len(want)], added=True)
    elif want.endswith(have):
        indent = Indent(want[: len(want) - len(have)], added=False)
    else:
        return None
    for have, want in pairs:
        deeper, shallower = (have, want) if indent.added else (want, have)
        if deeper != indent.prefix + shallower:
            return None
    return indent


def reindent(text: str, indent: Indent | None) -> str:
    """Move every non-blank line of ``text`` by ``indent``; blank lines stay as written."""
    if indent is None or not indent.prefix:
        return text
    out = []
    for line in text.split("\n"):
        if not line.strip():
            out.append(line)
        elif indent.added:
            out.append(indent.prefix + line)
        elif line.startswith(indent.prefix):
            out.append(line[len(indent.prefix) :])
        else:
            out.append(line[min(len(indent.prefix), len(leading(line))) :])
    return "\n".join(out)


def continuation_prefix(line: str, column: int, replace: str) -> str | None:
    """What to put before the later lines of ``replace`` spliced in at ``column`` of ``line``.

    The first replacement line lands after the text already before ``column``, but the
    later ones start at column 0, which breaks an indented block. When that text is only
    whitespace, the search dropped it, so the replacement moves by it too (the model's
    frame, as for a multi-line search). When it is part of the line's code, the later
    lines are taken as relative to the line's indentation. Later lines that all already
    start with that indentation were written for the file: a fragment keeps them, but
    after a dropped indentation either reading fits, and None refuses to guess.
    """
    indent = leading(line)
    before = line[:column]
    later = [row for row in replace.split("\n")[1:] if row.strip()]
    if not indent or not before or not later:
        return ""
    written_for_file = all(row.startswith(indent) for row in later)
    if before.strip():
        return "" if written_for_file else indent
    return None if written_for_file else before


def indent_continuation(replace: str, prefix: str) -> str:
    """``replace`` with ``prefix`` before each non-blank line after the first."""
    head, newline, tail = replace.partition("\n")
    return head + newline + reindent(tail, Indent(prefix, added=True))
