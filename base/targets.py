"""The target-file configuration (`TARGETS_FILE`, YAML): the only paths the agent may write.

Unknown keys, paths outside the repository, unknown encodings and duplicate paths are errors,
reported with the file name before any LLM spend.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from base.errors import ConfigError, PathRefused
from base.issue_keys import ISSUE_KEY
from base.repo_paths import checked_repo_path


def _known_codec(value: str | None) -> str | None:
    if value is not None:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
    return value


def _inside_repo(value: str) -> str:
    try:
        return checked_repo_path(value)
    except PathRefused as exc:
        raise ValueError(str(exc)) from None


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    encoding: str | None = None
    instructions: str = Field(min_length=1)
    create: bool = False
    max_bytes: int = Field(default=5_000_000, gt=0)

    _path = field_validator("path")(_inside_repo)
    _encoding = field_validator("encoding")(_known_codec)


class TargetsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default_encoding: str | None = None
    spec_path: str = "docs/specs/{issue_key}.md"
    targets: tuple[Target, ...]

    _default_encoding = field_validator("default_encoding")(_known_codec)

    @field_validator("spec_path")
    @classmethod
    def _spec_path_inside_repo(cls, value: str) -> str:
        return _inside_repo(value.replace("{issue_key}", "KEY-1")) and value

    @field_validator("targets")
    @classmethod
    def _unique_paths(cls, value: tuple[Target, ...]) -> tuple[Target, ...]:
        if not value:
            raise ValueError("lists no target; name at least one file")
        paths = [t.path for t in value]
        duplicates = sorted({p for p in paths if paths.count(p) > 1})
        if duplicates:
            raise ValueError(f"listed twice: {', '.join(duplicates)}")
        return value

    @model_validator(mode="after")
    def _spec_is_not_a_target(self) -> TargetsConfig:
        """The spec is committed at spec_path: it must never overwrite a target."""
        head, _, tail = self.spec_path.partition("{issue_key}")
        pattern = re.compile(re.escape(head) + (ISSUE_KEY.pattern + re.escape(tail)
                                                if "{issue_key}" in self.spec_path else ""))
        clashes = [t.path for t in self.targets if pattern.fullmatch(t.path)]
        if clashes:
            raise ValueError(f"spec_path {self.spec_path} would overwrite the target "
                             f"{clashes[0]}")
        return self

    def spec_file(self, issue_key: str) -> str:
        return checked_repo_path(self.spec_path.replace("{issue_key}", issue_key))

    def target(self, path: str) -> Target | None:
        return next((t for t in self.targets if t.path == path), None)

    @property
    def digest(self) -> str:
        """Changes when anything that shapes the edits changes."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


def yaml_problem(exc: Exception) -> str:
    """One line: where and what (PyYAML's own text spans several lines with a code excerpt)."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"line {mark.line + 1}, column {mark.column + 1}: {exc.problem}"
    return " ".join(str(exc).split())


def load_targets(path: Path | None) -> TargetsConfig:
    if path is None:
        raise ConfigError("TARGETS_FILE is not set: it lists the files the agent may edit")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"TARGETS_FILE {path} does not exist") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"TARGETS_FILE {path} is not valid YAML: {yaml_problem(exc)}") from None
    try:
        return TargetsConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"TARGETS_FILE {path} is invalid: {validation_problems(exc)}"
                          ) from None


def validation_problems(exc: ValidationError) -> str:
    """pydantic's report as one line: each bad field's place and what is wrong with it."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'top level'}: "
                     f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors())
