"""Step 2: feature-covered samples, conditioned on the explanation and the contrastive pair.

The good example shows where the feature fires (peak marked), the bad one a sample where it does
not; co-targeted features (missing features that co-occur with the target in the anchor) may be
named in the same request, since one sample can fill several.
"""

from __future__ import annotations

from collections.abc import Sequence

from fac_datasets.config import GenerationParams
from fac_datasets.generation.generator import Generator
from fac_datasets.synthesis.generation import Outcome, run_round
from fac_datasets.synthesis.pairs import ContrastivePair
from fac_datasets.synthesis.prompts import FeatureBrief, request_messages
from fac_datasets.synthesis.tasks import SynthesisTask


def generate_covered(
    task: SynthesisTask,
    generator: Generator,
    briefs: Sequence[FeatureBrief],
    pair: ContrastivePair,
    attempts: Sequence[int],
    params: GenerationParams,
) -> list[Outcome]:
    """One call per attempt number; `briefs[0]` is the target, the rest are co-targets."""
    shown = pair.prompt_text()
    conversations = [request_messages(task, briefs, pair=shown, attempt=attempt) for attempt in attempts]
    return run_round(task, generator, conversations, attempts, params)
