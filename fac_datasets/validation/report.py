"""validation.json (everything), validation.md (the tables people read) and validation.png (the plots).

The Markdown holds no wall times, so two runs with one seed give byte-identical tables; times are
in the JSON under `timings`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from fac_datasets.constants import VALIDATION_JSON, VALIDATION_MARKDOWN, VALIDATION_PNG
from fac_datasets.validation.metrics import DEFAULT_VARIANT, NEG_MMD, TOKENS

FAMILY_COLORS = {
    "random": "#495057",
    "clustered": "#1c7ed6",
    "topic-restricted": "#7048e8",
    "near-duplicated": "#e03131",
    "length": "#f08c00",
    "max-diversity": "#2b8a3e",
    "class-mix": "#c2255c",
}


def _r(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def fmt(corr: dict | None) -> str:
    """'+0.41 [+0.12, +0.63]', or 'n/a' when undefined (a constant metric)."""
    if not corr or corr["value"] is None:
        return "n/a"
    if corr["low"] is None:
        return _r(corr["value"])
    return f"{_r(corr['value'])} [{_r(corr['low'])}, {_r(corr['high'])}]"


def _main_metrics(section: dict) -> list[str]:
    selected = [f["selected_fac"] for f in section["heldout"]["folds"] if f["selected_fac"]]
    baselines = [m["name"] for m in section["metrics"] if m["kind"] == "baseline"]
    return [*baselines, NEG_MMD, TOKENS, *dict.fromkeys([DEFAULT_VARIANT, *selected])]


def _label(metric: str, section: dict) -> str:
    tags = []
    if metric == DEFAULT_VARIANT:
        tags.append("today's default")
    for fold in section["heldout"]["folds"]:
        if metric == fold["selected_fac"]:
            tags.append(f"chosen on fold {fold['fold']}'s training recipes")
    return f"`{metric}`" + (f" ({'; '.join(tags)})" if tags else "")


def task_markdown(name: str, section: dict, config: dict) -> list[str]:
    s = section["score_summary"]
    stat = section["heldout"]["statistic"]
    distinct = {m["name"]: m["distinct_values"] for m in section["metrics"]}
    lines = [
        f"### {name}: {section['metric_label']}",
        "",
        f"{section['n_subsets']} subsets of {section['subset_size']} ({len(section['recipes'])} recipes x "
        f"{config['subset_seeds']} seeds), {config['train_seeds']} training seeds each; score range "
        f"{s['min']:.3f}-{s['max']:.3f} (mean {s['mean']:.3f}, largest spread over training seeds "
        f"{s['max_seed_spread']:.1e}). Token budget of the budget variants: {section['token_budget']} content tokens. "
        "Relevant features: " + "; ".join(f"{k} {v['n_features']}" for k, v in section["relevance"].items()) + ".",
        "",
        "| metric | Pearson r [95% CI] | Spearman [95% CI] | partial r given tokens/text [95% CI] | distinct values |",
        "|---|---|---|---|---:|",
    ]
    for metric in _main_metrics(section):
        c = section["correlations"][metric]
        partial = "(the covariate)" if metric == TOKENS else fmt(c["partial"])
        cells = [_label(metric, section), fmt(c["pearson"]), fmt(c["spearman"]), partial, str(distinct[metric])]
        lines.append(f"| {' | '.join(cells)} |")
    lines += [
        "",
        f"Held out (whole recipes; the FAC variant and the 'chosen baseline' are picked by {stat} on the other "
        "recipes):",
        "",
        f"| fold | held-out recipes | chosen FAC variant (train {stat}) | its held-out {stat} [CI] | default FAC | "
        f"chosen baseline | its held-out {stat} | -MMD held out | "
        "FAC beats: default / every baseline / chosen baseline / -MMD |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for fold, cmp in zip(section["heldout"]["folds"], section["comparison"], strict=True):
        held = fold["heldout"]
        fac, base = fold["selected_fac"], fold["selected_baseline"]
        verdict = " / ".join(
            "yes" if cmp[k] else "no"
            for k in ("beats_default", "beats_every_baseline", "beats_selected_baseline", "beats_neg_mmd")
        )
        lines.append(
            f"| {fold['fold']} | {', '.join(fold['heldout_recipes'])} | `{fac}` ({_r(fold['selected_fac_train'])}) | "
            f"{fmt(held.get(fac, {}).get(stat))} | {fmt(held[DEFAULT_VARIANT][stat])} | {base} | "
            f"{fmt(held.get(base, {}).get(stat))} | {fmt(held[NEG_MMD][stat])} | {verdict} |"
        )
    lines += ["", *[f"Note: {n}" for n in section["notes"]], ""] if section["notes"] else [""]
    return lines


def variants_markdown(name: str, section: dict) -> list[str]:
    """Every FAC variant on all subsets (no CIs): the whole grid, for transparency."""
    lines = [
        f"All FAC variants, {name} (all subsets; r / Spearman / partial r):",
        "",
        "| variant | Pearson | Spearman | partial | distinct values |",
        "|---|---:|---:|---:|---:|",
    ]
    for m in section["metrics"]:
        if m["kind"] != "fac":
            continue
        c = section["correlations"][m["name"]]
        lines.append(
            f"| `{m['name']}` | {_r(c['pearson']['value'])} | {_r(c['spearman']['value'])} | "
            f"{_r(c['partial']['value'])} | {m['distinct_values']} |"
        )
    return [*lines, ""]


def defaults_markdown(defaults: dict) -> list[str]:
    stat = defaults["statistic"]
    lines = [
        "### Defaults (one variant for all tasks)",
        "",
        f"Chosen by mean {stat} over the tasks' training recipes (fold 0): `{defaults['selected']}` "
        f"(mean {_r(defaults['selected_train_mean'])}). Rule: {defaults['rule']}.",
        "",
        f"| task | chosen: held-out {stat} [CI] | default `{defaults['default']}`: held-out {stat} [CI] |",
        "|---|---|---|",
    ]
    for task, held in defaults["heldout"].items():
        chosen = held.get(defaults["selected"], {}).get(stat)
        lines.append(f"| {task} | {fmt(chosen)} | {fmt(held[defaults['default']][stat])} |")
    verdict = "supported" if defaults["change_supported"] else "not supported"
    return [*lines, "", f"A change of defaults is **{verdict}** by the held-out recipes.", ""]


def to_markdown(result: dict) -> str:
    config = result["config"]
    lines = [
        "## Validation study",
        "",
        f"seed {config['seed']}; {config['bootstrap']} bootstrap resamples; held-out fraction "
        f"{config['holdout_fraction']:.2f} of the recipes; selection statistic: {config['select_by']}.",
        "",
    ]
    for name, section in result["tasks"].items():
        lines += task_markdown(name, section, config)
    lines += defaults_markdown(result["defaults"])
    for name, section in result["tasks"].items():
        lines += variants_markdown(name, section)
    return "\n".join(lines)


def figure(result: dict):
    """Per task: Pearson and partial r with CIs per metric; downstream score vs the chosen FAC variant and -MMD."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(result["tasks"].items())
    fig, axes = plt.subplots(len(tasks), 3, figsize=(17, 5.2 * len(tasks)), squeeze=False)
    for row, (name, section) in enumerate(tasks):
        metrics = _main_metrics(section)
        ax = axes[row][0]
        ypos = np.arange(len(metrics))
        for offset, stat, color in ((-0.15, "pearson", "#1c7ed6"), (0.15, "partial", "#e8590c")):
            for i, m in enumerate(metrics):
                c = section["correlations"][m][stat]
                if c["value"] is None:
                    continue
                low = c["low"] if c["low"] is not None else c["value"]
                high = c["high"] if c["high"] is not None else c["value"]
                ax.plot([low, high], [i + offset] * 2, color=color, lw=1.5)
                ax.plot(c["value"], i + offset, "o", color=color, label=stat if i == 0 else None)
        ax.axvline(0, color="#adb5bd", lw=1)
        ax.set_yticks(ypos, [m.replace("fac:", "FAC ") for m in metrics], fontsize=7)
        ax.set_xlim(-1, 1)
        ax.set_xlabel(f"correlation with {section['metric']} (95% bootstrap CI)")
        ax.set_title(f"{name}: {len(section['subsets'])} subsets")
        ax.legend(loc="lower right", fontsize=8)
        chosen = section["heldout"]["folds"][0]["selected_fac"] or DEFAULT_VARIANT
        heldout = set(section["heldout"]["folds"][0]["heldout_recipes"])
        for col, metric in ((1, chosen), (2, NEG_MMD)):
            ax = axes[row][col]
            for family, color in FAMILY_COLORS.items():
                for held in (False, True):
                    points = [
                        (s["metrics"][metric], s["score"])
                        for s in section["subsets"]
                        if s["family"] == family
                        and (s["recipe"] in heldout) == held
                        and s["metrics"][metric] is not None
                    ]
                    if points:
                        x, y = zip(*points, strict=True)
                        ax.scatter(
                            x,
                            y,
                            s=28,
                            facecolors="none" if held else color,
                            edgecolors=color,
                            label=f"{family}{' (held out)' if held else ''}",
                        )
            ax.set_xlabel(metric)
            ax.set_ylabel(section["metric"])
            title = "chosen FAC variant (fold 0)" if col == 1 else "distribution match: -MMD to the anchor"
            ax.set_title(title, fontsize=9)
        axes[row][1].legend(fontsize=6, loc="best")
    fig.tight_layout()
    return fig


def write_report(result: dict, out: Path) -> dict[str, Path]:
    """Write the three files into `out` (created if missing)."""
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / VALIDATION_JSON, "markdown": out / VALIDATION_MARKDOWN, "png": out / VALIDATION_PNG}
    paths["json"].write_text(json.dumps(result, indent=1))
    paths["markdown"].write_text(to_markdown(result), encoding="utf-8")
    fig = figure(result)
    fig.savefig(paths["png"], dpi=100)
    plt.close(fig)
    return paths
