"""What Bitbucket's `/src` says about a path, and the multipart body that commits files.

From the OpenAPI definition (GET .../src/{commit}/{path} and POST .../src):
- `?format=meta` answers a `commit_directory`, or a `commit_file` whose `attributes` holds
  link, executable, subrepository, binary or lfs (the schema says a string, the examples
  show a list: both are read).
- A file part may carry `x-attributes="executable"` or `"link"` in its Content-Disposition.
  Without it the upload "will create a regular file": an edited script must say
  `executable` again, or it loses its +x bit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from urllib3.fields import RequestField
from urllib3.filepost import encode_multipart_formdata

from base.errors import InvalidResponse, PathRefused

NOT_EDITABLE = {"link": "a symlink", "subrepository": "a submodule",
                "lfs": "a Git LFS file (its contents are in LFS storage, not in git)"}


def attributes(meta: Mapping[str, Any]) -> frozenset[str]:
    value = meta.get("attributes") or []
    return frozenset([value] if isinstance(value, str) else [str(v) for v in value])


def upload_attribute(meta: Mapping[str, Any], path: str) -> str | None:
    """`executable` for an executable file, None for a regular one; PathRefused for what
    cannot be edited in place (a directory, a symlink, a submodule, a Git LFS file)."""
    kind = meta.get("type")
    if kind == "commit_directory":
        raise PathRefused(f"{path} is a directory in the repository, not a file to edit")
    if kind != "commit_file":
        raise InvalidResponse(f"Bitbucket described {path} as {kind!r}, not a file")
    found = attributes(meta)
    for attribute, what in NOT_EDITABLE.items():
        if attribute in found:
            raise PathRefused(f"{path} is {what}, not a file to edit")
    return "executable" if "executable" in found else None


def commit_form(fields: Mapping[str, str], files: Mapping[str, bytes],
                modes: Mapping[str, str | None]) -> tuple[bytes, str]:
    """The body and Content-Type: the text fields, then one part per file named by its
    path, with its bytes undecoded and its `x-attributes` when it has one."""
    parts = []
    for name, value in fields.items():
        part = RequestField(name=name, data=value.encode())
        part.make_multipart()
        parts.append(part)
    for path, data in files.items():
        part = RequestField(name=path, data=data, filename=path.rsplit("/", 1)[-1])
        part.make_multipart(content_type="application/octet-stream")
        if attribute := modes.get(path):
            disposition = part.headers["Content-Disposition"] or "form-data"
            part.headers["Content-Disposition"] = f'{disposition}; x-attributes="{attribute}"'
        parts.append(part)
    return encode_multipart_formdata(parts)
