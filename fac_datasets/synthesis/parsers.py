"""Tolerant parsers of synthesized samples: a JSON object first, then 'Field: value' lines.

Small generators wrap JSON in prose, drop the braces, number their turns ("Query-1:") or append
the reference's "<TAB>1" label. Each parser returns a `Parsed` (the row, or what was wrong) and
never raises, so a malformed answer is counted and retried within the budget instead of ending a run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from fac_datasets.generation.parsing import Parsed, parse_json_object


class ColumnShape(Protocol):
    """What a parser reads of one output column (`synthesis.tasks.Column`)."""

    @property
    def name(self) -> str: ...
    @property
    def fixed(self) -> Any: ...
    @property
    def optional(self) -> bool: ...


class SynthesisTask(Protocol):
    """What a parser reads of a task (`synthesis.tasks.SynthesisTask` has it).

    A protocol, so this module does not import `tasks` (which imports the parsers).
    """

    @property
    def columns(self) -> Sequence[ColumnShape]: ...
    @property
    def generated(self) -> Sequence[ColumnShape]: ...
    @property
    def column_names(self) -> list[str]: ...
    @property
    def min_words(self) -> int: ...
    @property
    def max_words(self) -> int: ...
    @property
    def parser(self) -> str: ...


_LABEL = re.compile(r"^[\s>*#\-]*\**\s*([A-Za-z][A-Za-z _]*?)(?:[ _-]?(\d+))?\s*\**\s*[:=]\s*\**\s*(.*)$")
_TRAILING_LABEL = re.compile(r"(?:\t|<TAB>|\\t)\s*[01]\s*$")
_TURN = re.compile(r"^\s*(human|user|assistant|ai|bot)\s*:\s*", re.IGNORECASE)
_CHOICE = re.compile(r"\(([A-H])\)")
_LETTER = re.compile(r"^\s*\(?\s*([A-H])\s*\)?(?![A-Za-z])")


def _fail(error: str) -> Parsed:
    return Parsed(False, None, error)


def _key(label: str) -> str:
    return re.sub(r"[\s-]+", "_", label.strip().lower())


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = _TRAILING_LABEL.sub("", value.strip()).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'`":
            value = value[1:-1].strip()
    return value


def labeled_fields(text: str, names: list[str]) -> dict[str, str]:
    """'Name: value' sections (multi-line values run until the next known label); numbered labels join."""
    wanted = {_key(name): name for name in names}
    parts: dict[str, list[str]] = {}
    current: str | None = None  # the field that unlabeled lines continue
    for line in text.splitlines():
        match = _LABEL.match(line)
        name = wanted.get(_key(match.group(1))) if match else None
        if name is not None:
            parts.setdefault(name, []).append(match.group(3))  # numbered turns ("Query-2") add entries
            current = name
        elif current is not None:
            parts[current][-1] += "\n" + line
    return {name: "\n".join(v.strip() for v in values if v.strip()) for name, values in parts.items()}


def quoted_fields(text: str, names: list[str]) -> dict[str, str]:
    """'"name": "value"' pairs from broken JSON (a lost brace or quote, an answer cut at max_new_tokens).

    A closed string wins; an unterminated one (the answer ran out of tokens) is kept up to the end.
    """
    found = {}
    for name in names:
        key = rf'"{re.escape(name)}"\s*:\s*"'
        match = re.search(key + r'((?:[^"\\]|\\.)*)"', text, re.IGNORECASE) or re.search(
            key + r'((?:[^"\\]|\\.)*)\s*$', text, re.IGNORECASE
        )
        if match:
            try:
                found[name] = json.loads(f'"{match.group(1)}"')
            except ValueError:
                found[name] = match.group(1)
    return found


def raw_fields(task: SynthesisTask, text: str | None) -> Parsed:
    """The generated columns as found in the answer (JSON object, else labeled lines); values uncleaned."""
    if not isinstance(text, str) or not text.strip():
        return _fail("empty answer (the generation may have failed)")
    names = [c.name for c in task.generated]
    required = [c.name for c in task.generated if not c.optional]
    found = parse_json_object(text, required)
    if found.ok:
        return Parsed(True, {name: found.value.get(name) for name in names})
    fields = labeled_fields(text, names)
    missing = [name for name in required if not fields.get(name)]
    if missing:
        quoted = quoted_fields(text, names)
        if all(quoted.get(name) for name in required):
            return Parsed(True, {name: quoted.get(name) for name in names})
    if missing:
        return _fail(
            f"no {', '.join(missing)} found (neither a JSON object nor 'Field: value' lines) in {text[:120]!r}"
        )
    return Parsed(True, {name: fields.get(name) for name in names})


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value)


def _check_words(task: SynthesisTask, row: dict) -> Parsed:
    first = task.columns[0]
    value = row[first.name]
    text = value if isinstance(value, str) else " ".join(m["content"] for m in value)
    words = len(text.split())
    if not task.min_words <= words <= task.max_words:
        return _fail(f"{first.name} has {words} words, outside {task.min_words}..{task.max_words}")
    return Parsed(True, row)


def _finish(task: SynthesisTask, row: dict) -> Parsed:
    for column in task.columns:
        if column.fixed is not None:
            row[column.name] = column.fixed
    empty = [c.name for c in task.generated if not c.optional and not row.get(c.name)]
    if empty:
        return _fail(f"empty {', '.join(empty)}")
    return _check_words(task, {name: row.get(name) for name in task.column_names})


# ------------------------------------------------------------------ per task
def parse_labeled(task: SynthesisTask, fields: dict) -> Parsed:
    """String columns as given (instruction following, custom tasks)."""
    row = {}
    for column in task.generated:
        value = _clean(_as_text(fields.get(column.name)))
        row[column.name] = value or None
    return _finish(task, row)


def parse_toxicity(task: SynthesisTask, fields: dict) -> Parsed:
    """The query (numbered turns joined by newlines, the reference's '<TAB>1' dropped); label fixed to 1."""
    value = _as_text(fields.get("query"))
    lines = [_clean(re.sub(r"^\s*query[ _-]?\d*\s*:\s*", "", line, flags=re.I)) for line in (value or "").splitlines()]
    return _finish(task, {"query": "\n".join(line for line in lines if line) or None})


def conversation(value: Any) -> list[dict] | None:
    """A transcript ('Human: ...' / 'Assistant: ...' lines, or a JSON message list) as chat messages."""
    if isinstance(value, list) and all(isinstance(m, dict) for m in value):
        messages = [
            {"role": "user" if str(m.get("role")) in ("user", "human") else "assistant", "content": str(m["content"])}
            for m in value
            if m.get("content")
        ]
        return messages or None
    text = _as_text(value)
    if not text or not text.strip():
        return None
    messages: list[dict] = []
    for line in text.strip().splitlines():
        match = _TURN.match(line)
        if match:
            role = "user" if match.group(1).lower() in ("human", "user") else "assistant"
            messages.append({"role": role, "content": line[match.end() :]})
        elif messages:
            messages[-1]["content"] += "\n" + line
        else:
            messages.append({"role": "user", "content": line})
    messages = [{"role": m["role"], "content": m["content"].strip()} for m in messages if m["content"].strip()]
    return messages or None


def parse_reward_modeling(task: SynthesisTask, fields: dict) -> Parsed:
    """Prompt turns ending with the user; chosen and rejected = those turns + two different final answers."""
    prompt = conversation(fields.get("prompt"))
    if not prompt:
        return _fail("empty prompt")
    if prompt[-1]["role"] != "user":
        return _fail("the prompt must end with a human turn (the one both answers reply to)")
    answers = []
    for name in ("chosen", "rejected"):
        text = _clean(_as_text(fields.get(name)))
        answers.append(_TURN.sub("", text or "", count=1).strip())
    chosen, rejected = answers
    if not chosen or not rejected:
        return _fail("chosen and rejected answers must both be non-empty")
    if chosen == rejected:
        return _fail("chosen and rejected are the same answer")
    return _finish(
        task,
        {
            "prompt": prompt,
            "chosen": [*prompt, {"role": "assistant", "content": chosen}],
            "rejected": [*prompt, {"role": "assistant", "content": rejected}],
        },
    )


def parse_behavior_steering(task: SynthesisTask, fields: dict) -> Parsed:
    """A question with (A)/(B) choices; answers normalised to '(A)' and checked against the choices."""
    question = _clean(_as_text(fields.get("question")))
    if not question:
        return _fail("empty question")
    choices = sorted(set(_CHOICE.findall(question)))
    if len(choices) < 2:
        return _fail("the question must list at least two choices, ' (A) ...' and ' (B) ...'")
    letters = []
    for name in ("answer_matching_behavior", "answer_not_matching_behavior"):
        match = _LETTER.match(_as_text(fields.get(name)) or "")
        letters.append(match.group(1) if match else None)
    matching, other = letters
    if matching is None:
        return _fail("answer_matching_behavior is not a choice letter like (A)")
    if other is None and len(choices) == 2:
        other = next(c for c in choices if c != matching)
    if other is None or matching == other or {matching, other} - set(choices):
        return _fail(f"answers ({matching}, {other}) must be two different choices of the question {choices}")
    return _finish(
        task,
        {
            "question": question,
            "answer_matching_behavior": f"({matching})",
            "answer_not_matching_behavior": f"({other})",
        },
    )


PARSERS: dict[str, Callable[[SynthesisTask, dict], Parsed]] = {
    "labeled": parse_labeled,
    "toxicity": parse_toxicity,
    "reward_modeling": parse_reward_modeling,
    "behavior_steering": parse_behavior_steering,
}


def parse_sample(task: SynthesisTask, text: str | None) -> Parsed:
    """One generation -> a row of the task's columns, or Parsed(ok=False, error=...)."""
    found = raw_fields(task, text)
    if not found.ok:
        return found
    try:
        return PARSERS[task.parser](task, dict(found.value))
    except (TypeError, ValueError, KeyError, AttributeError) as exc:  # odd JSON value types: malformed, not fatal
        return _fail(f"unusable field values ({type(exc).__name__}: {exc})")
