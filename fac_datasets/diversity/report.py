"""Side-by-side diversity table of several datasets: JSON, Markdown and a PNG plot."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fac_datasets.constants import DIVERSITY_JSON, DIVERSITY_MARKDOWN, DIVERSITY_PNG
from fac_datasets.diversity.registry import Corpus, MetricSpec
from fac_datasets.errors import FacError
from fac_datasets.templating import render_template


@dataclass
class DatasetRow:
    name: str
    source: str | None
    column: str | None
    n_texts: int
    tokens_per_text: float  # mean "word" tokens: diversity figures travel with length
    values: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # metric -> why it has no value
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class DiversityReport:
    metrics: list[str]
    columns: list[str]
    rows: list[DatasetRow]
    definitions: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_markdown(self) -> str:
        header = ["dataset", "texts", "tokens/text", *self.columns]
        table = [
            [row.name, str(row.n_texts), f"{row.tokens_per_text:.1f}", *(_fmt(row.values.get(c)) for c in self.columns)]
            for row in self.rows
        ]
        errors = [f"{row.name} / {m}: {e}" for row in self.rows for m, e in row.errors.items()]
        return render_template(
            "fac_datasets.diversity",
            "templates/diversity.md.j2",
            header=header,
            table=table,
            definitions=self.definitions,
            errors=errors,
        )

    def plot(self, path: Path) -> None:
        """One small panel per column (scales differ), one bar per dataset."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        cols = self.columns
        ncols = min(4, len(cols)) or 1
        nrows = (len(cols) + ncols - 1) // ncols or 1
        fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.6 * nrows + 0.6), squeeze=False)
        names = [f"{r.name} (n={r.n_texts}, {r.tokens_per_text:.0f} tokens/text)" for r in self.rows]
        colors = [plt.get_cmap("tab10")(i % 10) for i in range(len(names))]
        for ax, col in zip(axes.flat, cols, strict=False):  # the grid may have spare cells
            values = [r.values.get(col, float("nan")) for r in self.rows]
            ax.bar(range(len(names)), values, color=colors)
            ax.set_title(col, fontsize=10)
            ax.set_xticks([])
            for x, v in enumerate(values):
                if v == v:  # not NaN
                    ax.text(x, v, _fmt(v), ha="center", va="bottom", fontsize=7)
        for ax in list(axes.flat)[len(cols) :]:
            ax.axis("off")
        handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colors]
        fig.legend(handles, names, loc="lower center", ncol=min(2, len(names)), fontsize=8, frameon=False)
        fig.suptitle("Baseline diversity metrics (higher = more diverse)", fontsize=11)
        fig.tight_layout(rect=(0, 0.04 + 0.03 * ((len(names) - 1) // 2), 1, 1))
        fig.savefig(path, dpi=110)
        plt.close(fig)

    def write(self, out_dir: Path) -> dict[str, Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = {
            "json": out_dir / DIVERSITY_JSON,
            "markdown": out_dir / DIVERSITY_MARKDOWN,
            "plot": out_dir / DIVERSITY_PNG,
        }
        paths["json"].write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        paths["markdown"].write_text(self.to_markdown(), encoding="utf-8")
        self.plot(paths["plot"])
        return paths


def _fmt(value: float | None) -> str:
    if value is None or value != value:
        return "n/a"
    if float(value).is_integer() and abs(value) >= 1:
        return str(int(value))
    return f"{value:.4g}"


def build_report(
    corpora: list[Corpus], specs: list[MetricSpec], columns: dict[str, str | None] | None = None
) -> DiversityReport:
    """Run every metric on every corpus; a metric that cannot run on one is recorded, not fatal."""
    rows = []
    for corpus in corpora:
        tokens = corpus.word_tokens
        row = DatasetRow(
            corpus.name,
            corpus.source,
            (columns or {}).get(corpus.name),
            len(corpus.texts),
            sum(map(len, tokens)) / max(1, len(tokens)),
        )
        for spec in specs:
            start = time.perf_counter()
            try:
                row.values.update(spec.compute(corpus))
            except FacError as exc:
                row.errors[spec.name] = str(exc)
            row.seconds[spec.name] = round(time.perf_counter() - start, 3)
        rows.append(row)
    cols: list[str] = []
    for spec in specs:
        for col in spec.columns or sorted({c for r in rows for c in r.values} - set(cols)):
            if col not in cols:
                cols.append(col)
    return DiversityReport([s.name for s in specs], cols, rows, {s.name: s.description for s in specs})
