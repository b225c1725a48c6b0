"""FAC on real public data from ../shared/data with the embedded default (slow)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
ALPACA = SHARED / "alpaca_eval_805.jsonl"


@pytest.fixture(scope="module")
def alpaca_files(tmp_path_factory):
    if not ALPACA.is_file():
        pytest.skip(f"shared data not found at {ALPACA} (CI provides ../shared/data)")
    rows = [json.loads(line) for line in ALPACA.read_text().splitlines()]
    subset = random.Random(0).sample(rows, k=len(rows) // 20)  # a 5% subset
    folder = tmp_path_factory.mktemp("alpaca")
    (folder / "subset.jsonl").write_text("".join(json.dumps(r) + "\n" for r in subset))
    return ALPACA, folder / "subset.jsonl"


def test_fac_coverage_on_alpaca_instructions(fac, alpaca_files, tmp_path):
    anchor, current = alpaca_files
    out = tmp_path / "report"
    result = fac(
        "coverage", "--anchor", anchor, "--current", current, "--text-column", "instruction", "--out", out, "--json"
    )
    assert result.exit_code == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert 0 < report["fac"] < 1
    assert report["n_anchor"] == 805 and report["n_current"] == 40
    assert report["current_mean_tokens"] > 5 and report["anchor_mean_tokens"] > 5
    fractions = [p["fac_mean"] for p in report["rarefaction"]]
    assert fractions == sorted(fractions), "coverage of larger random subsets should not fall"
    assert (out / "coverage.html").stat().st_size > 10_000
