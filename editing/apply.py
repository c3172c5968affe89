"""Apply search/replace edits to a file's bytes, or create a new file, all-or-nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from editing.closest import closest_block
from editing.diff import Change, unified_diff
from editing.edits import Edit, check_edits
from editing.encoding import (
    DecodedFile,
    EncodingLabel,
    EncodingSource,
    codec_name,
    decide_encoding,
)
from editing.eol import EolStyle, NormalizedText, eol_style
from editing.errors import (
    AmbiguousIndentationError,
    AmbiguousMatchError,
    FileTooLargeError,
    MatchError,
    NoMatchError,
    OverlappingEditsError,
)
from editing.matching import Ambiguity, Matcher, MatchKind, Outcome, Placement, UnclearIndent
from editing.splice import Splice, encode_replacements, splice_and_prove


@dataclass(frozen=True, slots=True)
class EditResult:
    """Everything history needs about one file's change; ``data`` is the new file."""

    path: str
    data: bytes
    diff: str
    edit_count: int
    hunk_count: int
    original_encoding: str | None  # None when the file is created
    final_encoding: str
    encoding_source: EncodingSource
    encoding_reason: str
    eol: EolStyle
    bom: bool
    match_kinds: tuple[MatchKind, ...]  # per edit, in the order given
    created: bool


def apply_edits(
    original: bytes,
    edits: Sequence[Edit],
    *,
    path: str,
    configured_encoding: str | None = None,
    default_encoding: str | None = None,
    max_bytes: int | None = None,
) -> EditResult:
    """Apply every edit to ``original`` or raise an :class:`EditError` and apply none."""
    if max_bytes is not None and len(original) > max_bytes:
        raise FileTooLargeError(f"{path} is {len(original)} bytes, over the limit of "
                                f"{max_bytes} bytes; it will not be edited automatically.")
    check_edits(edits)
    decoded = decide_encoding(original, configured=configured_encoding,
                              default_encoding=default_encoding)
    normalized = NormalizedText(decoded.text)
    placements = _place_all(normalized.norm, edits)
    order = sorted(range(len(edits)), key=lambda i: placements[i].start)
    _refuse_overlaps(normalized.norm, placements, order)
    ascending = [offset for i in order for offset in (placements[i].start, placements[i].end)]
    bounds = normalized.to_text(ascending)
    splices = []
    for rank, index in enumerate(order):
        start, end = bounds[2 * rank], bounds[2 * rank + 1]
        text = normalized.endings_for(start, end, placements[index].replacement)
        splices.append(Splice(start, end, text, index))
    data = splice_and_prove(original, decoded, splices, encode_replacements(decoded, splices))
    changes = [Change(placements[i].start, placements[i].end, placements[i].replacement)
               for i in order]
    diff, hunks = unified_diff(normalized.norm, changes, path=path)
    return EditResult(
        path=path, data=data, diff=diff, edit_count=len(edits), hunk_count=hunks,
        original_encoding=decoded.label, final_encoding=_final_encoding(decoded, splices),
        encoding_source=decoded.source, encoding_reason=decoded.reason,
        eol=_final_eol(decoded.text, splices), bom=bool(decoded.bom),
        match_kinds=tuple(placement.kind for placement in placements), created=False,
    )


def create_file(
    content: str, *, path: str, encoding: str, eol: EolStyle = EolStyle.LF, bom: bool = False
) -> EditResult:
    """Encode new file content with the chosen encoding, BOM and line endings (LF or CRLF)."""
    if eol not in (EolStyle.LF, EolStyle.CRLF):
        raise ValueError(f"A new file's endings must be LF or CRLF, not {eol.value}.")
    codec = codec_name(encoding)
    bom = bom or encoding.lower().replace("_", "-") == "utf-8-sig" or codec == "utf-16"
    codec = "utf-16-le" if codec == "utf-16" else codec
    bom_bytes = "\ufeff".encode(codec) if bom else b""
    lf_text = content.replace("\r\n", "\n")
    text = lf_text.replace("\n", "\r\n") if eol is EolStyle.CRLF else lf_text
    decoded = DecodedFile("", codec, bom_bytes, EncodingSource.CONFIGURED, "chosen for new file")
    splices = [Splice(0, 0, text, 0)]
    data = splice_and_prove(bom_bytes, decoded, splices, encode_replacements(decoded, splices))
    diff, hunks = unified_diff("", [Change(0, 0, lf_text)], path=path, created=True)
    return EditResult(
        path=path, data=data, diff=diff, edit_count=1, hunk_count=hunks,
        original_encoding=None, final_encoding=str(EncodingLabel(codec, bom)),
        encoding_source=EncodingSource.CONFIGURED, encoding_reason=decoded.reason,
        eol=eol_style(text), bom=bom, match_kinds=(MatchKind.EXACT,), created=True,
    )


