"""What each card says: the facts of a synthesized dataset, a catalog or an SAE, as template values.

Values are formatted here (percentages, table cells with pipes escaped), so the templates stay
plain Markdown; the licences and the card metadata's `license` are filled in later (`licenses.py`).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from fac_datasets.config import HubPushConfig
from fac_datasets.constants import (
    CATALOG_DOC_FREQ,
    CATALOG_EXPLAINER,
    CATALOG_EXPLANATION,
    CATALOG_FEATURE_ID,
    CATALOG_MAX_ACTIVATION,
    CATALOG_RELEVANCE,
    CATALOG_SIDECAR,
    CATALOG_TOKEN_SUMMARY,
    CATALOG_VERIFICATION_SCORE,
    HUB_ALL_ROWS_CONFIG,
    HUB_ALL_ROWS_DIR,
    HUB_DATA_DIR,
    HUB_KIND_CATALOG,
    HUB_KIND_SAE,
    HUB_KIND_SYNTHESIZED,
    HUB_KIND_TAGS,
    HUB_SPLIT,
    HUB_SYNTHETIC_TAG,
    HUB_TAGS,
)
from fac_datasets.errors import FacInputError
from fac_datasets.hub.licenses import InputLicense, dataset_inputs, generator_input, model_input

# Hub task categories of the built-in synthesis tasks (custom tasks get none).
TASK_CATEGORIES = {
    "toxicity": "text-classification",
    "instruction_following": "text-generation",
    "reward_modeling": "text-generation",
    "behavior_steering": "text-generation",
}
SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"))


@dataclass
class CardPlan:
    """Attributes:
    kind: what is published (constants.HUB_KINDS); repo_type: dataset or model.
    template: the card template in hub_cards; sections: templates appended after it.
    values: template values (title, tables, ...); the repo id, licence and card metadata come later.
    metadata: card metadata (DatasetCardData / ModelCardData fields) without the licence.
    inputs: what it was made from, with their licences as far as known.
    """

    kind: str
    repo_type: str
    template: str
    values: dict[str, Any]
    metadata: dict[str, Any]
    inputs: list[InputLicense]
    sections: tuple[str, ...] = ()
    body: str | None = None  # a ready body (an SAE's training card) used instead of the template
    notes: list[str] = field(default_factory=list)


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def num(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    return f"{value:,}" if isinstance(value, int) else f"{value:.{digits}f}"


def cell(value: Any, limit: int = 120) -> str:
    """One Markdown table cell: one line, pipes escaped, long text cut."""
    text = "" if value is None else str(value)
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def size_category(n_rows: int) -> str:
    return next((name for bound, name in SIZE_CATEGORIES if n_rows < bound), "n>1M")


def title_of(kind: str, repo_id: str, config: HubPushConfig) -> str:
    if config.pretty_name:
        return config.pretty_name
    what = {HUB_KIND_SYNTHESIZED: "synthesized samples", HUB_KIND_CATALOG: "feature catalog", HUB_KIND_SAE: "SAE"}
    return f"{repo_id.split('/')[-1]}: {what[kind]} (fac-datasets)"


def tags_of(kind: str, *extra: str | None) -> list[str]:
    tags = [*HUB_TAGS, HUB_KIND_TAGS[kind], *(t for t in extra if t)]
    return list(dict.fromkeys(tags))


def _setup_rows(provenance: dict) -> list[dict]:
    return [
        {"name": "backbone", "value": f"`{cell(provenance.get('model'))}`"},
        {"name": "layer (residual stream after N blocks)", "value": cell(provenance.get("layer"))},
        {"name": "SAE (content hash)", "value": f"`{cell(provenance.get('sae'))}`"},
        {"name": "activation threshold", "value": cell(provenance.get("threshold"))},
    ]


def _limitation_licences() -> str:
    return (
        "Licences are inherited from the inputs listed above; an input whose licence is unknown is said to be "
        "unknown, not guessed."
    )


# ------------------------------------------------------------------ synthesized dataset
def _require(report: dict, *keys: str) -> None:
    missing = [key for key in keys if key not in report]
    if missing:
        raise FacInputError(
            f"report.json lacks {', '.join(missing)}: it was not written by this version of `fac synthesize`. "
            "Rerun the synthesis (with --resume it reuses every cached answer)."
        )


def _fac_rows(before: dict, after: dict, token_budget: int | None) -> list[dict]:
    def fac(s: dict) -> str:
        return f"{pct(s.get('fac'))} ({s.get('n_covered')}/{s.get('n_relevant')})"

    def budget(s: dict) -> str:
        if s.get("token_budget_fac") is None:
            return "n/a"
        std = s.get("token_budget_fac_std")
        return pct(s["token_budget_fac"]) + (f" ± {pct(std)}" if std else "")

    rows = [
        ("FAC (relevant features covered)", fac),
        (f"soft FAC (support ≥ {before.get('soft_support', 'n/a')})", lambda s: pct(s.get("soft_fac"))),
        (f"FAC at {num(token_budget)} tokens", budget),
        ("missing relevant features", lambda s: num(s.get("n_missing"))),
        ("texts", lambda s: num(s.get("n_texts"))),
        ("mean tokens per text", lambda s: num(s.get("mean_tokens"), 1)),
    ]
    return [{"name": name, "before": get(before), "after": get(after)} for name, get in rows]


def _filter_rows(report: dict) -> list[dict]:
    from fac_datasets.synthesis.novelty import NEAR_DUPLICATE
    from fac_datasets.synthesis.sae_filter import NOT_FIRED

    samples = report["samples"]
    novelty = report.get("novelty") or {}
    rules = {
        NOT_FIRED: (
            "SAE filter",
            f"the target feature's pooled activation must exceed {report.get('filter_threshold')}",
        ),
        NEAR_DUPLICATE: (
            "novelty filter",
            f"{novelty.get('measure', 'similarity')} below {novelty.get('threshold')} to every anchor, current and "
            "accepted text",
        ),
    }
    rejected = dict(samples.get("rejected") or {})
    order = [*rules, *sorted(set(rejected) - set(rules))]  # the loop's order; a filter that rejected nothing shows too
    rows, n_in = [], int(samples["generated"])
    for reason in order:
        name, rule = rules.get(reason, (reason, "as recorded in reject_reason"))
        count = int(rejected.get(reason, 0))
        rows.append({"name": name, "rule": cell(rule, 200), "n_in": n_in, "rejected": count, "kept": n_in - count})
        n_in -= count
    return rows


def _feature_rows(records: list[dict], limit: int) -> list[dict]:
    return [
        {
            "feature": r.get("feature"),
            "explanation": cell(r.get("explanation"), 80),
            "anchor_support": r.get("anchor_support"),
            "status": r.get("status"),
            "calls": r.get("calls"),
            "generated": r.get("generated"),
            "fired": r.get("fired"),
            "accepted": r.get("accepted"),
            "best_activation": num(r.get("best_activation")),
            "support": r.get("support"),
        }
        for r in records[:limit]
    ]


def _table_note(shown: int, total: int, where: str) -> str:
    if shown == total:
        return f"All {total} features."
    return f"The first {shown} of {total} features; {where} holds every one."


def synthesized_card(report: dict, n_accepted: int, n_generated: int, plot: str | None, config: HubPushConfig):
    """The dataset card's facts from a run's report.json."""
    _require(report, "task", "generator", "provenance", "fac_before", "fac_after", "samples", "features")
    task, provenance, samples = report["task"], report["provenance"], report["samples"]
    calls = report.get("calls") or {}
    generator_id = (report.get("generator") or {}).get("id")
    records = list(report["features"])
    task_columns = ", ".join(f"`{name}`" for name in task.get("columns") or []) or "none recorded"
    setup = [
        {
            "name": "task",
            "value": cell(f"{task.get('name')} ({task.get('version')}), relevance task {task.get('relevance_task')}"),
        },
        {"name": "generator", "value": f"`{cell(generator_id)}`"},
        {"name": "prompt version", "value": cell(report.get("prompt_version"))},
        *_setup_rows(provenance),
        {"name": "relevant features", "value": cell(report.get("relevance"), 200)},
        {
            "name": "generator calls",
            "value": cell(
                f"{calls.get('total')} (budget {calls.get('budget') or 'none'}, backend {calls.get('backend_calls')}, "
                f"cache hits {calls.get('cache_hits')})"
            ),
        },
        {"name": "stopped because", "value": cell(report.get("stop_reason"))},
        {"name": "run fingerprint", "value": f"`{cell(report.get('fingerprint'))}`"},
    ]
    yield_summary = (
        f"{n_generated} samples were parsed from the generator's answers ({samples.get('malformed', 0)} answers could "
        f"not be parsed, {samples.get('failed_calls', 0)} calls failed; neither is in the data); "
        f"{n_accepted} passed every filter."
    )
    task_name = task.get("name")
    inputs = [
        *dataset_inputs(config.source_datasets, "anchor / current data"),
        generator_input(generator_id),
        model_input("backbone", provenance.get("model")),
    ]
    limitations = [
        f"The samples are machine-written by `{generator_id}` and only as good as it is (a small model writes plain, "
        "repetitive text): read them, or review them in Argilla, before training on them.",
        "The SAE filter checks that a sample fires its target feature, not that it is correct, safe or well-labelled.",
        f"FAC is measured in one SAE's feature space (hash `{provenance.get('sae')}`) at activation threshold "
        f"{provenance.get('threshold')}; another SAE, layer or threshold gives other figures.",
        "Coverage is only as meaningful as the relevance rule: "
        f"{report.get('relevance')}. Anchor support alone counts nearly every active latent.",
        _limitation_licences(),
    ]
    if task_name == "toxicity":
        limitations.insert(
            0,
            "Content warning: the samples are deliberately toxic (offensive, insulting, "
            "threatening): they are positive examples for a toxicity classifier.",
        )
    metadata = {
        "tags": tags_of(HUB_KIND_SYNTHESIZED, HUB_SYNTHETIC_TAG, task_name),
        "source_datasets": list(config.source_datasets) or None,
        "task_categories": [TASK_CATEGORIES[task_name]] if task_name in TASK_CATEGORIES else None,
        "size_categories": [size_category(n_accepted)],
        "annotations_creators": ["machine-generated"],
        "language_creators": ["machine-generated"],
        "configs": [
            {"config_name": "default", "data_files": [{"split": HUB_SPLIT, "path": f"{HUB_DATA_DIR}/{HUB_SPLIT}-*"}]},
            {
                "config_name": HUB_ALL_ROWS_CONFIG,
                "data_files": [{"split": HUB_SPLIT, "path": f"{HUB_ALL_ROWS_DIR}/{HUB_SPLIT}-*"}],
            },
        ],
    }
    values = {
        "task": task,
        "fac_before": pct(report["fac_before"].get("fac")),
        "fac_after": pct(report["fac_after"].get("fac")),
        "n_accepted": n_accepted,
        "n_generated": n_generated,
        "all_config": HUB_ALL_ROWS_CONFIG,
        "fac_rows": _fac_rows(report["fac_before"], report["fac_after"], report.get("token_budget")),
        "relevance": cell(report.get("relevance"), 300),
        "plot": plot,
        "notes": [" ".join(str(note).split()) for note in report.get("notes") or []],
        "setup_rows": setup,
        "yield_summary": yield_summary,
        "filter_rows": _filter_rows(report),
        "feature_rows": _feature_rows(records, config.table_rows),
        "feature_table_note": _table_note(min(len(records), config.table_rows), len(records), "report.json"),
        "task_columns": task_columns,
        "limitations": limitations,
    }
    return CardPlan(HUB_KIND_SYNTHESIZED, "dataset", "dataset_card.md", values, metadata, inputs)


# ------------------------------------------------------------------ feature catalog
def _relevance_rows(cells: list[str | None]) -> list[dict]:
    judged: dict[str, Counter] = {}
    for raw in cells:
        for task, verdict in (json.loads(raw) if raw else {}).items():
            counts = judged.setdefault(task, Counter())
            counts["judged"] += 1
            counts["relevant"] += bool(verdict.get("relevant"))
            counts[str(verdict.get("method"))] += 1
    return [
        {
            "task": cell(task),
            "judged": c["judged"],
            "relevant": c["relevant"],
            "by_method": f"{c['human']} / {c['llm']} / {c['enrichment']}",
        }
        for task, c in sorted(judged.items())
    ]


def _explainer_models(cells: list[str | None]) -> list[str]:
    models = []
    for raw in cells:
        if raw:
            try:
                model = json.loads(raw).get("model")
            except (ValueError, AttributeError):
                model = None
            if model and model not in models:
                models.append(model)
    return models


def catalog_card(catalog, config: HubPushConfig) -> CardPlan:
    """The catalog card's facts from a loaded FeatureCatalog."""
    from fac_datasets.relevance.rule import RULE

    data, info, provenance = catalog.dataset, catalog.info, catalog.provenance
    explanations = data[CATALOG_EXPLANATION]
    scores = [s for s in data[CATALOG_VERIFICATION_SCORE] if s is not None]
    explainers = _explainer_models(data[CATALOG_EXPLAINER])
    setup = [
        *_setup_rows(provenance),
        {"name": "SAE latents (d_sae)", "value": num(info.get("d_sae"))},
        {"name": "texts mined", "value": num(info.get("n_docs"))},
        {"name": "tokens mined", "value": num(info.get("n_tokens"))},
    ]
    fill = [
        {"name": "features (fired at least once)", "value": num(len(catalog))},
        {"name": "with an explanation", "value": num(sum(bool(e and e.strip()) for e in explanations))},
        {"name": "with a verification score", "value": num(len(scores))},
        {"name": "mean verification score", "value": num(sum(scores) / len(scores)) if scores else "n/a"},
    ]
    ids, doc_freq = data[CATALOG_FEATURE_ID], data[CATALOG_DOC_FREQ]
    order = sorted(range(len(catalog)), key=lambda i: (-doc_freq[i], ids[i]))[: config.table_rows]
    rows = []
    for row in data.select(order, keep_in_memory=True):  # never an indices cache file in the user's folder
        rows.append(
            {
                "feature": row[CATALOG_FEATURE_ID],
                "doc_freq": row[CATALOG_DOC_FREQ],
                "max_activation": num(row[CATALOG_MAX_ACTIVATION], 2),
                "explanation": cell(row[CATALOG_EXPLANATION] or "", 80),
                "tokens": cell(", ".join(f"{t['token']} ({t['count']})" for t in row[CATALOG_TOKEN_SUMMARY][:5]), 80),
            }
        )
    inputs = [
        *dataset_inputs(config.source_datasets, "mined texts (quoted in the spans)"),
        model_input("backbone", provenance.get("model")),
        *(generator_input(model, "explainer / judge") for model in explainers),
    ]
    limitations = [
        "Spans quote the mined texts verbatim: the licence (and any personal or offensive content) of those "
        "texts carries over.",
        "Explanations and relevance verdicts by an LLM can be wrong or vague; the verification score (detection "
        "scoring) says how well an explanation predicts where the feature fires.",
        "Feature ids are only meaningful with the same model, layer and SAE (the hash above).",
        _limitation_licences(),
    ]
    metadata = {
        "tags": tags_of(HUB_KIND_CATALOG, "sparse-autoencoder", "interpretability"),
        "source_datasets": list(config.source_datasets) or None,
        "size_categories": [size_category(len(catalog))],
        "configs": [
            {"config_name": "default", "data_files": [{"split": HUB_SPLIT, "path": f"{HUB_DATA_DIR}/{HUB_SPLIT}-*"}]}
        ],
    }
    values = {
        "n_features": len(catalog),
        "n_docs": num(info.get("n_docs")),
        "sidecar": CATALOG_SIDECAR,
        "setup_rows": setup,
        "fill_rows": fill,
        "relevance_rows": _relevance_rows(data[CATALOG_RELEVANCE]),
        "relevance_rule": RULE,
        "feature_rows": rows,
        "feature_table_note": _table_note(len(rows), len(catalog), "the data"),
        "limitations": limitations,
    }
    return CardPlan(HUB_KIND_CATALOG, "dataset", "catalog_card.md", values, metadata, inputs)


