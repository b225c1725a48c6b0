"""Typed configs: the one home of every default a user can change.

Each field's docstring is its description; the CLI takes its defaults and `--help` text from
here (`fac_datasets.cli.options`), and the library functions take these objects, so a default
is written exactly once. A bad value raises `FacConfigError` naming the field.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from fac_datasets.errors import FacConfigError

Dtype = Literal["float32", "bfloat16"]
DtypeChoice = Literal["auto", "float32", "bfloat16"]
_DTYPE_ALIASES = {"fp32": "float32", "bf16": "bfloat16"}


def describe_validation_error(exc: ValidationError, owner: str) -> str:
    """One line per bad field: 'owner.field: what is wrong (got value)'."""
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(config)"
        got = f" (got {error['input']!r})" if "input" in error and not isinstance(error["input"], dict) else ""
        lines.append(f"{owner}.{where}: {error['msg']}{got}")
    return "Invalid settings: " + "; ".join(lines)


class FacConfig(BaseModel):
    """Base of every config: unknown keys are errors, values are checked, objects are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True, validate_default=True)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise FacConfigError(describe_validation_error(exc, type(self).__name__)) from exc

    @classmethod
    def default_of(cls, name: str) -> Any:
        """The default of one field (for signatures and help texts that must not restate it)."""
        return cls.model_fields[name].get_default(call_default_factory=True)


class BackboneConfig(FacConfig):
    """How texts become residual-stream activations."""

    model: str = "default"
    """'default' (embedded SmolLM2-135M-Instruct), a Hub id, a local model folder or a .gguf file."""

    layer: int | None = Field(None, ge=1)
    """Residual stream after this many decoder blocks; None takes the SAE's layer."""

    dtype: DtypeChoice = "auto"
    """Backbone dtype: auto (bfloat16 where it runs natively: CUDA, or a CPU with avx512_bf16/AMX; else float32)."""

    device: Literal["auto", "cpu", "cuda"] = "auto"
    """Device of the backbone and SAE; auto is cuda when torch sees a GPU, else cpu."""

    max_length: int = Field(512, ge=2)
    """Tokens per text (with the sink token); longer texts are truncated and counted."""

    batch_tokens: int = Field(2048, ge=1)
    """Padded tokens per forward batch (texts are grouped by length)."""

    max_batch_size: int = Field(256, ge=1)
    """Texts per forward batch at most (short texts fill the token budget with many rows)."""

    outlier_norm_factor: float | None = Field(3.0, gt=0)
    """Drop tokens whose residual norm exceeds this many times the SAE's reference norm; None keeps all."""

    @field_validator("dtype", mode="before")
    @classmethod
    def _dtype_alias(cls, value: Any) -> Any:
        return _DTYPE_ALIASES.get(value, value) if isinstance(value, str) else value


class ExtractorConfig(BackboneConfig):
    """Backbone + SAE + pooling: what decides each text's features."""

    sae: str = "default"
    """'default' (shipped SAE), an sae-lens folder, a reference checkpoint, or sae-lens:RELEASE/SAE_ID."""

    threshold: float = Field(0.0, ge=0)
    """Minimum pooled (max over content tokens) activation that makes a feature active in a text."""

    outlier_norm_factor: float | None = Field(None, gt=0)
    """Outlier-token rule (see BackboneConfig); None takes the factor the SAE was trained with."""


class AnnotatorConfig(ExtractorConfig):
    """Everything that changes the annotations of `FeatureAnnotator`, and so its cache key."""

    column: str = "text"
    """Dataset column with the texts (strings or chat message lists)."""


