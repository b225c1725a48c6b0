"""One FAC: `fac coverage`, `coverage.measure` and `evaluate.load("fac")` give the same numbers for the same
inputs and options (contrast-set relevance, a token budget, -MMD), to the last digit."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import GENERAL, SEA_POEMS

ANCHOR = [
    *SEA_POEMS,
    "Write a poem about a storm at sea.",
]
CURRENT = ["Write a poem about the sea.", "The committee met on Tuesday.", "Write a song about rain."]
OPTIONS = {"min_z": 0.0, "min_support": 2, "token_budget": 12, "budget_seeds": 2, "soft_support": 2, "mmd": True}


def _jsonl(path, texts):
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    return str(path)


@pytest.mark.slow  # -MMD embeds with MiniLM
def test_cli_python_and_evaluate_give_the_same_fac(fac, tmp_path, tiny_model_dir, tiny_sae_dir):
    from fac_datasets.config import CoverageConfig, ExtractorConfig, RelevanceConfig
    from fac_datasets.coverage.measure import measure

    setup = {"model": str(tiny_model_dir), "sae": str(tiny_sae_dir)}
    python = measure(
        CURRENT,
        ANCHOR,
        relevance=RelevanceConfig(min_z=0, min_support=2),
        config=CoverageConfig(token_budget=12, budget_seeds=2, soft_support=2, mmd=True),
        contrast=GENERAL,
        features=ExtractorConfig(**setup),
    )

    anchor, current = _jsonl(tmp_path / "anchor.jsonl", ANCHOR), _jsonl(tmp_path / "current.jsonl", CURRENT)
    contrast = _jsonl(tmp_path / "contrast.jsonl", GENERAL)
    command = ["coverage", "--anchor", anchor, "--current", current]
    command += ["--contrast", contrast, "--min-z", "0", "--enrichment-min-support", "2", "--token-budget", "12"]
    command += ["--budget-seeds", "2", "--soft-support", "2", "--mmd", "--out", tmp_path / "report", "--json"]
    command += ["--model", setup["model"], "--sae", setup["sae"]]
    cli = fac(*command, process=True)  # a fresh interpreter: nothing shared with the Python call above
    assert cli.exit_code == 0, cli.stderr[-3000:]
    cli_report = json.loads(cli.stdout)

    script = (
        "import json, evaluate, fac_datasets\n"
        f"result = evaluate.load('fac').compute(data={CURRENT!r}, references={ANCHOR!r}, contrast={GENERAL!r}, "
        f"model={setup['model']!r}, sae={setup['sae']!r}, **{OPTIONS!r})\n"
        "print(json.dumps(result))\n"
    )
    env = {**os.environ, "HF_MODULES_CACHE": str(tmp_path / "modules"), "HF_EVALUATE_OFFLINE": "1"}
    scratch = tmp_path / "cwd"
    scratch.mkdir()
    module = subprocess.run([sys.executable, "-c", script], cwd=scratch, env=env, capture_output=True, text=True,
                            timeout=600)  # fmt: skip
    assert module.returncode == 0, module.stderr[-3000:]
    metric = json.loads(module.stdout.strip().splitlines()[-1])

    budget = python.variants["token_budget"]
    assert python.n_relevant > 0 and "enriched vs contrast set" in python.relevance
    assert python.fac == cli_report["fac"] == metric["fac"]
    assert python.missing_ids == [m["feature"] for m in cli_report["missing"]] == metric["missing"]
    assert python.variants["soft_fac"] == cli_report["variants"]["soft_fac"] == metric["soft_fac"]
    assert budget["fac_mean"] == cli_report["variants"]["token_budget"]["fac_mean"] == metric["fac_at_budget"]
    assert python.variants["neg_mmd"] == cli_report["variants"]["neg_mmd"] == metric["neg_mmd"]
    assert python.enrichment["features"] == cli_report["enrichment"]["features"]
