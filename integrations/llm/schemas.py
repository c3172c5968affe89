"""The three call kinds of the LLM wire contract: their strict validators and JSON schemas.

The schema name identifies the kind (`issue_spec`, `file_edits`, `new_file`). The history's
`call_type` keeps the seed's vocabulary (spec_conversion, code_diff, new_file). Each JSON
schema is built from its pydantic model, so what is asked for and what is accepted are one
definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, get_args

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


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    """Strict structured outputs' form: every key required, no other key allowed."""
    return {"type": "object",
            "properties": {name: _value_schema(field.annotation)
                           for name, field in model.model_fields.items()},
            "required": list(model.model_fields), "additionalProperties": False}


def _value_schema(annotation: object) -> dict[str, Any]:
    if annotation is str:
        return {"type": "string"}
    (item,) = get_args(annotation)  # list[Model], the only other field type of the contract
    return {"type": "array", "items": _schema(item)}


@dataclass(frozen=True)
class CallKind:
    schema_name: str
    call_type: str
    model: type[_Strict]

    @property
    def response_format(self) -> dict[str, Any]:
        return {"type": "json_schema",
                "json_schema": {"name": self.schema_name, "strict": True,
                                "schema": _schema(self.model)}}


class Kind(Enum):
    ISSUE_SPEC = CallKind("issue_spec", "spec_conversion", IssueSpec)
    FILE_EDITS = CallKind("file_edits", "code_diff", FileEdits)
    NEW_FILE = CallKind("new_file", "new_file", NewFile)
