"""The `fac` evaluate module (by path and by bare name) and `fac coverage`, on the tiny model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import TEXTS

REPO = Path(__file__).resolve().parents[2]


def test_fac_module_by_path(tiny_model_dir, tiny_sae_dir):
    import evaluate

    fac = evaluate.load(str(REPO / "metrics" / "fac"))
    common = {"model": str(tiny_model_dir), "sae": str(tiny_sae_dir), "anchor_min_support": 1}
    same = fac.compute(data=TEXTS, references=TEXTS, **common)
    assert same["fac"] == 1.0 and same["missing"] == []
    part = fac.compute(data=TEXTS[:1], references=TEXTS, **common)
    assert 0 < part["fac"] < 1
    assert part["n_covered"] + len(part["missing"]) == part["n_relevant"]
    assert part["current_mean_tokens"] > 0


def test_fac_module_bad_inputs_are_clear_errors_before_any_model_load(tiny_model_dir, tiny_sae_dir):
    """evaluate's own batching used to turn these into a bare IndexError / KeyError."""
    import evaluate

    from fac_datasets.errors import FacConfigError, FacInputError

    fac = evaluate.load(str(REPO / "metrics" / "fac"))
    with pytest.raises(FacInputError, match=r"data \(the current texts\): Got 0 texts: at least one text needed"):
        fac.compute(data=[], references=TEXTS)
    with pytest.raises(FacInputError, match=r"data \(the current texts\): Row 0 is None"):
        fac.compute(data=[None], references=TEXTS)
    with pytest.raises(FacInputError, match=r"references \(the anchor texts\): Row 1 is a int"):
        fac.compute(data=TEXTS, references=["ok", 3])
    with pytest.raises(FacConfigError, match=r"unknown option\(s\) \['modle'\]; known: .*'model'"):
        fac.compute(data=TEXTS, references=TEXTS, modle="default")
    with pytest.raises(FacConfigError, match="CoverageConfig.anchor_min_support"):
        fac.compute(
            data=TEXTS, references=TEXTS, model=str(tiny_model_dir), sae=str(tiny_sae_dir), anchor_min_support=0
        )


@pytest.mark.parametrize("offline", ["1", None])
def test_fac_module_by_bare_name_from_any_directory(tmp_path, tiny_model_dir, tiny_sae_dir, offline):
    script = (
        "import json, evaluate, fac_datasets\n"
        "fac = evaluate.load('fac')\n"
        f"print(json.dumps(fac.compute(data=['Write a poem.'], references={TEXTS!r}, model={str(tiny_model_dir)!r}, "
        f"sae={str(tiny_sae_dir)!r}, anchor_min_support=1)))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "HF_EVALUATE_OFFLINE"}
    env["HF_MODULES_CACHE"] = str(tmp_path / "modules")
    if offline:
        env["HF_EVALUATE_OFFLINE"] = offline
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert 0 < json.loads(result.stdout.strip().splitlines()[-1])["fac"] < 1


def write_jsonl(path: Path, texts: list, key: str = "text") -> Path:
    path.write_text("".join(json.dumps({key: t}) + "\n" for t in texts))
    return path


def test_fac_coverage_cli_writes_json_png_html(fac, tmp_path, tiny):
    anchor = write_jsonl(tmp_path / "anchor.jsonl", TEXTS, "prompt")
    current = write_jsonl(tmp_path / "current.jsonl", TEXTS[:2], "prompt")
    out = tmp_path / "report"
    result = fac(
        "coverage", "--anchor", anchor, "--current", current, "--out", out, *tiny.args,
        "--anchor-min-support", "1", "--task", "instruction_following", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert 0 < report["fac"] < 1
    assert report["provenance"]["task"] == "instruction_following" and report["provenance"]["sae"]
    assert "no feature catalog" in report["notes"][-1]
    assert report["rarefaction"][-1]["n"] == 2
    assert report["missing"] == sorted(report["missing"], key=lambda m: (-m["anchor_support"], m["feature"]))
    html = (out / "coverage.html").read_text()
    assert "data:image/png;base64," in html and f"{report['fac']:.3f}" in html
    assert (out / "coverage.png").read_bytes()[:4] == b"\x89PNG"
    # the saved anchor counts are reusable as --anchor
    again = fac(
        "coverage", "--anchor", out / "anchor_counts.json", "--current", current, "--out", tmp_path / "again",
        *tiny.args, "--anchor-min-support", "1", "--json",
    )  # fmt: skip
    assert again.exit_code == 0, again.stderr[-3000:]
    assert json.loads(again.stdout)["fac"] == report["fac"]


def test_fac_coverage_cli_bad_column_is_one_clear_line(fac, tmp_path, tiny):
    anchor = write_jsonl(tmp_path / "anchor.jsonl", TEXTS, "prompt")
    command = ["coverage", "--anchor", anchor, "--current", anchor, "--out", tmp_path / "o", *tiny.args]
    result = fac(*command, "--text-column", "body")
    assert result.exit_code == 2
    assert "no column 'body'; columns are ['prompt']" in result.stderr and "Traceback" not in result.stderr