class StreamingConfig(FacConfig):
    """How `fac annotate-dataset` walks a dataset of any size (`fac_datasets.features.streaming`)."""

    shard_size: int = Field(4096, ge=1)
    """Rows per shard: the unit written to disk and skipped when a run resumes (a few minutes of work on 2 cores)."""

    batch_size: int = Field(1024, ge=1)
    """Rows per annotator call, also `FeatureAnnotator.annotate`'s map batch_size (more rows: less padding)."""

    counts_only: bool = False
    """Write only the FeatureCounts per shard and merged, not the annotated rows."""

    streaming: bool = False
    """Read the input with datasets' streaming=True: nothing is converted or downloaded before work starts."""

    ray: str | None = None
    """Annotate on Ray: 'auto' (the running cluster, else a new local one) or a cluster address (ray://host:10001)."""

    ray_workers: int | None = Field(None, ge=1)
    """Ray actors, one model each; None is one per GPU when the cluster has GPUs, else one per CPU worker slot."""

    ray_cpus_per_worker: int = Field(1, ge=1)
    """CPUs reserved per Ray actor; its torch threads match."""

    @model_validator(mode="after")
    def _shards_hold_whole_batches(self) -> StreamingConfig:
        if self.shard_size % self.batch_size:
            raise ValueError(
                f"shard_size ({self.shard_size}) must be a multiple of batch_size ({self.batch_size}), "
                "so shards cut the same batches as one pass over the whole dataset"
            )
        return self


class CoverageConfig(FacConfig):
    """Which features count as relevant and covered, and how the rarefaction curve is drawn."""

    anchor_min_support: int = Field(3, ge=1)
    """Anchor texts a feature must be active in to be relevant (when no relevant ids are given)."""

    current_min_support: int = Field(1, ge=1)
    """Current texts a feature must be active in to count as covered."""

    rarefaction_fractions: tuple[float, ...] = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)
    """Subset sizes of the rarefaction curve, as fractions of the current set."""

    rarefaction_seeds: int = Field(3, ge=1)
    """Random orderings averaged per rarefaction point."""

    soft_support: int = Field(3, ge=1)
    """Soft coverage: each relevant feature scores min(1, current support / soft_support), averaged."""

    token_budget: int | None = Field(None, ge=1)
    """Also report FAC of seeded random current subsets of about this many content tokens (removes length)."""

    budget_seeds: int = Field(5, ge=1)
    """Random subsets averaged for the token-budget FAC."""

    activation_rule: Literal["any", "quantile", "fraction_of_max"] = "any"
    """When a feature counts in a text: any (> threshold), quantile (>= its reference q-quantile), fraction_of_max."""

    activation_quantile: float = Field(0.5, ge=0, le=1)
    """q of the quantile rule: one of the levels stored in the reference stats (0.25, 0.5, 0.75, 0.9)."""

    activation_fraction: float = Field(0.5, gt=0, le=1)
    """f of the fraction_of_max rule: a feature counts at >= f x its max activation over the anchor."""

    mmd: bool = False
    """Also report -MMD^2 between current and anchor texts in MiniLM space (a distribution-match baseline)."""


class TrainSAEConfig(FacConfig):
    """Everything that decides a trained SAE; recorded in its card."""

    model: str = BackboneConfig.default_of("model")
    """Backbone spec whose activations the SAE learns."""

    layer: int = Field(15, ge=1)
    """Residual stream after this many blocks (15 of SmolLM2's 30: mid-depth)."""

    collect_dtype: Dtype = "bfloat16"
    """Backbone dtype while collecting activations."""

    max_length: int = BackboneConfig.default_of("max_length")
    """Tokens per corpus chunk."""

    outlier_norm_factor: float = Field(BackboneConfig.default_of("outlier_norm_factor"), gt=0)
    """Tokens above this many times the median norm are left out of training (and later of coverage)."""

    d_sae: int = Field(4608, ge=1)
    """Latents (8x the embedded model's width)."""

    k: int = Field(32, ge=1)
    """Active latents per token (TopK)."""

    lr: float = Field(5e-4, gt=0)
    """Adam learning rate (decays to a tenth)."""

    batch_size: int = Field(2048, ge=1)
    """Tokens per training step."""

    epochs: int = Field(1, ge=1)
    """Passes over the collected activations."""

    max_train_tokens: int | None = Field(None, ge=1)
    """Cap on training tokens (quick runs)."""

    seed: int = 0
    """Seed of initialisation and batch order."""

    shard_chunks: int = Field(256, ge=1)
    """Corpus chunks per activation shard (the unit a resumed run skips)."""


