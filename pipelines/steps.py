"""distilabel steps over fac's synthesis core: the same prompts, parsers, SAE scoring, pair rules and filters.

Each step is a thin adapter: the logic lives in `fac_datasets.synthesis` (one implementation for the
plain-Python loop and for pipelines). Models are built in `load()` from specs (a generator spec, the
extractor's config fields), so a pipeline serialises, runs its steps in worker processes, and
runs on Ray (`pipeline.ray()`). Rows the filters reject are kept and marked, never dropped.

A pipeline is a fixed graph: K candidates and M samples per feature. The adaptive budget of
`fac synthesize` (stop a covered or unresponsive feature, count a sample toward every missing
feature it fires, resume after a kill) lives in `fac_datasets.synthesis.loop`.
"""

from typing import Any

from distilabel.steps import GlobalStep, Step, StepInput
from distilabel.steps.tasks import Task
from pydantic import Field, PrivateAttr

from fac_datasets.config import ExtractorConfig, SynthesisConfig
from fac_datasets.constants import ACTIVATION, FIRED_MISSING, SAE_TEXT

# Columns the steps read and write (besides the task's own columns).
FEATURE_ID = "feature_id"
BRIEF = "brief"  # the feature's FeatureBrief as a dict (explanation, token summary, marked spans)
CANDIDATES = "candidates"  # step-1 texts the SAE reads (one list per feature)
CANDIDATE_ROWS = "candidate_rows"
CANDIDATE_ACTIVATIONS = "candidate_activations"
GOOD_MARKED = "good_marked"  # the strongest firing candidate with its peak marked
PAIR = "pair"  # the ContrastivePair as a dict (None: no example to show)
SAMPLE = "sample"  # a step-2 sample's task columns (dict), None when unparsable
PARSE_ERROR = "parse_error"
SAE_ACCEPTED = "sae_accepted"
NOVEL = "novel"
SIMILARITY = "similarity"
ACCEPTED = "accepted"

_S = SynthesisConfig.default_of


class _UsesTask:
    """Loads the synthesis task (its Jinja2 prompt, schema and parser) from its name in `load()`."""

    task: str
    guideline: str | None
    columns: dict[str, str] | None

    def _load_task(self):
        from fac_datasets.synthesis.tasks import load_task

        return load_task(self.task, guideline=self.guideline, columns=self.columns)

    def _set_schema(self, task) -> None:
        """Our LLM adapter gets the task's answer schema as its `structured_output` (unless one is set), as
        distilabel sets a task's default structured output; other LLMs are left as they are."""
        from fac_datasets.synthesis.schema import answer_schema

        from .llm import FacGeneratorLLM

        llm = self.llm  # type: ignore[attr-defined]  # Task's field
        if isinstance(llm, FacGeneratorLLM) and not llm.structured_output:
            llm.structured_output = {"format": "json", "schema": answer_schema(task).json_schema}


class _UsesExtractor:
    """Loads the very extractor coverage uses (backbone, SAE, pooling) from its config fields in `load()`."""

    extractor: dict[str, Any]

    def _load_extractor(self):
        import torch

        from fac_datasets.features.extractor import load_extractor

        torch.set_num_threads(1)  # one thread per step process: steps run side by side on few cores
        return load_extractor(**self.extractor)


def _brief(row: dict):
    from fac_datasets.synthesis.prompts import FeatureBrief

    brief = dict(row[BRIEF])
    brief["spans"] = tuple(brief.get("spans") or ())
    return FeatureBrief(**brief)


def _parse(task, output: str | None) -> dict[str, Any]:
    parsed = task.parse(output)
    if not parsed.ok:
        return {SAMPLE: None, SAE_TEXT: None, PARSE_ERROR: parsed.error}
    return {SAMPLE: parsed.value, SAE_TEXT: task.sae_text(parsed.value), PARSE_ERROR: None}


