"""The synthesis loop: missing features one by one, calls spent where they still buy coverage.

Why adaptive: a probe found targeted prompts fired the named feature 30% of the time (9%
untargeted), yet untargeted "questions like these" raised FAC more per generation, because samples
fire many features besides the one they were written for. So every accepted sample counts toward
EVERY missing feature it fires; a feature already covered by earlier samples is skipped; a feature
that does not respond is given up after `patience` calls; step-2 prompts may name co-occurring
missing features too; and the run stops at the budget or the target FAC. Features run in anchor-
support order (all of them, or the top N; never a random fraction), and the run checkpoints after each.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fac_datasets.catalog.catalog import FeatureCatalog
from fac_datasets.catalog.spans import has_peak_mark
from fac_datasets.config import GenerationParams, SynthesisConfig
from fac_datasets.coverage.compute import MissingFeature
from fac_datasets.errors import FacConfigError, FacGeneratorError
from fac_datasets.features.extractor import FeatureExtractor
from fac_datasets.features.rows import FeatureRows
from fac_datasets.generation.generator import Generator
from fac_datasets.synthesis import records as R
from fac_datasets.synthesis.candidates import generate_candidates
from fac_datasets.synthesis.checkpoint import Checkpoint, save_checkpoint
from fac_datasets.synthesis.covered import generate_covered
from fac_datasets.synthesis.generation import Outcome
from fac_datasets.synthesis.novelty import NEAR_DUPLICATE, NoveltyIndex
from fac_datasets.synthesis.pairs import select_pair
from fac_datasets.synthesis.prompts import FeatureBrief, feature_brief, prompt_version
from fac_datasets.synthesis.sae_filter import MARK_COPIED, sae_filter
from fac_datasets.synthesis.scoring import peak_marked, score_texts
from fac_datasets.synthesis.tasks import SynthesisTask

FeatureCallback = Callable[[R.FeatureRecord], None]


@dataclass
class _FeatureState:
    """Per-feature counters that are not reported: attempt numbers and the patience count."""

    attempt: int = 0
    calls_without_firing: int = 0

    def next_attempts(self, n: int) -> list[int]:
        attempts = list(range(self.attempt + 1, self.attempt + n + 1))
        self.attempt += n
        return attempts


@dataclass
class Plan:
    """What to fill. `missing` is every missing relevant feature, most anchor support first; the loop
    visits the first `max_features` of them, but samples count toward all of them."""

    missing: list[MissingFeature]
    n_relevant: int
    n_covered_before: int
    current_min_support: int
    anchor_rows: FeatureRows | None = None

    @property
    def missing_ids(self) -> list[int]:
        return [m.feature for m in self.missing]


@dataclass
class LoopResult:
    records: list[R.FeatureRecord]
    rows: list[dict]
    calls: int
    stop_reason: str
    seconds: float
    support: dict[int, int] = field(default_factory=dict)
    error: str | None = None
    """Why the run stopped early when every call of a round failed (the run's report is still written)."""


class SynthesisLoop:
    """Runs features in order with one generator, one extractor and one novelty index; see the module doc."""

    def __init__(
        self,
        task: SynthesisTask,
        extractor: FeatureExtractor,
        generator: Generator,
        catalog: FeatureCatalog,
        plan: Plan,
        config: SynthesisConfig,
        novelty: NoveltyIndex,
        threshold: float,
        out_dir: Path,
        checkpoint: Checkpoint,
        *,
        progress: bool = True,
        on_feature: FeatureCallback | None = None,
    ) -> None:
        if config.samples_per_call != 1:  # the answer schema holds k samples; this loop still asks for one per call
            raise FacConfigError(
                f"samples_per_call={config.samples_per_call}: the synthesis loop asks for one sample per call so far; "
                "leave samples_per_call at 1."
            )
        self.task, self.extractor, self.generator, self.catalog = task, extractor, generator, catalog
        self.plan, self.config, self.novelty, self.threshold = plan, config, novelty, threshold
        self.out_dir, self.checkpoint = out_dir, checkpoint
        self.progress, self.on_feature = progress, on_feature
        self.params = GenerationParams(
            max_new_tokens=config.max_new_tokens, temperature=config.temperature, seed=config.seed
        )
        self.version = prompt_version(task)
        self.missing = set(plan.missing_ids)
        self.current_support = {m.feature: m.current_support for m in plan.missing}
        self.support: Counter = Counter()
        for row in checkpoint.rows:
            if row[R.ACCEPTED]:
                self.support.update(row[R.FIRED_MISSING])
        self.novelty.add([row[R.SAE_TEXT] for row in checkpoint.rows if row[R.ACCEPTED]], "accepted")
        self.calls = checkpoint.calls
        self.n_accepted = sum(bool(row[R.ACCEPTED]) for row in checkpoint.rows)
        self._bars: dict = {}
        self._filling: R.FeatureRecord | None = None  # the feature being filled, for the report of a failed run

    # ------------------------------------------------------------ run-level state
    def fac_now(self) -> float:
        """FAC over the relevant features with the accepted samples added to the current set."""
        need = self.plan.current_min_support
        filled = sum(self.current_support[f] + self.support[f] >= need for f in self.missing)
        return (self.plan.n_covered_before + filled) / self.plan.n_relevant if self.plan.n_relevant else 0.0

    def budget_left(self) -> float:
        return float("inf") if self.config.budget is None else self.config.budget - self.calls

    def target_reached(self) -> bool:
        return self.config.target_fac is not None and self.fac_now() >= self.config.target_fac

    def covered(self, feature: int) -> bool:
        return self.support[feature] >= self.config.samples_per_feature

    # ------------------------------------------------------------ the run
    def run(self) -> LoopResult:
        start = time.perf_counter()
        done = {r.feature: r for r in self.checkpoint.finished}
        order = self.plan.missing[: self.config.max_features] if self.config.max_features else self.plan.missing
        self._open_bars(len(order), len(done))
        stop_reason, error = "all features visited", None
        try:
            for missing in order:
                if missing.feature in done:
                    continue
                if self.target_reached():
                    stop_reason = "target FAC reached"
                    break
                if self.budget_left() <= 0:
                    stop_reason = "budget spent"
                    break
                rows_from = len(self.checkpoint.rows)
                record = self.fill(missing)
                if record.status in R.PARTIAL:
                    self.checkpoint.partial, self.checkpoint.partial_rows_from = record, rows_from
                else:
                    self.checkpoint.finished.append(record)
                    done[record.feature] = record
                self.checkpoint.calls = self.calls
                save_checkpoint(self.out_dir, self.checkpoint)
                self._bars["features"].update(1)
                if self.on_feature is not None:
                    self.on_feature(record)
                if record.status in R.PARTIAL:
                    stop_reason = "budget spent" if record.status == R.BUDGET else "target FAC reached"
                    break
        except FacGeneratorError as exc:  # not checkpointed: a resumed run redoes this feature from the cache
            stop_reason, error = "generator failed", str(exc)
            if self._filling is not None:
                self._filling.status = R.GENERATOR_FAILED
                done[self._filling.feature] = self._filling
        finally:
            for bar in self._bars.values():
                bar.close()
        records = self._final_records(order, done)
        return LoopResult(
            records,
            self.checkpoint.rows,
            self.calls,
            stop_reason,
            time.perf_counter() - start,
            dict(self.support),
            error,
        )

    def _final_records(
        self, order: Sequence[MissingFeature], done: dict[int, R.FeatureRecord]
    ) -> list[R.FeatureRecord]:
        partial = self.checkpoint.partial
        records = []
        for missing in order:
            if missing.feature in done:
                record = done[missing.feature]
            elif partial is not None and partial.feature == missing.feature:
                record = partial
            else:
                record = R.FeatureRecord(missing.feature, missing.anchor_support)
            record.support = int(self.support[missing.feature])
            if record.covered_by is None and self.covered(missing.feature) and record.status != R.COVERED:
                record.covered_by = "other"  # filled later by samples written for other features
            records.append(record)
        return records

    # ------------------------------------------------------------ one feature
    def fill(self, missing: MissingFeature) -> R.FeatureRecord:
        """Step 1 (candidates -> pair), then step 2 (covered samples) until the feature is covered or stops."""
        f = missing.feature
        record = R.FeatureRecord(f, missing.anchor_support, support_before=int(self.support[f]))
        self._filling = record
        if f not in self.catalog:
            record.status = R.NOT_IN_CATALOG
            return record
        brief = feature_brief(self.catalog, f, self.config.spans_in_prompt)
        record.explanation = brief.explanation
        if self.covered(f):
            record.status, record.covered_by = R.COVERED, "other"
            return record
        state = _FeatureState()
        texts: list[str] = []
        activations: list[float] = []
        while record.candidates < self.config.candidates and not self._should_stop(record, state):
            n = self._calls_for(record, state, self.config.candidates - record.candidates)
            outcomes = generate_candidates(self.task, self.generator, brief, state.next_attempts(n), self.params)
            for outcome, activation in self._process(outcomes, record, state, [brief], step=1):
                record.candidates += 1
                record.candidates_fired += activation > self.threshold
                texts.append(outcome.text)
                activations.append(activation)
        needs_step2 = not self._should_stop(record, state)
        pair = None
        if texts or needs_step2:  # recorded even when the candidates already covered the feature
            pair = select_pair(brief, texts, activations, self.threshold, lambda t: peak_marked(self.extractor, t, f))
            record.pair = pair.to_dict() if pair else None
            record.fallback = pair.fallback if pair else None
        if needs_step2:
            if pair is None:
                record.status = R.NO_EXAMPLES
                return record
            co_briefs = [feature_brief(self.catalog, g, self.config.spans_in_prompt) for g in self._co_targets(f)]
            record.co_targets = [b.feature for b in co_briefs]
            while not self._should_stop(record, state):
                n = self._calls_for(record, state, self.config.samples_per_feature - self.support[f])
                outcomes = generate_covered(
                    self.task, self.generator, [brief, *co_briefs], pair, state.next_attempts(n), self.params
                )
                self._process(outcomes, record, state, [brief, *co_briefs], step=2)
        record.status = self._status(record, state)
        if record.status == R.COVERED:
            record.covered_by = "own" if record.accepted else "other"
        return record

    def _calls_for(self, record: R.FeatureRecord, state: _FeatureState, wanted: int) -> int:
        """Calls of the next round: what is wanted, within the feature's calls, its patience and the budget."""
        patience_left = self.config.patience - state.calls_without_firing
        left = min(self.config.calls_per_feature - record.calls, patience_left, self.budget_left())
        return int(max(1, min(wanted, left)))

    def _should_stop(self, record: R.FeatureRecord, state: _FeatureState) -> bool:
        return (
            self.covered(record.feature)
            or record.calls >= self.config.calls_per_feature
            or state.calls_without_firing >= self.config.patience
            or self.budget_left() <= 0
            or self.target_reached()
        )

    def _status(self, record: R.FeatureRecord, state: _FeatureState) -> str:
        if self.covered(record.feature):
            return R.COVERED
        if self.target_reached():
            return R.TARGET_REACHED
        if state.calls_without_firing >= self.config.patience:
            return R.UNRESPONSIVE
        if record.calls >= self.config.calls_per_feature:
            return R.CALLS_EXHAUSTED
        return R.BUDGET

    def _co_targets(self, feature: int) -> list[int]:
        """Up to `co_targets` uncovered missing features that fire in the most anchor texts with `feature`."""
        rows = self.plan.anchor_rows
        if not self.config.co_targets or rows is None:
            return []
        row_ids = rows.row_ids()
        with_feature = np.unique(row_ids[rows.features == feature])
        mask = np.isin(row_ids, with_feature) & np.isin(rows.features, list(self.missing))
        counts = Counter(rows.features[mask].tolist())
        ranked = sorted(
            (g for g in counts if g != feature and g in self.catalog and not self.covered(g)),
            key=lambda g: (-counts[g], g),
        )
        return ranked[: self.config.co_targets]

    def _process(
        self,
        outcomes: Sequence[Outcome],
        record: R.FeatureRecord,
        state: _FeatureState,
        briefs: Sequence[FeatureBrief],
        *,
        step: int,
    ) -> list[tuple[Outcome, float]]:
        """Count the calls, score and filter the parsed samples, append their rows.

        Returns (outcome, activation of the feature being filled) per parsed sample, in call order.
        """
        self.calls += len(outcomes)
        record.calls += len(outcomes)
        self._bars["calls"].update(len(outcomes))
        failed = [o for o in outcomes if o.failed_call]
        record.failed_calls += len(failed)
        record.malformed += sum(not o.ok and not o.failed_call for o in outcomes)
        for cause in Counter(o.cause for o in outcomes if o.cause).elements():
            record.malformed_by_cause[cause] = record.malformed_by_cause.get(cause, 0) + 1
        for outcome in outcomes:
            if outcome.error and len(record.errors) < 5:  # a few examples of what went wrong, not all
                record.errors.append(outcome.error[:200])
        if outcomes and len(failed) == len(outcomes):
            raise FacGeneratorError(
                f"Every call of a round to {self.generator.generator_id} failed ({failed[0].error}). Check that the "
                "generator runs, then rerun with resume: finished features are kept and cached answers reused."
            )
        parsed = [o for o in outcomes if o.ok]
        scores = score_texts(self.extractor, [o.text for o in parsed])
        by_id = {b.feature: b for b in briefs}
        verdicts = sae_filter(scores, list(by_id), self.threshold, self.missing)
        scored = {id(o): (acts, v) for o, acts, v in zip(parsed, scores, verdicts, strict=True)}
        feature = briefs[0].feature
        results = []
        for outcome in outcomes:
            if id(outcome) not in scored:
                state.calls_without_firing += 1
                continue
            acts, verdict = scored[id(outcome)]
            activation = float(acts.get(feature, 0.0))
            fires = activation > self.threshold
            state.calls_without_firing = 0 if fires else state.calls_without_firing + 1
            record.generated += 1
            record.fired += fires
            record.best_activation = max(record.best_activation, activation)
            accepted, reason = verdict.accepted, verdict.reason
            if has_peak_mark(outcome.text):  # fires or not, a copied <<mark>> is no sample
                accepted, reason = False, MARK_COPIED
            duplicate, similarity, _ = self.novelty.is_duplicate(outcome.text)
            if accepted and duplicate:
                accepted, reason = False, NEAR_DUPLICATE
                record.near_duplicates += 1
            if accepted:
                self.novelty.add([outcome.text], "accepted")
                self.support.update(verdict.fired_missing)
                record.accepted += 1
                self.n_accepted += 1
                self._bars["calls"].set_postfix(accepted=self.n_accepted)
            self.checkpoint.rows.append(
                {
                    **outcome.row,
                    R.TARGET_FEATURE: verdict.target,
                    R.FEATURE_EXPLANATION: by_id[verdict.target].explanation,
                    R.ACTIVATION: verdict.activation,
                    R.STEP: step,
                    R.GENERATOR: self.generator.generator_id,
                    R.PROMPT_VERSION: self.version,
                    R.ACCEPTED: accepted,
                    R.FIRED_MISSING: verdict.fired_missing,
                    R.REJECT_REASON: reason,
                    R.SIMILARITY: round(similarity, 4),
                    R.SAE_TEXT: outcome.text,
                }
            )
            results.append((outcome, activation))
        return results

    # ------------------------------------------------------------ progress bars
    def _open_bars(self, n_features: int, n_done: int) -> None:
        from tqdm.auto import tqdm

        off = not self.progress
        self._bars = {
            "features": tqdm(
                total=n_features, initial=n_done, desc="features", unit="feature", disable=off, position=0
            ),
            "calls": tqdm(
                total=self.config.budget, initial=self.calls, desc="calls", unit="call", disable=off, position=1
            ),
        }
