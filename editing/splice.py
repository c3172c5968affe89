"""Splice encoded replacements into the original bytes, then prove the result.

Only replacement text is ever encoded into the output; every other byte is copied
from the original. The proof runs on every apply, not just in tests: the bytes
between, before and after the edited spans equal the original's, each span holds
exactly the encoded replacement, and the whole output decodes back to the
expected text. A failed proof raises :class:`ProofError` and nothing is returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from editing.encoding import DecodedFile
from editing.errors import AmbiguousEncodingError, ProofError, UnencodableTextError


@dataclass(frozen=True, slots=True)
class Splice:
    """Replace ``text[start:end]`` of the decoded file with ``text`` (final endings)."""

    start: int
    end: int
    text: str
    edit_index: int


@dataclass(frozen=True, slots=True)
class _ByteSpan:
    start: int
    end: int
    data: bytes


def encode_replacements(decoded: DecodedFile, splices: Sequence[Splice]) -> list[bytes]:
    """Encode every replacement or refuse the first character the codec cannot hold."""
    encoded = []
    for splice in splices:
        if decoded.alternative and not splice.text.isascii():
            raise _ambiguous(decoded, splice)
        try:
            encoded.append(splice.text.encode(decoded.codec))
        except UnicodeEncodeError as error:
            raise _unencodable(decoded, splices, splice, error) from None
    return encoded


def splice_and_prove(
    original: bytes, decoded: DecodedFile, splices: Sequence[Splice], encoded: Sequence[bytes]
) -> bytes:
    """Return the new bytes for sorted, non-overlapping ``splices``; prove them first."""
    codec, text = decoded.codec, decoded.text
    spans: list[_ByteSpan] = []
    text_pos, byte_pos = 0, len(decoded.bom)
    for splice, data in zip(splices, encoded, strict=True):
        start = byte_pos + len(text[text_pos : splice.start].encode(codec))
        end = start + len(text[splice.start : splice.end].encode(codec))
        spans.append(_ByteSpan(start, end, data))
        text_pos, byte_pos = splice.end, end
    if byte_pos + len(text[text_pos:].encode(codec)) != len(original):
        raise ProofError("Byte offsets of the edited spans do not add up to the file size.")
    pieces, cursor = [], 0
    for span in spans:
        pieces += [original[cursor : span.start], span.data]
        cursor = span.end
    pieces.append(original[cursor:])
    output = b"".join(pieces)
    _prove(original, output, spans, decoded, _expected_text(text, splices))
    return output


def _expected_text(text: str, splices: Sequence[Splice]) -> str:
    pieces, cursor = [], 0
    for splice in splices:
        pieces += [text[cursor : splice.start], splice.text]
        cursor = splice.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _prove(
    original: bytes, output: bytes, spans: list[_ByteSpan], decoded: DecodedFile, expected: str
) -> None:
    old, new = memoryview(original), memoryview(output)
    old_pos = new_pos = 0
    for index, span in enumerate(spans):
        kept = span.start - old_pos
        if new[new_pos : new_pos + kept] != old[old_pos : span.start]:
            raise ProofError(f"Bytes before edited span {index} differ from the original.")
        new_pos += kept
        if new[new_pos : new_pos + len(span.data)] != span.data:
            raise ProofError(f"Edited span {index} does not hold its encoded replacement.")
        new_pos, old_pos = new_pos + len(span.data), span.end
    if new[new_pos:] != old[old_pos:]:
        raise ProofError("Bytes after the last edited span differ from the original.")
    if not output.startswith(decoded.bom) or (
        output[len(decoded.bom) :].decode(decoded.codec) != expected
    ):
        raise ProofError(f"The output does not decode back to the edited text as "
                         f"{decoded.codec}.")


def _ambiguous(decoded: DecodedFile, splice: Splice) -> AmbiguousEncodingError:
    char = next(c for c in splice.text if not c.isascii())
    return AmbiguousEncodingError(
        f"Edit {splice.edit_index} writes {char!r} (U+{ord(char):04X}), but this file's few "
        f"non-ASCII bytes read the same in {decoded.codec} and {decoded.alternative}, so the "
        "encoding for new non-ASCII text would be a guess. Keep the new text ASCII; to allow "
        "it, set `encoding:` for this file in TARGETS_FILE.",
        edit_index=splice.edit_index)


def _unencodable(
    decoded: DecodedFile, splices: Sequence[Splice], failed: Splice, error: UnicodeEncodeError
) -> UnencodableTextError:
    char = error.object[error.start]
    line = decoded.text.count("\n", 0, failed.start) + failed.text.count("\n", 0, error.start) + 1
    for splice in splices:
        if splice is failed:
            break
        line += splice.text.count("\n") - decoded.text.count("\n", splice.start, splice.end)
    name = decoded.codec
    return UnencodableTextError(
        f"Edit {failed.edit_index} writes {char!r} (U+{ord(char):04X}) at line {line} of the "
        f"new file, but the file's encoding {name} cannot hold that character. Rewrite that "
        f"text without it (spell it out, or use an escape such as \\u{ord(char):04x} in a "
        "string literal).",
        char=char,
        line=line,
        encoding=name,
        edit_index=failed.edit_index,
    )