class FeatureCandidates(_UsesTask, Task):
    """Step 1: candidate samples for one missing feature, from its brief and the task's prompt.

    Input columns: feature_id (int), brief (dict: a FeatureBrief).
    Output columns: candidates (list[str | None]: what the SAE reads), candidate_rows (list[dict | None]),
    parse_error (list[str | None]). `num_generations` = candidates per feature (SynthesisConfig.candidates).
    """

    task: str = Field(description="synthesis task name (toxicity, instruction_following, ...)")
    guideline: str | None = None
    columns: dict[str, str] | None = None
    num_generations: int = _S("candidates")
    group_generations: bool = True
    _task: Any = PrivateAttr(None)

    def load(self) -> None:
        super().load()
        self._task = self._load_task()
        self._set_schema(self._task)

    @property
    def inputs(self) -> list[str]:
        return [FEATURE_ID, BRIEF]

    @property
    def outputs(self) -> list[str]:
        return [CANDIDATES, CANDIDATE_ROWS, PARSE_ERROR, "model_name"]

    def format_input(self, input: dict[str, Any]) -> list[dict]:  # noqa: A002 - distilabel's name
        from fac_datasets.synthesis.prompts import request_messages

        return request_messages(self._task, [_brief(input)])

    def format_output(self, output: str | None, input: dict[str, Any] | None = None) -> dict[str, Any]:  # noqa: A002
        parsed = _parse(self._task, output)
        return {CANDIDATES: parsed[SAE_TEXT], CANDIDATE_ROWS: parsed[SAMPLE], PARSE_ERROR: parsed[PARSE_ERROR]}


class SAEScore(_UsesExtractor, Step):
    """SAE scoring: each candidate's pooled activation of the row's feature, and the best one's peak marked.

    Input columns: feature_id (int), candidates (list[str | None]).
    Output columns: candidate_activations (list[float]; 0.0 for an unparsable candidate),
    good_marked (str | None: the strongest firing candidate with its peak token marked).
    """

    extractor: dict[str, Any] = Field(default_factory=dict, description="ExtractorConfig fields")
    _extractor: Any = PrivateAttr(None)

    def load(self) -> None:
        super().load()
        self._extractor = self._load_extractor()

    @property
    def inputs(self) -> list[str]:
        return [FEATURE_ID, CANDIDATES]

    @property
    def outputs(self) -> list[str]:
        return [CANDIDATE_ACTIVATIONS, GOOD_MARKED]

    def process(self, inputs: StepInput):  # noqa: ANN201 - a generator of batches; distilabel reads the hint
        from fac_datasets.synthesis.scoring import peak_marked, score_texts

        for row in inputs:
            texts = [t for t in row[CANDIDATES] or [] if t]
            scores = iter(score_texts(self._extractor, texts))
            feature = int(row[FEATURE_ID])
            activations = [float(next(scores).get(feature, 0.0)) if t else 0.0 for t in row[CANDIDATES] or []]
            best = max(range(len(activations)), key=lambda i: activations[i], default=None)
            fires = best is not None and activations[best] > self._extractor.threshold
            row[CANDIDATE_ACTIVATIONS] = activations
            row[GOOD_MARKED] = peak_marked(self._extractor, row[CANDIDATES][best], feature) if fires else None
        yield inputs


class SelectContrastivePair(Step):
    """Pair selection: good = strongest firing candidate, bad = a silent one; a catalog span when none fires.

    Input columns: feature_id, brief, candidates, candidate_activations, good_marked.
    Output columns: pair (dict: a ContrastivePair, `fallback=True` when the good example is a real
    catalog span; None when there is nothing to show).
    """

    threshold: float = Field(ExtractorConfig.default_of("threshold"), description="activation above which it fires")

    @property
    def inputs(self) -> list[str]:
        return [FEATURE_ID, BRIEF, CANDIDATES, CANDIDATE_ACTIVATIONS, GOOD_MARKED]

    @property
    def outputs(self) -> list[str]:
        return [PAIR]

    def process(self, inputs: StepInput):  # noqa: ANN201
        from fac_datasets.synthesis.pairs import select_pair

        for row in inputs:
            kept = [(t, a) for t, a in zip(row[CANDIDATES] or [], row[CANDIDATE_ACTIVATIONS], strict=True) if t]
            texts, activations = [t for t, _ in kept], [a for _, a in kept]
            marked = row[GOOD_MARKED]
            pair = select_pair(_brief(row), texts, activations, self.threshold, mark=lambda _t, m=marked: m)
            row[PAIR] = pair.to_dict() if pair else None
        yield inputs


