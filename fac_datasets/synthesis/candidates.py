"""Step 1: candidate samples for one feature, the material its contrastive pair is picked from.

Each of the K calls asks for one sample from the feature's explanation (or token summary), its real
top spans (peak marked) and the task prompt; a variation line keeps the K conversations, and so their
cache keys and answers, apart.
"""

from __future__ import annotations

from collections.abc import Sequence

from fac_datasets.config import GenerationParams
from fac_datasets.generation.generator import Generator
from fac_datasets.synthesis.generation import Outcome, run_round
from fac_datasets.synthesis.prompts import FeatureBrief, request_messages
from fac_datasets.synthesis.tasks import SynthesisTask


def generate_candidates(
    task: SynthesisTask,
    generator: Generator,
    brief: FeatureBrief,
    attempts: Sequence[int],
    params: GenerationParams,
) -> list[Outcome]:
    """One call per attempt number (1-based); attempt numbers never repeat within a feature."""
    conversations = [request_messages(task, [brief], attempt=attempt) for attempt in attempts]
    return run_round(task, generator, conversations, attempts, params)
