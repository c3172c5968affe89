"""The three call kinds of the LLM wire contract, their strict JSON schemas and validators.

The schema name identifies the kind (`issue_spec`, `file_edits`, `new_file`). The history's
`call_type` keeps the seed's vocabulary (spec_conversion, code_diff, new_file).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class IssueSpec(_Strict):
    spec_markdown: str


class EditPair(_Strict):
    search: str
    replace: str


class FileEdits(_Strict):
    edits: list[EditPair]
    summary: str


class NewFile(_Strict):
    content: str


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties),
            "additionalProperties": False}


_STRING = {"type": "string"}


@dataclass(frozen=True)
class CallKind:
    schema_name: str
    call_type: str
    schema: dict[str, Any]
    model: type[_Strict]

    @property
    def response_format(self) -> dict[str, Any]:
        return {"type": "json_schema",
                "json_schema": {"name": self.schema_name, "strict": True, "schema": self.schema}}


class Kind(Enum):
    ISSUE_SPEC = CallKind("issue_spec", "spec_conversion",
                          _object({"spec_markdown": _STRING}), IssueSpec)
    FILE_EDITS = CallKind(
        "file_edits", "code_diff",
        _object({"edits": {"type": "array", "items": _object({"search": _STRING,
                                                               "replace": _STRING})},
                 "summary": _STRING}),
        FileEdits)
    NEW_FILE = CallKind("new_file", "new_file", _object({"content": _STRING}), NewFile)