class GenerationParams(FacConfig):
    """How one answer is sampled; part of every generation's cache key."""

    max_new_tokens: int = Field(256, ge=1)
    """New tokens per answer at most."""

    temperature: float = Field(0.7, ge=0)
    """Sampling temperature; 0 is greedy decoding."""

    top_p: float = Field(0.95, gt=0, le=1)
    """Nucleus sampling: keep the smallest token set with this much probability."""

    seed: int = 0
    """Sampling seed (local models reseed per batch; servers get it as `seed`)."""

    stop: tuple[str, ...] | None = None
    """Strings that end an answer (not included in the text); None stops only at end-of-turn."""

    continue_final_message: bool = False
    """Continue the conversation's last message instead of answering it. Magpie uses this: a
    conversation ending in an empty user message makes an instruct model write the user's query.
    Local models render the chat template with `continue_final_message`; OpenAI-compatible servers
    get vLLM's `continue_final_message` / `add_generation_prompt` extension fields."""

    @field_validator("stop")
    @classmethod
    def _stop_not_empty(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and any(not s for s in value):
            raise ValueError("stop strings must be non-empty")
        return value or None


class GeneratorConfig(FacConfig):
    """Which model answers chat messages, and how calls to it are batched, retried and cached."""

    spec: str = "default"
    """'default' (embedded SmolLM2-135M-Instruct), 'hf:PATH_OR_HUB_ID' or 'openai:MODEL@BASE_URL'."""

    cache_dir: str | None = None
    """Folder of the generation caches (one sqlite file per generator); None is <cache root>/generations."""

    concurrency: int = Field(4, ge=1)
    """Requests in flight at once to an OpenAI-compatible server."""

    max_retries: int = Field(4, ge=0)
    """Retries of a server request after a connection error, timeout, 429 or 5xx (0: try once)."""

    backoff_seconds: float = Field(1.0, ge=0)
    """First retry delay; doubles with every retry (capped at a minute)."""

    timeout_seconds: float = Field(120.0, gt=0)
    """Seconds one server request may take before it counts as failed (and is retried)."""

    deadline_seconds: float | None = Field(None, gt=0)
    """Seconds for all requests from the first one on; later ones are not sent, each a failed call (none: no limit)."""

    batch_size: int = Field(16, ge=1)
    """Conversations per `generate` batch of a local model (grouped by prompt length)."""

    device: Literal["auto", "cpu", "cuda"] = "auto"
    """Device of a local model; auto is cuda when available, else cpu."""

    @field_validator("cache_dir", mode="before")
    @classmethod
    def _path_to_str(cls, value: Any) -> Any:
        return str(value) if hasattr(value, "__fspath__") else value


class SpanConfig(FacConfig):
    """How span mining picks the example contexts of each feature (`fac_datasets.catalog.spans`)."""

    top_n: int = Field(20, ge=1)
    """Top-activating contexts kept per feature (explainers read 10-20; more costs memory per feature)."""

    window_before: int = Field(12, ge=0)
    """Content tokens shown before the peak: a causal model's activation depends only on what precedes it."""

    window_after: int = Field(4, ge=0)
    """Content tokens shown after the peak (a little of what follows helps a reader, but did not cause it)."""

    random_per_feature: int = Field(10, ge=0)
    """Activating contexts sampled uniformly per feature; those below their median become the weak examples."""

    contrast_reservoir: int = Field(200, ge=0)
    """Texts sampled uniformly from the corpus as the pool of contexts in which a feature does not fire."""

    contrast_per_feature: int = Field(10, ge=0)
    """Non-firing contexts picked from that pool per feature."""

    summary_tokens: int = Field(10, ge=1)
    """Most frequent peak tokens listed per feature in the catalog's token summary."""

    shard_size: int = Field(2000, ge=1)
    """Texts per saved shard: the unit a resumed run skips (about 2 minutes on 2 CPU cores with the default)."""

    seed: int = 0
    """Seed of the random contexts and the contrast pool (sampling does not depend on batching or sharding)."""


class InterpretConfig(FacConfig):
    """How the catalog's LLM stages ask about a feature (`fac_datasets.catalog.explain`, `.verify`, `.judge`)."""

    spans_per_prompt: int = Field(8, ge=1)
    """Top spans shown per feature when explaining or judging (small models lose track of long prompts)."""

    summary_tokens: int = Field(5, ge=1)
    """Most frequent peak tokens listed in the explanation prompt."""

    detect_per_class: int = Field(5, ge=1)
    """Activating and non-activating excerpts each, mixed in one detection-scoring prompt."""

    max_new_tokens: int = Field(64, ge=1)
    """Answer length of the explain and detect prompts (one line is asked for)."""

    judge_max_new_tokens: int = Field(160, ge=1)
    """Answer length of the relevance judge (a short analysis, then the decision)."""

    temperature: float = Field(0.0, ge=0)
    """Sampling temperature of these stages; 0 is greedy, so reruns and caches agree."""

    seed: int = 0
    """Seed of the excerpt shuffling in detection scoring."""


class RelevanceConfig(FacConfig):
    """Which anchor features count as task-relevant (`fac_datasets.relevance.resolve`)."""

    method: Literal["auto", "anchor-support", "ids", "enrichment", "catalog"] = "auto"
    """auto: given ids, else the catalog's verdicts for the task, else enrichment vs the contrast set, else (a task
    named) enrichment vs the reference, else anchor support. Or force one: anchor-support (every feature active in
    the anchor), ids (a given list), enrichment (vs the contrast set or the reference), catalog (its verdicts)."""

    reference: str = "default"
    """Reference stats: 'default' (shipped for the default SAE) or a file written by `fac reference-counts`."""

    min_support: int = Field(5, ge=1)
    """Anchor texts an enriched feature must be active in."""

    min_z: float = 3.0
    """One-sided z-score of the log-odds ratio (anchor vs reference) a feature must reach."""

    top_k: int | None = Field(None, ge=1)
    """Keep at most this many enriched features, highest z first; None keeps all that pass."""

    prior_strength: float = Field(10.0, gt=0)
    """Pseudo-texts of the informative Dirichlet prior (pooled presence rate); shrinks rare features to 0."""


class SynthesisConfig(FacConfig):
    """How missing relevant features are filled with synthesized samples (`fac_datasets.synthesis`)."""

    max_features: int | None = Field(None, ge=1)
    """Fill only the N missing relevant features with the most anchor support; None: all (never a random fraction)."""

    samples_per_feature: int = Field(2, ge=1)
    """Accepted samples that must fire a feature before it counts as filled (samples for other features count too)."""

    candidates: int = Field(4, ge=1)
    """Step-1 candidates per feature, scored by the SAE to pick its contrastive pair."""

    samples_per_call: int = Field(1, ge=1)
    """Samples one generator call asks for (its answer schema holds exactly this many); the loop takes 1 for now."""

    calls_per_feature: int = Field(10, ge=1)
    """Generator calls per feature at most: candidates, covered samples and retries of unparsable answers."""

    patience: int = Field(6, ge=1)
    """Give up a feature after this many calls in a row whose samples do not fire it."""

    budget: int | None = Field(None, ge=1)
    """Generator calls for the whole run at most (cached answers count too, so a resumed run spends the same)."""

    target_fac: float | None = Field(None, gt=0, le=1)
    """Stop once FAC over the relevant features (current + accepted samples) reaches this; None: fill every feature."""

    filter_threshold: float | None = Field(None, ge=0)
    """Pooled activation a targeted feature must exceed for a sample to be accepted; None: the extractor's threshold."""

    co_targets: int = Field(0, ge=0)
    """Extra missing features named in each step-2 prompt: those co-occurring most with the target in anchor texts."""

    novelty: Literal["ngram", "minilm", "off"] = "ngram"
    """Reject near-duplicates of anchor, current and accepted texts: word 3-gram Jaccard, MiniLM cosine, or off."""

    ngram_threshold: float = Field(0.5, gt=0, le=1)
    """Word 3-gram Jaccard similarity at or above which a sample is a near-duplicate."""

    minilm_threshold: float = Field(0.9, gt=0, le=1)
    """MiniLM cosine similarity at or above which a sample is a near-duplicate."""

    spans_in_prompt: int = Field(5, ge=1)
    """Real top spans (peak marked) shown per feature in each prompt."""

    max_new_tokens: int = Field(300, ge=1)
    """Answer length of each generation."""

    temperature: float = Field(0.8, ge=0)
    """Sampling temperature of the generator (the reference sampled at 0.8)."""

    seed: int = 0
    """Sampling seed passed to the generator (part of every cache key)."""


class DownstreamConfig(FacConfig):
    """How the downstream evaluators (`fac_datasets.downstream`) train and score; recorded in every result."""

    model: str = BackboneConfig.default_of("model")
    """Backbone of every downstream task: 'default' (embedded SmolLM2-135M-Instruct), a Hub id, a folder or a .gguf."""

    layer: int = Field(TrainSAEConfig.default_of("layer"), ge=1)
    """Residual stream after this many blocks read by the probe, the reward head and steering (the SAE's layer)."""

    dtype: Dtype = "float32"
    """dtype of the frozen forward passes (probe, reward, steering); fine-tuning always trains in float32."""

    max_length: int = Field(BackboneConfig.default_of("max_length"), ge=2)
    """Tokens per text in frozen passes; pairs and A/B prompts lose their start, other texts their end."""

    batch_tokens: int = Field(BackboneConfig.default_of("batch_tokens"), ge=1)
    """Padded tokens per forward batch (texts are grouped by length)."""

    outlier_norm_factor: float | None = Field(BackboneConfig.default_of("outlier_norm_factor"), gt=0)
    """Mean pooling skips tokens whose norm exceeds this many times the text's median token norm; None keeps all."""

    seed: int = 0
    """Seed of sampling, initialisation and batch order: the same seed gives the same result."""

    method: Literal["probe", "finetune"] = "probe"
    """Toxicity: probe (logistic regression on frozen pooled states) or finetune (top blocks + a head, trained)."""

    probe_c: float = Field(1.0, gt=0)
    """Inverse L2 strength of the toxicity probe and the Bradley-Terry head (on standardised states)."""

    probe_max_iter: int = Field(2000, ge=1)
    """L-BFGS iterations of the probe and the Bradley-Terry head at most."""

    trainable_blocks: int = Field(2, ge=1)
    """Fine-tuning trains the top this-many decoder blocks and the final norm; the blocks below run once, frozen."""

    epochs: int = Field(3, ge=1)
    """Passes over the training rows of the toxicity fine-tune."""

    instruction_epochs: int = Field(1, ge=1)
    """Passes over the training pairs of the instruction-following proxy (a few steps keep it CPU-sized)."""

    lr: float = Field(1e-4, gt=0)
    """AdamW learning rate of the fine-tuned blocks."""

    head_lr: float = Field(1e-3, gt=0)
    """AdamW learning rate of the new classification head (it starts from scratch)."""

    batch_size: int = Field(8, ge=1)
    """Rows per fine-tuning step."""

    finetune_max_length: int = Field(256, ge=2)
    """Tokens per fine-tuning row (longer rows lose their end): bounds the CPU cost of both fine-tunes."""

    multipliers: tuple[float, ...] = Field((1.0, -1.0), min_length=1)
    """Steering strengths applied to the CAA vector; the first is the headline result."""

    steer_positions: Literal["answer", "all"] = "answer"
    """Where the vector is added: after the question (the CAA paper) or at all positions (the FAC reference scripts)."""

    cache_test_states: bool = True
    """Keep the frozen states of recent test sets in memory, so a study reusing one test set encodes it once."""


class ValidationConfig(FacConfig):
    """The validation study (`fac_datasets.validation`): pools, subsets, seeds, statistics; recorded in its report."""

    seed: int = 0
    """Seed of data splits, subset recipes, bootstrap and held-out recipes: same seed, same tables."""

    subset_seeds: int = Field(3, ge=1)
    """Subsets drawn per recipe (each with its own seed): 15 recipes x 3 = 45 subsets per task."""

    train_seeds: int = Field(3, ge=1)
    """Downstream trainings per subset (DownstreamConfig.seed = 0..n-1); the score is their mean."""

    toxicity_pool: int = Field(3000, ge=8)
    """Davidson tweets subsets are drawn from (half toxic, half not)."""

    toxicity_anchor: int = Field(1000, ge=4)
    """Davidson tweets of the anchor (half toxic, half not), disjoint from pool and test."""

    toxicity_test: int = Field(600, ge=4)
    """Davidson tweets of the probe's test set (half toxic, half not)."""

    toxicity_subset: int = Field(200, ge=4)
    """Tweets per training subset."""

    reward_pool: int = Field(800, ge=8)
    """HH-RLHF harmless pairs subsets are drawn from."""

    reward_anchor: int = Field(250, ge=4)
    """HH-RLHF pairs whose chosen transcripts form the anchor (disjoint from pool and test)."""

    reward_test: int = Field(250, ge=4)
    """HH-RLHF pairs the Bradley-Terry head is scored on."""

    reward_contrast: int = Field(250, ge=4)
    """AlpacaEval rows, framed as Human/Assistant dialogues: the same frame without the harm (enrichment contrast)."""

    reward_subset: int = Field(150, ge=4)
    """Pairs per training subset."""

    max_length: int = Field(BackboneConfig.default_of("max_length"), ge=8)
    """Tokens per text for SAE features and frozen states (longer texts are truncated and counted)."""

    holdout_fraction: float = Field(1 / 3, gt=0, lt=1)
    """Fraction of the recipes (whole recipes, all their subsets) held out to confirm the variant chosen on the rest."""

    select_by: Literal["pearson", "spearman", "partial"] = "partial"
    """Statistic the FAC variant is chosen by on the training recipes; partial = Pearson given tokens per text."""

    bootstrap: int = Field(2000, ge=10)
    """Bootstrap resamples (of subsets) behind every confidence interval."""

    ci: float = Field(0.95, gt=0, lt=1)
    """Coverage of the percentile bootstrap confidence intervals."""

    cache: bool = True
    """Keep features, embeddings, tags and frozen states of the pools on disk (<cache root>/validation) for reruns."""


class NovelSumConfig(FacConfig):
    """NovelSum (Yang et al., 2025): proximity-weighted, density-aware novelty; defaults of the authors' NovelSelect."""

    neighbors: int = Field(10, ge=1)
    """Nearest reference neighbours whose mean squared L2 distance gives a text's local density."""

    density_power: float = Field(0.5, ge=0)
    """Power of the density factor 1 / mean kNN distance (0 ignores density; no reference also ignores it)."""

    distance_power: float = Field(1.0, ge=0)
    """Power of the proximity weight 1 / rank (0 = plain mean distance)."""

    include_self: bool = True
    """Keep each text's zero self-distance in its ranked row, as the authors' code does (nearest other gets 1/2)."""

    chunk_rows: int = Field(512, ge=1)
    """Rows of the N x N distance matrix held at once (memory: chunk_rows x N floats)."""


class DCScoreConfig(FacConfig):
    """DCScore (Zhu et al., 2025): diversity as classification, each text its own class."""

    tau: float = Field(1.0, gt=0)
    """Softmax temperature over cosine similarities (the authors' default 1)."""

    chunk_rows: int = Field(1024, ge=1)
    """Rows of the N x N similarity matrix held at once (memory: chunk_rows x N floats)."""


class GVendiConfig(FacConfig):
    """G-Vendi (Jung et al., 2025): Vendi score of a proxy model's randomly projected per-text loss gradients."""

    model: str = BackboneConfig.default_of("model")
    """Proxy causal LM: 'default' (embedded SmolLM2-135M-Instruct), a local model folder, a .gguf file or a Hub id."""

    blocks: int = Field(1, ge=1)
    """Gradient restricted to the linear weights (attention and MLP) of the last this many decoder blocks."""

    projection_dim: int = Field(1024, ge=2)
    """Dimension of the seeded random projection of each gradient."""

    projection: Literal["sparse", "dense"] = "sparse"
    """sparse: CountSketch (one signed bucket per weight, cheap); dense: Rademacher matrix generated chunk by chunk."""

    seed: int = 0
    """Seed of the random projection (per weight matrix, so a weight projects the same in every subset)."""

    max_length: int = Field(256, ge=2)
    """Tokens per text (with the sink token); longer texts are truncated."""

    batch_size: int = Field(8, ge=1)
    """Texts per forward/backward pass (memory: batch_size x the largest weight matrix of per-text gradients)."""

    chunk_params: int = Field(1 << 16, ge=1)
    """Dense projection only: weights per generated block of the random matrix (chunk_params x projection_dim)."""


class ArgillaConfig(FacConfig):
    """The local Argilla stack (`fac argilla up`) and how review datasets are pushed and pulled (`fac review`)."""

    host: str = "127.0.0.1"
    """Interface every component of the local stack listens on."""

    port: int = Field(6900, ge=1, le=65535)
    """Port of argilla-server (API and web UI) in the local stack."""

    search_port: int = Field(9200, ge=1, le=65535)
    """Port of the search engine (osmem-server, in memory, OpenSearch-compatible) in the local stack."""

    redis_port: int = Field(6379, ge=1, le=65535)
    """Port of redis-server (argilla-server's job queue) in the local stack."""

    state_dir: str | None = None
    """Logs, pid files and the SQLite database of the local stack; None: <fac cache>/argilla."""

    owner: str = "owner"
    """User name of the local stack's owner account (created on first start)."""

    owner_password: str | None = Field(None, min_length=8)
    """Password of the local owner when created; None: ARGILLA_OWNER_PASSWORD, else random (kept per state dir)."""

    owner_api_key: str | None = Field(None, min_length=8)
    """API key of the local owner when it is created; None: ARGILLA_API_KEY, else random (kept per state dir)."""

    allow_remote: bool = False
    """Let the local stack listen on a host other than loopback (anyone who reaches it can try the API key)."""

    workers: int = Field(1, ge=1)
    """argilla-server background workers (rq) in the local stack."""

    start_timeout: float = Field(120.0, gt=0)
    """Seconds each component may take to answer its health check before `up` fails."""

    fresh: bool = False
    """Start with an empty database; by default the database is kept and the search indices rebuilt from it."""

    install_system_packages: bool = True
    """Install redis-server with apt-get when it is missing (needs root); otherwise fail saying how."""

    workspace: str = "fac"
    """Argilla workspace of review datasets (created when missing)."""

    if_exists: Literal["update", "fail"] = "update"
    """When the review dataset exists: update its records in place (same ids, never duplicated) or fail."""

    min_submitted: int = Field(1, ge=1)
    """Submitted responses a record needs before Argilla counts it as completed (task distribution)."""

    min_quality: int = Field(3, ge=1, le=5)
    """A reviewed sample is kept when reviewers say it expresses the feature and fits the task, rated at least this."""

    spans: int = Field(5, ge=1)
    """Top-activating spans shown per feature in a review record."""

    rows: Literal["accepted", "all"] = "accepted"
    """Synthesized rows pushed for review: accepted (passed the SAE filter) or all (rejected ones too)."""

    batch_size: int = Field(256, ge=1, le=500)
    """Records sent per request on push; a push cut off midway says how many batches reached the server."""


class HubPushConfig(FacConfig):
    """How `fac push` publishes a synthesized dataset, a feature catalog or an SAE (`fac_datasets.hub`)."""

    exists: Literal["fail", "update"] = "fail"
    """When the repo exists: fail (nothing is touched) or update (one new commit replaces what fac push wrote)."""

    private: bool = False
    """Create the repo private (ignored when it exists: its visibility is kept)."""

    endpoint: str | None = None
    """Hub URL; None: the HF_ENDPOINT environment variable, else https://huggingface.co."""

    license: str | None = None
    """Hub licence id of what is published; None: inherited from the inputs ('unknown' when any input's is)."""

    source_datasets: tuple[str, ...] = ()
    """Hub ids (or names) of the data it was made from; the card lists them and the Hub's licences are looked up."""

    pretty_name: str | None = None
    """Title of the card; None: made from the kind and the repo name."""

    table_rows: int = Field(50, ge=1)
    """Rows of the per-feature tables in the card at most (report.json and the data hold every feature)."""

    max_shard_mb: int = Field(500, ge=1)
    """Parquet shard size in MB at most (as datasets' push_to_hub)."""

    @field_validator("endpoint")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s):// URL")
        return value.rstrip("/") if value else value
