"""The messages of a target file's edit call, shared by the edit and the run's cost estimate
(which counts the very prompts the edits will send)."""

from __future__ import annotations

from base.targets import Target
from editing import build_window, decide_encoding
from integrations.llm.prompts import Message, Turn, edit_messages, new_file_messages


def _excerpt(text: str, spec: str, budget: int) -> tuple[str, str]:
    window = build_window(text, spec, token_budget=budget)
    if window.whole_file:
        return window.text, "The whole file follows, with line numbers (not part of the file)."
    return window.text, (f"Excerpts of the file ({window.file_lines} lines) follow, with line "
                         "numbers (not part of the file); copy `search` text exactly.")


def edit_prompt(target: Target, original: bytes, spec: str, default_encoding: str | None,
                token_budget: int, feedback: list[Turn]) -> list[Message]:
    """An existing file's edit call: the file (or its windows around what the spec names)
    and the spec, then any failed attempts."""
    decoded = decide_encoding(original, configured=target.encoding,
                              default_encoding=default_encoding)
    excerpt, note = _excerpt(decoded.text, spec, token_budget)
    return edit_messages(path=target.path, instructions=target.instructions, excerpt=excerpt,
                         excerpt_note=note, spec=spec, feedback=feedback)


def new_file_prompt(target: Target, spec: str, feedback: list[Turn]) -> list[Message]:
    return new_file_messages(path=target.path, instructions=target.instructions, spec=spec,
                             feedback=feedback)
