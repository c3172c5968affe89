"""How the engine decides a file's encoding. This is the one place it is documented.

Priority order, first that applies wins:

1. **Configured.** The encoding configured for the target file. A BOM that agrees
   with it (UTF-8 BOM for ``utf-8``; FF FE / FE FF for ``utf-16``) is kept as a BOM.
2. **BOM.** ``EF BB BF`` is UTF-8 with BOM; ``FF FE`` is UTF-16 LE; ``FE FF`` is
   UTF-16 BE. The BOM bytes are kept apart and the body uses a BOM-less codec.
3. **Strict UTF-8**, when the bytes hold at least one non-ASCII byte and decode.
4. **chardet's guess**, mapped to a codec that round-trips the bytes. chardet
   names CP949 files ``EUC-KR``, but Python's ``euc_kr`` codec cannot decode the
   CP949 extended syllables (똠, 햏) and must not encode new text either, so the
   whole family (EUC-KR, CP949, UHC, KS C 5601) maps to ``cp949``. Every guess must
   decode then re-encode to identical bytes before it is accepted. chardet only
   sees a bounded sample (the head plus non-ASCII-rich chunks); the round trip is
   proven on the full bytes.
   **Two readings.** When the bytes that rule 3 or 4 read also round-trip in the
   repository's default encoding (``cp949`` when none is declared) and read as other
   text there, the file's few non-ASCII bytes fit both (``표`` in CP949 is valid
   UTF-8). The first reading is kept for the text, the other is recorded as
   :attr:`DecodedFile.alternative`, and the engine refuses new non-ASCII text in that
   file: writing it in either encoding would be a guess. Configuring the file's
   encoding settles it.
5. **Pure ASCII** carries no evidence. The file is read as ASCII and new non-ASCII
   text gets the repository's default encoding, else UTF-8; the decision is
   recorded as :attr:`EncodingSource.ASCII_DEFAULT`.
6. Otherwise the file is refused (:class:`UndecodableFileError`). The engine never
   decodes with ``errors="replace"``: a lossy decode would corrupt the bytes it
   promises to keep.

NUL bytes mean binary and are refused, except in UTF-16 (found by BOM or
configured). Stateful codecs (ISO-2022, UTF-7, HZ) are refused because edits are
spliced as independently encoded byte segments.
"""

from __future__ import annotations

import codecs
import enum
import re
from dataclasses import dataclass, replace

import chardet

from editing.errors import BinaryFileError, EncodingConfigError, UndecodableFileError

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_KOREAN_FAMILY = frozenset({"euc_kr", "cp949", "uhc", "ks_c_5601_1987", "ksc5601", "ks_c_5601"})
_STATEFUL_PREFIXES = ("iso2022", "utf_7", "hz")
_SAMPLE_HEAD = 64 * 1024
_SAMPLE_CHUNK = 4 * 1024
_SAMPLE_EXTRA = 64 * 1024
_NON_ASCII = re.compile(rb"[\x80-\xff]")


class EncodingSource(enum.Enum):
    """Which rule of the priority order decided the encoding."""

    CONFIGURED = "configured"
    BOM = "bom"
    UTF8 = "utf-8"
    DETECTED = "detected"
    ASCII_DEFAULT = "ascii-default"


@dataclass(frozen=True, slots=True)
class EncodingLabel:
    """An on-disk encoding as history stores it (``cp949``, ``utf-16-le+bom``, ``ascii``):
    typed, so no caller parses the ``+bom`` suffix itself."""

    codec: str
    bom: bool = False

    @classmethod
    def parse(cls, text: str) -> EncodingLabel:
        return cls(text.removesuffix("+bom"), text.endswith("+bom"))

    def __str__(self) -> str:
        return f"{self.codec}+bom" if self.bom else self.codec

    @property
    def reread_as(self) -> str | None:
        """The encoding to configure to decode such bytes again; None when their BOM or
        their being pure ASCII lets :func:`decide_encoding` find it as it did."""
        return None if self.bom or self.codec == "ascii" else self.codec


@dataclass(frozen=True, slots=True)
class DecodedFile:
    """A file's text and the exact recipe that turns it back into the same bytes."""

    text: str
    codec: str
    bom: bytes
    source: EncodingSource
    reason: str
    alternative: str | None = None

    @property
    def label(self) -> str:
        """Human name of the on-disk encoding, e.g. ``cp949`` or ``utf-16-le+bom``."""
        if self.source is EncodingSource.ASCII_DEFAULT:
            return "ascii"
        return str(EncodingLabel(self.codec, bool(self.bom)))


def decide_encoding(
    data: bytes, *, configured: str | None = None, default_encoding: str | None = None
) -> DecodedFile:
    """Decode ``data`` following the priority order in this module's docstring."""
    if configured:
        return _configured(data, configured)
    for bom, codec in _BOMS:
        if data.startswith(bom):
            text = _strict(data[len(bom):], codec, what=f"{codec} (from its BOM)")
            return DecodedFile(text, codec, bom, EncodingSource.BOM, f"{codec} BOM present")
    _refuse_nul(data)
    if data.isascii():
        return _ascii(data, default_encoding)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return _second_reading(_detected(data), data, default_encoding)
    decoded = DecodedFile(text, "utf-8", b"", EncodingSource.UTF8, "decodes as strict UTF-8")
    return _second_reading(decoded, data, default_encoding)


