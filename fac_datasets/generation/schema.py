"""Answer schemas: what a structured answer must look like, one JSON schema for every backend.

A caller passes a pydantic model or a JSON-schema dict; `as_schema` turns either into an
`AnswerSchema` that backends constrain decoding with (local models) or send as `response_format`
(servers), that goes into the cache key, and that checks every answer. An answer that does not
validate is not an error: it keeps its text (callers fall back to tolerant parsing) and is counted
by cause (`MALFORMED_CAUSES`), so a run can say why it lost answers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pydantic import BaseModel

from fac_datasets.errors import FacConfigError

EMPTY = "empty"
"""No text at all (or only whitespace)."""
TRUNCATED = "truncated"
"""The answer ran out of new tokens before its JSON closed."""
INVALID_JSON = "invalid_json"
"""The text is not one JSON value."""
SCHEMA_MISMATCH = "schema_mismatch"
"""JSON, but not of the schema's shape (a missing key, a wrong type, too few items)."""
BACKEND_ERROR = "backend_error"
"""The call failed: no answer at all."""
MALFORMED_CAUSES = (EMPTY, TRUNCATED, INVALID_JSON, SCHEMA_MISMATCH, BACKEND_ERROR)

SchemaLike = type[BaseModel] | dict[str, Any]


@dataclass(frozen=True)
class AnswerSchema:
    """A JSON schema answers must follow; `name` is what servers and error messages call it."""

    json_schema: dict[str, Any] = field(hash=False)
    name: str = "answer"

    @cached_property
    def key(self) -> str:
        """The schema as canonical JSON: part of the cache key and of the constraint caches."""
        return json.dumps(self.json_schema, sort_keys=True, separators=(",", ":"))

    @cached_property
    def _validator(self) -> Any:
        from jsonschema import Draft202012Validator

        return Draft202012Validator(self.json_schema)

    def malformed(self, text: str | None, completion_tokens: int = 0, max_new_tokens: int | None = None) -> str | None:
        """Why an answer does not follow the schema (one of MALFORMED_CAUSES), None when it does.

        The whole text must be one JSON value (surrounding whitespace aside): prose or fences around
        it make it malformed here, even if a tolerant parser can still read it.
        """
        if text is None:
            return BACKEND_ERROR
        if not text.strip():
            return EMPTY
        try:
            value = json.loads(text)
        except ValueError:
            ran_out = max_new_tokens is not None and completion_tokens >= max_new_tokens
            return TRUNCATED if ran_out or _left_open(text) else INVALID_JSON
        return None if self._validator.is_valid(value) else SCHEMA_MISMATCH

    def validate(self, text: str) -> Any:
        """The answer's JSON value when it follows the schema, else None."""
        return json.loads(text) if self.malformed(text) is None else None


def as_schema(schema: SchemaLike | AnswerSchema | None) -> AnswerSchema | None:
    """An `AnswerSchema` from a pydantic model class or a JSON-schema dict (None stays None)."""
    if schema is None or isinstance(schema, AnswerSchema):
        return schema
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return AnswerSchema(schema.model_json_schema(), _name(schema.__name__))
    if isinstance(schema, dict):
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

        try:
            Draft202012Validator.check_schema(schema)
            json.dumps(schema)
        except (SchemaError, TypeError, ValueError) as exc:
            reason = exc.message if isinstance(exc, SchemaError) else str(exc)
            raise FacConfigError(f"The answer schema is not a valid JSON schema ({reason}); fix it.") from exc
        return AnswerSchema(schema, _name(str(schema.get("title") or "answer")))
    raise FacConfigError(
        f"An answer schema is a pydantic model class or a JSON-schema dict, got {type(schema).__name__}."
    )


def _left_open(text: str) -> bool:
    """Whether the text starts a JSON object or array and stops inside it (a string or bracket left open)."""
    text = text.strip()
    if not text.startswith(("{", "[")):
        return False
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
    return in_string or depth > 0


def _name(title: str) -> str:
    """A server-safe schema name (OpenAI allows letters, digits, _ and -, at most 64)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", title).strip("_")[:64] or "answer"
