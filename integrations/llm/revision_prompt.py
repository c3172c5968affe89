"""A review comment as the edit prompt's specification (`prompts.edit_messages`), so a revision
goes through the same system rules, file excerpt and retry turns as the first edit.

The comment is quoted as data, like issue text: it says what to change in this one file, never
which files may change. For an inline comment the line it sits on is quoted too, which also
centres a windowed excerpt of a large file on it.
"""

from __future__ import annotations


def revision_spec(*, request: str, path: str, line: int | None, line_text: str | None) -> str:
    where = ""
    if line is not None:
        where = f"\n\nThe comment is on line {line} of {path}"
        where += f":\n<line>\n{line_text}\n</line>" if line_text is not None else "."
    return ("A reviewer asked for a change to this pull request. Change only what the "
            "review comment asks for in this file, and leave everything else as it is."
            f"\n\n<review_comment>\n{request}\n</review_comment>{where}")
