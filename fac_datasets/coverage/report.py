"""coverage.json, a PNG plot and a self-contained coverage.html people can look at."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np

from fac_datasets.constants import (
    ANCHOR_COUNTS_FILENAME,
    COVERAGE_HTML,
    COVERAGE_JSON,
    COVERAGE_PNG,
    ENRICHMENT_FILENAME,
)
from fac_datasets.coverage.compute import CoverageReport
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.templating import render_template


def coverage_figure(report: CoverageReport, anchor: FeatureCounts):
    """Left: relevant features by anchor support, covered vs missing. Right: rarefaction."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    covered_support = anchor.doc_freq[np.asarray(report.covered, dtype=np.int64)]
    missing_support = np.asarray([m.anchor_support for m in report.missing], dtype=np.int64)
    top = max(
        int(covered_support.max()) if covered_support.size else 1,
        int(missing_support.max()) if missing_support.size else 1,
    )
    bins = np.unique(np.geomspace(1, top + 1, num=25).astype(int))
    left.hist(
        [covered_support, missing_support],
        bins=bins,
        stacked=True,
        label=[f"covered ({report.n_covered})", f"missing ({len(report.missing)})"],
        color=["#2b8a3e", "#e03131"],
    )
    left.set_xscale("log")
    left.set_xlabel("anchor support (samples in which the feature is active)")
    left.set_ylabel("relevant features")
    left.set_title(f"FAC = {report.fac:.3f} ({report.n_covered}/{report.n_relevant})")
    left.legend()
    if report.rarefaction:
        n = [p["n"] for p in report.rarefaction]
        mean = np.array([p["fac_mean"] for p in report.rarefaction])
        std = np.array([p["fac_std"] for p in report.rarefaction])
        right.plot(n, mean, marker="o", color="#1c7ed6")
        right.fill_between(n, mean - std, mean + std, alpha=0.2, color="#1c7ed6")
        right.set_ylim(0, 1.02)
    else:
        right.text(
            0.5, 0.5, "no rarefaction (current given as counts)", ha="center", va="center", transform=right.transAxes
        )
    right.set_xlabel("current samples (random subsets)")
    right.set_ylabel("FAC")
    right.set_title("Rarefaction: does coverage saturate?")
    fig.tight_layout()
    return fig


def _png_bytes(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def render_html(report: CoverageReport, png: bytes, top_missing: int = 50) -> str:
    """The self-contained coverage.html (the plot is inlined)."""

    def tokens(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1f}"

    facts = [
        ("FAC", f"{report.fac:.4f}"),
        ("covered / relevant", f"{report.n_covered} / {report.n_relevant}"),
        ("relevant features", report.relevance),
        ("anchor samples", report.n_anchor),
        ("current samples", report.n_current),
        (
            "tokens per text (anchor / current)",
            f"{tokens(report.anchor_mean_tokens)} / {tokens(report.current_mean_tokens)}",
        ),
        ("thresholds", ", ".join(f"{k}={v}" for k, v in report.thresholds.items())),
        ("provenance", ", ".join(f"{k}={v}" for k, v in report.provenance.items())),
    ]
    return render_template(
        "fac_datasets.coverage",
        "templates/coverage.html.j2",
        report=report,
        facts=facts,
        missing=report.missing[:top_missing],
        png_base64=base64.b64encode(png).decode(),
    )


def write_coverage_report(
    report: CoverageReport, anchor: FeatureCounts | None = None, out_dir: str | Path = "."
) -> dict[str, Path]:
    """Write coverage.json, coverage.png, coverage.html, the anchor counts (reusable as an anchor) and,
    when enrichment chose the features, enrichment.json into `out_dir`. `anchor`: default the report's."""
    import matplotlib.pyplot as plt

    anchor = anchor if anchor is not None else report.anchor_counts
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / COVERAGE_JSON, "png": out / COVERAGE_PNG, "html": out / COVERAGE_HTML}
    paths["json"].write_text(json.dumps(report.to_dict(), indent=2))
    fig = coverage_figure(report, anchor)
    png = _png_bytes(fig)
    plt.close(fig)
    paths["png"].write_bytes(png)
    paths["html"].write_text(render_html(report, png), encoding="utf-8")
    paths["anchor_counts"] = anchor.save(out / ANCHOR_COUNTS_FILENAME)
    if report.enrichment is not None:
        paths["enrichment"] = out / ENRICHMENT_FILENAME
        paths["enrichment"].write_text(json.dumps(report.enrichment))
    return paths


def neg_mmd_text(value: float) -> str:
    """-MMD^2 with its true sign: the unbiased MMD^2 dips below 0 when the sets match, so -MMD^2 can be > 0."""
    return f"{value:+.4f}"


def summary_line(report: CoverageReport) -> str:
    """The one line `fac coverage` prints: FAC and every variant computed."""
    variants = report.variants
    line = f"FAC {report.fac:.4f} ({report.n_covered}/{report.n_relevant} relevant features covered)"
    line += f"; soft FAC {variants['soft_fac']:.4f} (s={variants['soft_support']})"
    if variants.get("token_budget"):
        budget = variants["token_budget"]
        line += f"; at {budget['tokens']} tokens: FAC {budget['fac_mean']:.4f}, soft {budget['soft_fac_mean']:.4f}"
    if variants.get("neg_mmd") is not None:
        line += f"; -MMD^2 to anchor {neg_mmd_text(variants['neg_mmd'])} (higher = closer; see the report)"
    return line
