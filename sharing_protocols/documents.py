"""YAML documents (protocols, indicators) parsed into frozen pydantic models, with problems located by field path.

Pure: parses the text it is given (reading files is the caller's job). A key given twice and YAML tags that build
objects are refused. Problems name the source (e.g. the file name), the field path and what is wrong; they never
include the values written in the document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError
from pydantic_core import ErrorDetails

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=80)]
SLUG_MESSAGE = "must be an id of lower-case letters, digits and hyphens"

M = TypeVar("M", bound=BaseModel)


class FrozenModel(BaseModel):
    """A part of a document: immutable, and no fields beyond those declared."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def as_tuple(value: object) -> object:
    """Lets a list field be written as a single string in YAML."""
    return (value,) if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a document: the source (file name), the field path and what is wrong."""

    source: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.path or '(document)'}: {self.message}"


class DocumentError(ValueError):
    """A document that cannot be used; `problems` says where and why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def format_path(loc: Iterable[int | str]) -> str:
    """('clauses', 1, 'fields', 3) -> 'clauses[1].fields[3]'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects a key given twice in one mapping (PyYAML silently keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark, "found a duplicate key", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str, source_name: str, error: type[DocumentError] = DocumentError) -> object:
    """The YAML document in `text`; `error` with the line and column on a syntax error."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise error([Problem(source_name, "", f"YAML syntax error{where}: {exc.problem}")]) from None
    except yaml.YAMLError:
        raise error([Problem(source_name, "", "YAML syntax error")]) from None


def _as_written(path: str, error: ErrorDetails, message: str) -> str:
    return message


# Location parts pydantic adds that are not fields of the document: a union's branch tags.
_BRANCH_TAGS = ("float", "tuple[str, ...]")


def _is_field(part: int | str) -> bool:
    """Whether a part of pydantic's error location names a field or item (not a validator or a union's branch)."""
    return not (isinstance(part, str) and (part.startswith("function-") or part in _BRANCH_TAGS))


@dataclass(frozen=True)
class DocumentFormat(Generic[M]):
    """One kind of YAML document: its model, its error, and how its schema problems are worded.

    `noun` names the kind in messages ("is not a field of the protocol format"); `patterns` says what a value
    failing a field's pattern must be; `reword(path, error, message)` gives the kind's own wording of a message.
    """

    noun: str
    model: type[M]
    error: type[DocumentError]
    patterns: Mapping[str, str] = field(default_factory=dict)
    reword: Callable[[str, ErrorDetails, str], str] = _as_written

    def load_yaml(self, text: str, source_name: str) -> object:
        """The YAML document in `text`; the format's error on a syntax error."""
        return load_yaml(text, source_name, self.error)

    def validate(self, data: object, source_name: str) -> M:
        """The model from parsed YAML (or any mapping), checking its shape only; the format's error if not."""
        if not isinstance(data, Mapping):
            raise self.error([Problem(source_name, "", f"the document must be a YAML mapping of {self.noun} fields")])
        try:
            return self.model.model_validate(data)
        except ValidationError as exc:
            raise self.error(self.schema_problems(exc, source_name)) from None

    def build(self, data: object, source_name: str, consistency: Callable[[M, str], list[Problem]]) -> M:
        """The model from parsed YAML, checked for shape, then by `consistency`; the format's error on problems."""
        model = self.validate(data, source_name)
        problems = consistency(model, source_name)
        if problems:
            raise self.error(problems)
        return model

    def schema_problems(self, exc: ValidationError, source_name: str) -> list[Problem]:
        """Pydantic's errors as Problems with field paths, each once; input values are never included."""
        errors = exc.errors(include_input=False, include_url=False)
        locs = [tuple(p for p in e["loc"] if _is_field(p)) for e in errors]
        problems: list[Problem] = []
        for error, loc in zip(errors, locs, strict=True):
            if error["type"] == "too_short" and any(len(o) > len(loc) and o[: len(loc)] == loc for o in locs):
                continue  # pydantic counts only the items that validated; the items' own errors say more
            is_key = "[key]" in loc
            path = format_path(p for p in loc if p != "[key]")
            message = self.reword(path, error, self._message(error))
            problem = Problem(source_name, path, f"key {message}" if is_key else message)
            if problem not in problems:
                problems.append(problem)
        return problems

    def _message(self, error: ErrorDetails) -> str:
        ctx = error.get("ctx", {})
        if error["type"] == "string_pattern_mismatch" and ctx.get("pattern") in self.patterns:
            return self.patterns[ctx["pattern"]]
        messages = {
            "missing": "is required",
            "extra_forbidden": f"is not a field of the {self.noun} format",
            "tuple_type": "must be a list",
            "dict_type": "must be a mapping",
        }
        return messages.get(error["type"], error["msg"]).removeprefix("Value error, ")
