"""Tolerant parsing of structured answers from small models.

Small models wrap JSON in prose or fences, leave trailing commas, use single quotes and answer
"Yes, probably". Every parser returns a `Parsed` instead of raising, so a malformed answer is
counted (`ParseStats`) and skipped, never a crash halfway through a catalog run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?!\w)")
_INTEGER = re.compile(r"(?<![\w.])\d+(?![\w]|\.\d)")
_NONE_ANSWER = re.compile(r"\bnone\b|\[\s*\]|\bno (?:item|feature|example|text)s?\b", re.IGNORECASE)


class Parsed(NamedTuple):
    """The outcome of one parse: `value` when `ok`, else `error` says what was wrong."""

    ok: bool
    value: Any = None
    error: str | None = None


@dataclass
class ParseStats:
    """How many answers parsed and how many were malformed; keep one per kind of question."""

    parsed: int = 0
    malformed: int = 0

    def count(self, result: Parsed) -> Parsed:
        """Count a result and hand it back: `value = stats.count(parse_choice(...))`."""
        if result.ok:
            self.parsed += 1
        else:
            self.malformed += 1
        return result

    @property
    def total(self) -> int:
        return self.parsed + self.malformed

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def _fail(error: str, text: str | None = None) -> Parsed:
    shown = "" if text is None else f" in {text[:120]!r}" + ("..." if len(text) > 120 else "")
    return Parsed(False, None, error + shown)


def _no_text(text: Any) -> Parsed | None:
    if not isinstance(text, str):
        return Parsed(False, None, f"no text to parse (got {type(text).__name__}; the generation may have failed)")
    return None


def _balanced_objects(text: str) -> Iterable[str]:
    """Every top-level {...} span, braces inside single- or double-quoted strings ignored."""
    depth, start, quote, escaped = 0, -1, "", False
    for i, char in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'" and depth:
            quote = char
        elif char == "{":
            depth, start = depth + 1, i if depth == 0 else start
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                yield text[start : i + 1]


def _single_to_double_quotes(blob: str) -> str:
    """Rewrite 'single-quoted' strings as JSON strings; double-quoted ones are kept."""
    out, i = [], 0
    while i < len(blob):
        char = blob[i]
        if char in "\"'":
            j, escaped = i + 1, False
            while j < len(blob) and (escaped or blob[j] != char):
                escaped = not escaped and blob[j] == "\\"
                j += 1
            body = blob[i + 1 : j]
            out.append(blob[i : j + 1] if char == '"' else json.dumps(body.replace("\\'", "'")))
            i = j + 1
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _load_object(blob: str) -> dict | None:
    for candidate in (blob, _TRAILING_COMMA.sub(r"\1", blob)):
        for variant in (candidate, _single_to_double_quotes(candidate)):
            try:
                value = json.loads(variant)
            except ValueError:
                continue
            return value if isinstance(value, dict) else None
    return None


def parse_json_object(text: str | None, required_keys: Sequence[str] = ()) -> Parsed:
    """The first JSON object (fenced or inline) that has every required key; value is the dict."""
    if (bad := _no_text(text)) is not None:
        return bad
    candidates = [*_FENCE.findall(text), text]
    missing_seen: list[str] = []
    for part in candidates:
        for blob in _balanced_objects(part):
            obj = _load_object(blob)
            if obj is None:
                continue
            missing = [key for key in required_keys if key not in obj]
            if not missing:
                return Parsed(True, obj)
            missing_seen = missing_seen or missing
    if missing_seen:
        return _fail(f"JSON object lacks required keys {missing_seen}", text)
    return _fail("no JSON object found", text)


def parse_choice(text: str | None, choices: Sequence[str]) -> Parsed:
    """The choice (as spelled in `choices`) that appears first as a whole word, case-insensitively."""
    if (bad := _no_text(text)) is not None:
        return bad
    if not choices:
        raise ValueError("parse_choice needs at least one choice")
    best: tuple[int, int, str] | None = None  # (position, -length, choice): the longest wins a tie
    for choice in choices:
        match = re.search(rf"(?<!\w){re.escape(choice)}(?!\w)", text, re.IGNORECASE)
        if match and (best is None or (match.start(), -len(choice)) < best[:2]):
            best = (match.start(), -len(choice), choice)
    if best is None:
        return _fail(f"none of {list(choices)} found", text)
    return Parsed(True, best[2])


def parse_number(text: str | None, low: float, high: float) -> Parsed:
    """The first number in the text, which must lie in [low, high]; int when written without a point."""
    if (bad := _no_text(text)) is not None:
        return bad
    match = _NUMBER.search(text)
    if match is None:
        return _fail("no number found", text)
    raw = match.group(0)
    value: float = float(raw) if "." in raw else int(raw)
    if not low <= value <= high:
        return _fail(f"number {raw} is outside [{low}, {high}]", text)
    return Parsed(True, value)


def parse_list_of_indices(text: str | None, n: int) -> Parsed:
    """Sorted unique 1-based indices ('1, 3, 4', '[1,3]'); numbers outside 1..n are dropped.

    'none' or '[]' with no number is an empty list; only out-of-range numbers is malformed.
    """
    if (bad := _no_text(text)) is not None:
        return bad
    numbers = [int(raw) for raw in _INTEGER.findall(text)]
    if not numbers:
        if _NONE_ANSWER.search(text):
            return Parsed(True, [])
        return _fail("no indices found", text)
    kept = sorted({k for k in numbers if 1 <= k <= n})
    if not kept:
        return _fail(f"indices {numbers} are all outside 1..{n}", text)
    return Parsed(True, kept)
