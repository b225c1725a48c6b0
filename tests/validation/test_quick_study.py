"""`benchmarks/validation_study.py --quick` end to end on tiny real data (embedded model: slow).

Run twice with one seed: the first run computes everything into an empty cache, the second reads
the cached features and states, and both must write identical tables.
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"


def _script():
    """The script as a module; like `python benchmarks/validation_study.py`, its folder is on sys.path (shared_data)."""
    if str(ROOT / "benchmarks") not in sys.path:
        sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location("validation_study", ROOT / "benchmarks" / "validation_study.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _numbers(node):
    """Every correlation value or bound anywhere below `node`."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("value", "low", "high") and value is not None:
                yield value
            else:
                yield from _numbers(value)
    elif isinstance(node, list):
        for value in node:
            yield from _numbers(value)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    if not (SHARED / "davidson_hate_offensive.csv.gz").exists():
        pytest.skip(f"shared data not found at {SHARED}")
    cache = tmp_path_factory.mktemp("validation-cache")
    patch = pytest.MonkeyPatch()
    patch.setattr("fac_datasets.validation.store.cache_dir", lambda: cache)
    script = _script()
    outs = [tmp_path_factory.mktemp(f"run{i}") for i in range(2)]
    try:
        for out in outs:
            assert script.main(["--quick", "--seed", "0", "--threads", "1", "--out", str(out)]) == 0
    finally:
        patch.undo()
    return [json.loads((out / "validation.json").read_text()) for out in outs], outs


def test_quick_study_writes_json_markdown_and_plot(runs):
    (result, _), (out, _) = runs[0], runs[1]
    assert (out / "validation.png").stat().st_size > 10_000
    markdown = (out / "validation.md").read_text()
    for heading in ("### toxicity", "### reward_modeling", "Held out", "### Defaults"):
        assert heading in markdown
    assert set(result["tasks"]) == {"toxicity", "reward_modeling"}
    for section in result["tasks"].values():
        assert section["n_subsets"] == 15 and len(section["subsets"]) == 15
        kinds = {m["kind"] for m in section["metrics"]}
        assert kinds == {"fac", "baseline", "reference"}
        assert sum(m["kind"] == "fac" for m in section["metrics"]) == 36
        assert set(section["correlations"]) == {m["name"] for m in section["metrics"]}
        assert len(section["heldout"]["folds"]) == 3
        fold = section["heldout"]["folds"][0]
        assert fold["n_heldout_subsets"] == 5 and fold["selected_fac"].startswith("fac:")
        assert len(section["comparison"]) == 3
        assert all(len(s["score_seeds"]) == 3 for s in section["subsets"])
    assert result["defaults"]["selected"].startswith("fac:")
    assert isinstance(result["defaults"]["change_supported"], bool)


def test_quick_study_values_are_finite_correlations(runs):
    result = runs[0][0]
    values = list(_numbers(result["tasks"])) + list(_numbers(result["defaults"]))
    assert len(values) > 500
    assert all(math.isfinite(v) and -1.0 <= v <= 1.0 for v in values)
    baselines = result["tasks"]["toxicity"]["correlations"]["distinct_2"]
    assert all(baselines[s]["value"] is not None for s in ("pearson", "spearman", "partial"))


def test_same_seed_gives_equal_tables(runs):
    (first, second), (out1, out2) = runs
    assert (out1 / "validation.md").read_text() == (out2 / "validation.md").read_text()
    first.pop("timings"), second.pop("timings")
    assert first == second