def _place_all(norm: str, edits: Sequence[Edit]) -> list[Placement]:
    searches = [edit.search.replace("\r\n", "\n") for edit in edits]
    matcher = Matcher(norm, searches)
    found = [matcher.place(search, edit.replace.replace("\r\n", "\n"))
             for search, edit in zip(searches, edits, strict=True)]
    placed = [item for item in found if isinstance(item, Placement)]
    if len(placed) == len(found):
        return placed
    matched = [i for i, item in enumerate(found) if isinstance(item, Placement)]
    failed = [i for i, item in enumerate(found) if not isinstance(item, Placement)]
    index = failed[0]
    raise _miss_error(index, found[index], searches[index], matcher, matched, failed)


def _miss_error(
    index: int, miss: Outcome, search: str, matcher: Matcher, matched: list[int],
    failed: list[int],
) -> MatchError:
    """The refusal for the first edit that was not placed, saying what to send instead."""
    opening = f"Edit {index}: the search text starting {_first_line(search)}"
    if isinstance(miss, Ambiguity):
        where = ", ".join(str(line) for line in miss.lines)
        return AmbiguousMatchError(
            f"{opening} occurs in more than one place (lines {where}; matched "
            f"{miss.kind.value}). Quote more surrounding lines so it matches exactly one place.",
            edit_index=index, matched=matched, failed=failed)
    if isinstance(miss, UnclearIndent):
        return AmbiguousIndentationError(
            f"{opening} matched line {miss.line} without its indentation {miss.indent!r}, but "
            "the later lines of the replacement are already indented that deep, so it is "
            "unclear whether they are relative to the search or to the file. Quote the whole "
            "line with its indentation, exactly as in the file, and indent the replacement "
            "the same way.", edit_index=index, matched=matched, failed=failed)
    return NoMatchError(
        f"{opening} was not found, even ignoring trailing whitespace, indentation and blank "
        "lines at its edges. The closest lines in the file are:\n"
        f"{closest_block(matcher.lines, search)}\nCopy the search text verbatim from the file.",
        edit_index=index, matched=matched, failed=failed)


def _refuse_overlaps(norm: str, placements: list[Placement], order: list[int]) -> None:
    for before, after in pairwise(order):
        if placements[after].start < placements[before].end:
            line = norm.count("\n", 0, placements[after].start) + 1
            first, second = sorted((before, after))
            raise OverlappingEditsError(
                f"Edits {first} and {second} overlap at line {line}. Merge them into one edit "
                "or make their search texts cover separate lines.",
                edit_index=second, matched=[i for i in order if i != second])


def _final_encoding(decoded: DecodedFile, splices: Sequence[Splice]) -> str:
    if decoded.source is EncodingSource.ASCII_DEFAULT:
        return "ascii" if all(s.text.isascii() for s in splices) else decoded.codec
    return decoded.label


def _final_eol(text: str, splices: Sequence[Splice]) -> EolStyle:
    crlf, lf = text.count("\r\n"), text.count("\n")
    for splice in splices:
        crlf += splice.text.count("\r\n") - text.count("\r\n", splice.start, splice.end)
        lf += splice.text.count("\n") - text.count("\n", splice.start, splice.end)
    lf -= crlf
    if crlf and lf:
        return EolStyle.MIXED
    return EolStyle.CRLF if crlf else EolStyle.LF if lf else EolStyle.NONE


def _first_line(search: str) -> str:
    line = search.strip().split("\n")[0].strip()
    return repr(line if len(line) <= 60 else line[:57] + "...")
