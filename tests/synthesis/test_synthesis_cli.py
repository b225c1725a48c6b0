"""`fac synthesize` end to end on the tiny setup: files in, dataset and reports out, a resumed rerun asks nothing."""

# ruff: noqa: F811 - the planted-setup fixtures are imported from synth_setup by name

from __future__ import annotations

import json

from synth_setup import ANCHOR, CURRENT, MAX_LENGTH, ScriptedModel, planted, planted_catalog, planted_extractor  # noqa: F401


def test_fac_synthesize_end_to_end_and_resume(fac, tmp_path, monkeypatch, chat_server, planted, planted_catalog):
    monkeypatch.setenv("FAC_DATASETS_CACHE", str(tmp_path / "cache"))
    chat_server.reply_text = ScriptedModel(fires=lambda word, step, attempt: step == 2 or attempt == 1)
    for name, texts in (("anchor", ANCHOR), ("current", CURRENT)):
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    planted_catalog.save(tmp_path / "catalog")
    out = tmp_path / "out"
    args = ["synthesize", "--anchor", str(tmp_path / "anchor.jsonl"), "--current", str(tmp_path / "current.jsonl")]
    args += ["--task", "toxicity", "--catalog", str(tmp_path / "catalog"), "--out", str(out)]
    args += ["--generator", f"openai:scripted@{chat_server.base_url}", "--model", str(planted.model_dir)]
    args += ["--sae", str(planted.sae_dir), "--max-length", str(MAX_LENGTH), "--candidates", "3", "--budget", "30"]

    result = fac(*args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index("{") :])
    assert (summary["fac_before"], summary["fac_after"], summary["accepted"]) == (0.0, 1.0, 6)
    assert summary["calls"]["total"] == 12 and summary["calls"]["budget"] == 30
    for name in ("dataset", "samples.jsonl", "report.json", "report.html", "state.json"):
        assert (out / name).exists(), name

    again = fac(*args)
    assert again.exit_code == 2 and "already holds a synthesis run" in again.output
    requests = len(chat_server.requests)
    resumed = fac(*args, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert len(chat_server.requests) == requests  # every feature finished: nothing is asked again
    assert json.loads(resumed.output[resumed.output.index("{") :])["accepted"] == 6

    bad = fac(*args[:-4], "--task", "poems")
    assert bad.exit_code == 2 and "Unknown synthesis task 'poems'" in bad.output


def test_fac_synthesize_help_takes_defaults_from_the_config(fac):
    result = fac("synthesize", "--help", env={"COLUMNS": "300"})
    flat = " ".join(result.output.replace("│", " ").split())
    assert "Accepted samples that must fire a feature before it counts as filled" in flat
    assert "--target-fac" in flat and "--resume" in flat


def test_fac_synthesize_takes_a_contrast_set(fac, tmp_path, monkeypatch, chat_server, planted):
    """Issue 17: `synthesize --task` had no --contrast, so task relevance was always enrichment vs general text."""
    monkeypatch.setenv("FAC_DATASETS_CACHE", str(tmp_path / "cache"))
    chat_server.reply_text = ScriptedModel(fires=lambda word, step, attempt: step == 2 or attempt == 1)
    for name, texts in (("anchor", ANCHOR), ("current", CURRENT)):
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    out = tmp_path / "out"
    args = ["synthesize", "--anchor", str(tmp_path / "anchor.jsonl"), "--current", str(tmp_path / "current.jsonl")]
    args += ["--task", "toxicity", "--contrast", str(tmp_path / "current.jsonl"), "--out", str(out)]
    args += ["--min-z", "0", "--enrichment-min-support", "2", "--budget", "3", "--candidates", "3"]
    args += ["--generator", f"openai:scripted@{chat_server.base_url}", "--model", str(planted.model_dir)]
    args += ["--sae", str(planted.sae_dir), "--max-length", str(MAX_LENGTH)]
    result = fac(*args)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert "enriched vs contrast set current" in report["relevance"]
    assert not any("against general text" in note for note in report["notes"])
    from fac_datasets.catalog.catalog import FeatureCatalog
    from fac_datasets.relevance.rule import catalog_relevant

    relevant = catalog_relevant(FeatureCatalog.load(out / "catalog"), "toxicity")  # enrichment recorded in it
    assert planted.ids["sea"] in relevant and planted.ids["shore"] in relevant
    assert report["fac_before"]["n_missing"] > 0
