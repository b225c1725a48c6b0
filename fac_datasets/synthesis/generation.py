"""One round of generator calls: conversations in, parsed samples (or counted failures) out.

Both steps go through here, so failed calls and malformed answers are counted the same way and
never raise; whether to retry is the loop's decision (within the feature's calls and the budget).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fac_datasets.config import GenerationParams
from fac_datasets.generation.generator import Conversation, Generator
from fac_datasets.synthesis.tasks import SynthesisTask


@dataclass
class Outcome:
    """One call: the parsed row and its SAE text when it parsed, else why not."""

    attempt: int
    row: dict | None = None
    text: str | None = None
    error: str | None = None
    failed_call: bool = False
    cached: bool = False

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
    """Generate one answer per conversation and parse each with the task's parser."""
    outcomes = []
    for attempt, generation in zip(attempts, generator.generate(list(conversations), params), strict=True):
        if not generation.ok:
            outcomes.append(Outcome(attempt, error=generation.error or "no answer", failed_call=True))
            continue
        parsed = task.parse(generation.text)
        if not parsed.ok:
            outcomes.append(Outcome(attempt, error=parsed.error, cached=generation.cached))
            continue
        outcomes.append(Outcome(attempt, parsed.value, task.sae_text(parsed.value), cached=generation.cached))
    return outcomes