def codec_name(encoding: str) -> str:
    """Normalise an encoding name to the codec used for splicing; refuse unsafe ones."""
    try:
        name = codecs.lookup(encoding).name.replace("-", "_")
    except LookupError:
        raise EncodingConfigError(f"Unknown encoding {encoding!r}; use a Python codec "
                                  "name such as 'cp949' or 'utf-8'.") from None
    if name.startswith(_STATEFUL_PREFIXES):
        raise EncodingConfigError(f"Encoding {encoding!r} is stateful and cannot be edited "
                                  "byte-wise; convert the file to cp949 or UTF-8 first.")
    if name in _KOREAN_FAMILY:
        return "cp949"
    return {"utf_8_sig": "utf-8", "utf_8": "utf-8", "utf_16": "utf-16",
            "utf_16_le": "utf-16-le", "utf_16_be": "utf-16-be"}.get(name, name)


def _configured(data: bytes, configured: str) -> DecodedFile:
    codec = codec_name(configured)
    bom = b""
    if codec == "utf-16":
        bom = data[:2] if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else b""
        codec = "utf-16-be" if bom == codecs.BOM_UTF16_BE else "utf-16-le"
    elif codec == "utf-8" and data.startswith(codecs.BOM_UTF8):
        bom = codecs.BOM_UTF8
    elif codec in ("utf-16-le", "utf-16-be"):
        bom = data[:2] if data[:2] == _bom_of(codec) else b""
    if not codec.startswith("utf-16"):
        _refuse_nul(data)
    text = _strict(data[len(bom):], codec, what=f"the configured encoding {configured!r}")
    _prove_round_trip(data[len(bom):], text, codec, what=f"configured encoding {configured!r}")
    return DecodedFile(text, codec, bom, EncodingSource.CONFIGURED, f"configured as {configured}")


def _ascii(data: bytes, default_encoding: str | None) -> DecodedFile:
    codec = codec_name(default_encoding) if default_encoding else "utf-8"
    if codec.startswith("utf-16"):
        raise EncodingConfigError(f"Default encoding {default_encoding!r} is not ASCII-"
                                  "compatible; pick cp949 or UTF-8 for new files.")
    reason = f"pure ASCII; new non-ASCII text will use {codec}"
    reason += " (repository default)" if default_encoding else " (no default configured)"
    return DecodedFile(data.decode("ascii"), codec, b"", EncodingSource.ASCII_DEFAULT, reason)


def _detected(data: bytes) -> DecodedFile:
    tried: list[str] = []
    for guess in chardet.detect_all(_sample(data)):
        name = guess.get("encoding")
        if not name:
            continue
        try:
            codec = codec_name(name)
        except EncodingConfigError:
            tried.append(f"{name} (unusable)")
            continue
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            tried.append(f"{name}->{codec} (does not decode)")
            continue
        if text.encode(codec) != data:
            tried.append(f"{name}->{codec} (does not round-trip)")
            continue
        confidence = float(guess.get("confidence") or 0.0)
        reason = f"chardet guessed {name} ({confidence:.2f}); {codec} round-trips the bytes"
        return DecodedFile(text, codec, b"", EncodingSource.DETECTED, reason)
    raise UndecodableFileError(
        "No encoding reproduces this file byte for byte (tried UTF-8"
        + "".join(f", {t}" for t in tried)
        + "). Configure the file's encoding explicitly; it will not be edited with a lossy decode."
    )


def _second_reading(decoded: DecodedFile, data: bytes,
                    default_encoding: str | None) -> DecodedFile:
    """The decision, marked when the repository's default encoding reads the same bytes
    (exactly) as different text."""
    other = codec_name(default_encoding) if default_encoding else "cp949"
    if other == decoded.codec or other.startswith("utf"):
        return decoded
    try:
        text = data.decode(other)
    except UnicodeDecodeError:
        return decoded
    if text == decoded.text or text.encode(other) != data:
        return decoded
    return replace(decoded, alternative=other,
                   reason=f"{decoded.reason}; the bytes also read as {other}")


def _sample(data: bytes) -> bytes:
    """Head of the file plus line-aligned chunks that hold non-ASCII bytes."""
    if len(data) <= _SAMPLE_HEAD + _SAMPLE_EXTRA:
        return data
    parts = [data[: data.rfind(b"\n", 0, _SAMPLE_HEAD) + 1 or _SAMPLE_HEAD]]
    budget, pos = _SAMPLE_EXTRA, _SAMPLE_HEAD
    while budget > 0 and (found := _NON_ASCII.search(data, pos)) is not None:
        start = data.rfind(b"\n", 0, found.start()) + 1
        end = data.find(b"\n", start + _SAMPLE_CHUNK)
        end = len(data) if end < 0 else end + 1
        parts.append(data[start:end])
        budget -= end - start
        pos = end + len(data) // 64
    return b"".join(parts)


def _strict(body: bytes, codec: str, *, what: str) -> str:
    try:
        return body.decode(codec)
    except UnicodeDecodeError as error:
        raise UndecodableFileError(
            f"The file does not decode as {what}: byte {error.start} "
            f"({body[error.start:error.start + 4]!r}) is invalid. Check the configured encoding."
        ) from None


def _prove_round_trip(body: bytes, text: str, codec: str, *, what: str) -> None:
    if text.encode(codec) != body:
        raise UndecodableFileError(f"The {what} decodes this file but does not re-encode it "
                                   "to the same bytes, so edits could corrupt it.")


def _refuse_nul(data: bytes) -> None:
    position = data.find(b"\x00")
    if position >= 0:
        raise BinaryFileError(f"The file holds a NUL byte at offset {position} and no UTF-16 "
                              "BOM, so it is treated as binary and will not be edited.")


def _bom_of(codec: str) -> bytes:
    return codecs.BOM_UTF16_LE if codec == "utf-16-le" else codecs.BOM_UTF16_BE
