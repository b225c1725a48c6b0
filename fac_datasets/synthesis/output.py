"""What a run leaves behind: the dataset (save_to_disk + samples.jsonl), report.json and report.html.

The report puts FAC before and after side by side (binary, soft and at the current set's token
budget, so added length is not mistaken for coverage) next to what it cost: calls per feature,
how many samples each feature yielded and why the others were rejected.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
from collections import Counter
from pathlib import Path

from fac_datasets.config import SynthesisConfig
from fac_datasets.constants import COVERAGE_PNG, SYNTHESIS_DATASET_DIR, SYNTHESIS_REPORT_HTML, SYNTHESIS_REPORT_JSON
from fac_datasets.coverage.compute import CoverageReport
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.synthesis import records as R
from fac_datasets.synthesis.loop import LoopResult
from fac_datasets.synthesis.tasks import SynthesisTask

DATASET_DIR = SYNTHESIS_DATASET_DIR
REPORT_JSON = SYNTHESIS_REPORT_JSON
REPORT_HTML = SYNTHESIS_REPORT_HTML


def build_dataset(task: SynthesisTask, rows: list[dict]):
    """A `datasets.Dataset` of every generated row (task columns + provenance), types fixed by the task."""
    from datasets import Dataset, Features

    features = Features({**task.dataset_features(), **R.provenance_features()})
    columns = {name: [row.get(name) for row in rows] for name in features}
    return Dataset.from_dict(columns, features=features)


def save_dataset(dataset, folder: Path) -> Path:
    """save_to_disk into a temporary sibling, then renamed over `folder` (never a half-written dataset)."""
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    dataset.save_to_disk(str(tmp))
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(tmp, folder)
    return folder


def fac_summary(report: CoverageReport) -> dict:
    """The FAC figures of one coverage report, as the synthesis report shows them."""
    budget = report.variants.get("token_budget")
    return {
        "fac": report.fac,
        "n_covered": report.n_covered,
        "n_relevant": report.n_relevant,
        "n_missing": len(report.missing),
        "soft_fac": report.variants.get("soft_fac"),
        "soft_support": report.variants.get("soft_support"),
        "token_budget_fac": budget["fac_mean"] if budget else None,
        "token_budget_fac_std": budget["fac_std"] if budget else None,
        "token_budget_soft_fac": budget["soft_fac_mean"] if budget else None,
        "n_texts": report.n_current,
        "mean_tokens": report.current_mean_tokens,
    }


def rejection_counts(rows: list[dict]) -> dict[str, int]:
    return dict(sorted(Counter(row[R.REJECT_REASON] for row in rows if not row[R.ACCEPTED]).items()))


def _by_cause(records: list[R.FeatureRecord]) -> dict[str, int]:
    """Lost calls of the run by cause (failed calls as backend_error; the rest sum to samples.malformed)."""
    total: Counter = Counter()
    for record in records:
        total.update(record.malformed_by_cause)
    return dict(sorted(total.items()))


def report_figure_png(after: CoverageReport, anchor: FeatureCounts) -> bytes:
    """The coverage plot (covered vs missing by anchor support; rarefaction) of the data after synthesis."""
    import matplotlib.pyplot as plt

    from fac_datasets.coverage.report import coverage_figure

    fig = coverage_figure(after, anchor)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()


def synthesis_report(
    *,
    task: dict,
    prompt_version: str,
    generator: dict,
    provenance: dict,
    relevance: str,
    notes: list[str],
    before: CoverageReport,
    after: CoverageReport,
    token_budget: int | None,
    result: LoopResult,
    calls_before: int,
    filter_threshold: float,
    novelty: dict,
    config: SynthesisConfig,
    fingerprint: str,
    wall_seconds: float,
) -> dict:
    """What report.json holds: FAC before/after, what the run cost, and the per-feature yield table."""
    rows = result.rows
    return {
        "task": task,
        "prompt_version": prompt_version,
        "generator": generator,
        "provenance": provenance,
        "relevance": relevance,
        "notes": notes,
        "fac_before": fac_summary(before),
        "fac_after": fac_summary(after),
        "token_budget": token_budget,
        "stop_reason": result.stop_reason,
        "error": result.error,
        "calls": {
            "total": result.calls,
            "budget": config.budget,
            "this_run": result.calls - calls_before,
            "backend_calls": generator.get("calls", 0),
            "cache_hits": generator.get("cache_hits", 0),
        },
        "samples": {
            "generated": len(rows),
            "accepted": sum(bool(row[R.ACCEPTED]) for row in rows),
            "rejected": rejection_counts(rows),
            "malformed": sum(r.malformed for r in result.records),
            "malformed_by_cause": _by_cause(result.records),
            "failed_calls": sum(r.failed_calls for r in result.records),
        },
        "filter_threshold": filter_threshold,
        "novelty": novelty,
        "features": [r.to_dict() for r in result.records],
        "missing_before": len(before.missing),
        "missing_after": len(after.missing),
        "wall_seconds": round(wall_seconds, 2),
        "config": config.model_dump(),
        "fingerprint": fingerprint,
    }


def write_report(out_dir: Path, report: dict, png: bytes | None) -> dict[str, Path]:
    """report.json, the self-contained report.html and the coverage plot as coverage.png (for cards)."""
    from fac_datasets.templating import render_template

    paths = {"json": out_dir / REPORT_JSON, "html": out_dir / REPORT_HTML}
    if png:
        paths["png"] = out_dir / COVERAGE_PNG
        paths["png"].write_bytes(png)
    paths["json"].write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    html = render_template(
        "fac_datasets.synthesis",
        "templates/report.html.j2",
        report=report,
        png_base64=base64.b64encode(png).decode() if png else None,
    )
    paths["html"].write_text(html, encoding="utf-8")
    return paths