class FeatureCoveredGeneration(_UsesTask, Task):
    """Step 2: samples conditioned on the feature's brief and its contrastive pair.

    Input columns: feature_id, brief, pair (a row without a pair, i.e. nothing to show, gets a step-1 request).
    Output columns: sample (dict | None: the task's columns), sae_text (str | None), parse_error (str | None).
    One row per generation (`num_generations` = SynthesisConfig.samples_per_feature).
    """

    task: str = Field(description="synthesis task name")
    guideline: str | None = None
    columns: dict[str, str] | None = None
    num_generations: int = _S("samples_per_feature")
    _task: Any = PrivateAttr(None)

    def load(self) -> None:
        super().load()
        self._task = self._load_task()
        self._set_schema(self._task)

    @property
    def inputs(self) -> list[str]:
        return [FEATURE_ID, BRIEF, PAIR]

    @property
    def outputs(self) -> list[str]:
        return [SAMPLE, SAE_TEXT, PARSE_ERROR, "model_name"]

    def format_input(self, input: dict[str, Any]) -> list[dict]:  # noqa: A002
        from fac_datasets.synthesis.pairs import ContrastivePair
        from fac_datasets.synthesis.prompts import request_messages

        pair = ContrastivePair(**input[PAIR]) if input[PAIR] else None
        shown = pair.prompt_text() if pair else None
        return request_messages(self._task, [_brief(input)], pair=shown)

    def format_output(self, output: str | None, input: dict[str, Any] | None = None) -> dict[str, Any]:  # noqa: A002
        return _parse(self._task, output)


class SAEFilter(_UsesExtractor, Step):
    """The SAE filter: accepted only if the row's feature fires above the threshold. Rejected rows stay.

    Input columns: feature_id (int), sae_text (str | None).
    Output columns: activation (float), fired_missing (list[int]: the `missing` features it fires),
    sae_accepted (bool).
    """

    extractor: dict[str, Any] = Field(default_factory=dict, description="ExtractorConfig fields")
    threshold: float | None = Field(None, description="None: the extractor's threshold (what coverage counts)")
    missing: list[int] = Field(default_factory=list, description="the missing features a sample may fill")
    _extractor: Any = PrivateAttr(None)

    def load(self) -> None:
        super().load()
        self._extractor = self._load_extractor()

    @property
    def inputs(self) -> list[str]:
        return [FEATURE_ID, SAE_TEXT]

    @property
    def outputs(self) -> list[str]:
        return [ACTIVATION, FIRED_MISSING, SAE_ACCEPTED]

    def process(self, inputs: StepInput):  # noqa: ANN201
        from fac_datasets.synthesis.sae_filter import effective_threshold, sae_filter
        from fac_datasets.synthesis.scoring import score_texts

        threshold = effective_threshold(self.threshold, self._extractor.threshold)
        scored = iter(score_texts(self._extractor, [row[SAE_TEXT] for row in inputs if row[SAE_TEXT]]))
        missing = set(self.missing)
        for row in inputs:
            acts = next(scored) if row[SAE_TEXT] else {}
            (verdict,) = sae_filter([acts], [int(row[FEATURE_ID])], threshold, missing)
            row[ACTIVATION] = verdict.activation if row[SAE_TEXT] else 0.0
            row[FIRED_MISSING] = verdict.fired_missing
            row[SAE_ACCEPTED] = bool(row[SAE_TEXT]) and verdict.accepted
        yield inputs


class NoveltyFilter(GlobalStep):
    """The novelty filter: a sample close to an anchor, current or earlier kept sample is marked, not dropped.

    A global step, so it sees every sample in one order and the earlier-kept set is the same on every run.
    Input columns: sae_text (str | None), and `accept_column` when set (only rows it accepts are indexed).
    Output columns: novel (bool), similarity (float: to the nearest indexed text), accepted (bool:
    novel and, when set, `accept_column`).
    """

    reference_texts: list[str] = Field(default_factory=list, description="anchor + current texts")
    method: str = _S("novelty")
    threshold: float = _S("ngram_threshold")
    accept_column: str | None = SAE_ACCEPTED

    @property
    def inputs(self) -> list[str]:
        return [SAE_TEXT] + ([self.accept_column] if self.accept_column else [])

    @property
    def outputs(self) -> list[str]:
        return [NOVEL, SIMILARITY, ACCEPTED]

    def process(self, inputs: StepInput):  # noqa: ANN201
        from fac_datasets.synthesis.novelty import NoveltyIndex

        index = NoveltyIndex(self.method, self.threshold)
        index.add(self.reference_texts, "reference")
        for row in inputs:
            text = row[SAE_TEXT]
            duplicate, similarity, _ = index.is_duplicate(text) if text else (False, 0.0, None)
            row[SIMILARITY] = float(similarity)
            row[NOVEL] = bool(text) and not duplicate
            row[ACCEPTED] = row[NOVEL] and (row[self.accept_column] if self.accept_column else True)
            if row[ACCEPTED]:
                index.add([text], "accepted")
        yield inputs