# ------------------------------------------------------------------ SAE
def sae_card(sae, sae_hash: str, trained_body: str | None, config: HubPushConfig) -> CardPlan:
    """The SAE card's facts; `trained_body` is its training card (sae/card.py) when it has a training record."""
    from fac_datasets.hub.licenses import looks_like_hub_id

    cfg = sae.cfg
    corpus = (cfg.training or {}).get("corpus") or {}
    inputs = [model_input("backbone", cfg.model_name)]
    if config.source_datasets or corpus:
        parts = "; ".join(corpus.get("parts") or []) or "not recorded"
        inputs += (
            dataset_inputs(config.source_datasets, "training corpus")
            if config.source_datasets
            else [InputLicense("training corpus", parts, None, "not recorded")]
        )
    setup = [
        {"name": "model", "value": f"`{cell(cfg.model_name)}`"},
        {"name": "layer (residual stream after N blocks)", "value": cell(cfg.layer)},
        {"name": "d_in", "value": cfg.d_in},
        {"name": "d_sae", "value": cfg.d_sae},
        {"name": "k", "value": cfg.k},
        {"name": "reference token norm", "value": num(cfg.reference_norm, 1)},
        {"name": "SAE hash", "value": f"`{sae_hash}`"},
    ]
    limitations = [
        "An SAE explains only part of the residual stream (see the held-out FVU when recorded); features are "
        "statistical directions, not verified concepts.",
        "It fits only its backbone and layer: fac-datasets refuses it for another model width, and coverage from "
        "another layer is not comparable.",
        _limitation_licences(),
    ]
    metadata = {
        "library_name": "sae-lens",
        "tags": tags_of(HUB_KIND_SAE, "sparse-autoencoder"),
        "base_model": cfg.model_name if looks_like_hub_id(cfg.model_name) else None,
        "datasets": list(config.source_datasets) or None,
    }
    values = {"setup_rows": setup, "sae_hash": sae_hash, "limitations": limitations}
    return CardPlan(
        HUB_KIND_SAE,
        "model",
        "sae_basic_card.md",
        values,
        metadata,
        inputs,
        sections=("sae_publish.md",),
        body=trained_body,
    )
