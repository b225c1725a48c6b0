"""One round of generator calls: conversations in, parsed samples (or counted failures) out.

Both steps go through here, so failed calls and malformed answers are counted the same way and
never raise; whether to retry is the loop's decision (within the feature's calls and the budget).
Every call asks for the task's answer schema (`synthesis.schema`): a local model is constrained to
it, a server gets it as `response_format`; an answer that does not follow it still goes through
the tolerant task parser, and a lost one is counted by cause (`Outcome.cause`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fac_datasets.config import GenerationParams
from fac_datasets.generation.generator import Conversation, Generator
from fac_datasets.generation.schema import BACKEND_ERROR
from fac_datasets.synthesis.schema import answer_schema
from fac_datasets.synthesis.tasks import SynthesisTask

TASK_RULES = "task_rules"
"""A lost answer of the schema's shape that the task parser refused (word limits, equal answers, bad choices)."""


@dataclass
class Outcome:
    """One call: the parsed row and its SAE text when it parsed, else why not (`cause`: see MALFORMED_CAUSES)."""

    attempt: int
    row: dict | None = None
    text: str | None = None
    error: str | None = None
    failed_call: bool = False
    cached: bool = False
    cause: str | None = None

    @property
    def ok(self) -> bool:
        return self.row is not None


def run_round(
    task: SynthesisTask,
    generator: Generator,
    conversations: Sequence[Conversation],
    attempts: Sequence[int],
    params: GenerationParams,
) -> list[Outcome]:
    """Generate one answer per conversation (of the task's answer schema) and parse each with the task's parser."""
    outcomes = []
    generations = generator.generate(list(conversations), params, schema=answer_schema(task))
    for attempt, generation in zip(attempts, generations, strict=True):
        if not generation.ok:
            error = generation.error or "no answer"
            outcomes.append(Outcome(attempt, error=error, failed_call=True, cause=BACKEND_ERROR))
            continue
        parsed = task.parse(generation.text)
        if not parsed.ok:
            cause = generation.malformed or TASK_RULES
            outcomes.append(Outcome(attempt, error=parsed.error, cached=generation.cached, cause=cause))
            continue
        outcomes.append(Outcome(attempt, parsed.value, task.sae_text(parsed.value), cached=generation.cached))
    return outcomes
