"""multipart/form-data parsing with the stdlib ``email`` parser, keeping file bytes undecoded.

Bitbucket's OpenAPI definition (POST /repositories/{workspace}/{repo_slug}/src, "Executables
and links") lets a file part carry an ``x-attributes`` value in its Content-Disposition: its
prose writes ``x-attributes="executable"``, its example ``x-attributes:"executable"``; both
are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

_ATTRIBUTES = re.compile(r'x-attributes\s*[=:]\s*"?([^";\s]*)"?', re.IGNORECASE)


class MultipartError(ValueError):
    pass


@dataclass
class FormData:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)  # path -> x-attributes value


def parse_form_data(content_type: str, body: bytes) -> FormData:
    """Parts that carry a ``filename`` are files (raw bytes), the others are text fields."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise MultipartError("expected multipart/form-data")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=policy.default).parsebytes(head + body)
    if not message.is_multipart():
        raise MultipartError("malformed multipart body")
    form = FormData()
    for part in message.iter_parts():
        assert isinstance(part, EmailMessage)
        disposition = part.get("Content-Disposition")
        if disposition is None or disposition.content_disposition != "form-data":
            raise MultipartError("every part needs Content-Disposition: form-data")
        name = _header_text(disposition.params.get("name"))
        if not name:
            raise MultipartError("a part has no field name")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if "filename" in disposition.params:
            form.files[name] = data
            if attribute := _attribute(part):
                form.attributes[name] = attribute
        else:
            try:
                form.fields[name] = data.decode(part.get_content_charset() or "utf-8")
            except (LookupError, UnicodeDecodeError) as exc:
                raise MultipartError(f"field {name!r} is not valid text") from exc
    return form


def _attribute(part: EmailMessage) -> str | None:
    """The raw header is searched: the parser drops the example's ``x-attributes:"..."``."""
    for header, value in part.raw_items():
        if header.lower() == "content-disposition" and (match := _ATTRIBUTES.search(value)):
            return match[1]
    return None


def _header_text(value: str | None) -> str | None:
    """Browsers and urllib3 send non-ASCII names as raw UTF-8, which the parser keeps escaped."""
    if value is None:
        return None
    try:
        raw = value.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return value
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MultipartError("a field name is not valid UTF-8") from exc
    return text.replace("%22", '"').replace("%0D", "\r").replace("%0A", "\n")
