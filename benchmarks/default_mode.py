"""Default-mode annotation throughput now against the code before issue 10, side by side in one run.

    .venv/bin/python benchmarks/default_mode.py [--baseline 940bf08] [--rounds 2] [--repeats 2]

The baseline package is taken from git (`git archive BASELINE fac_datasets`) into a temp dir and
imported from there (PYTHONPATH shadows the editable install). Each round runs one worker process
per version, alternating, so both see the same machine load; the figure is the median over rounds
of each worker's median over repeats. A worker annotates with every default of its version
(`FeatureAnnotator(max_length=129)` through `Dataset.map`, whose batch size and dtype are the
version's defaults) two sets of texts from ../shared/data:
  long   64 AlpacaEval outputs of more than 60 words, cut to 129 tokens (the backbone benchmark's)
  short  all 805 AlpacaEval instructions (~30 content tokens each)
and, for the current version, the same short texts through `annotate_dataset` (what
`fac annotate-dataset` runs, with its default 1024-row batches).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from shared_data import ALPACA_EVAL

REPO = Path(__file__).resolve().parents[1]

WORKER = r"""
import json, os, statistics, sys, tempfile, time
from pathlib import Path
import datasets, torch
torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
import fac_datasets
from fac_datasets.features.annotator import FeatureAnnotator
repeats, shared = int(sys.argv[1]), Path(sys.argv[2])
rows = [json.loads(line) for line in shared.read_text().splitlines()]
sets = {
    "long": [r["output"] for r in rows if len(r["output"].split()) > 60][:64],
    "short": [r["instruction"] for r in rows],
}
annotator = FeatureAnnotator(max_length=129)
extractor = annotator.extractor
result = {"package": fac_datasets.__file__, "dtype": str(extractor.backbone.dtype), "tokens_per_second": {}}

def timed(fn):
    fn()
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        n_tokens = fn()
        runs.append(time.perf_counter() - start)
    return n_tokens / statistics.median(runs)

for name, texts in sets.items():
    ds = datasets.Dataset.from_dict({"text": texts})
    result["tokens_per_second"][name] = timed(
        lambda ds=ds: sum(annotator.annotate(ds, load_from_cache_file=False)["fac_n_tokens"])
    )
try:
    from fac_datasets.features.streaming import RowSource, annotate_dataset
except ImportError:
    pass
else:
    ds = datasets.Dataset.from_dict({"text": sets["short"]})

    def streamed():
        with tempfile.TemporaryDirectory() as tmp:
            from fac_datasets.config import StreamingConfig
            config = StreamingConfig(counts_only=True)
            run = annotate_dataset(RowSource(ds, "text"), tmp, annotator, config, progress=False)
            return run.counts.n_tokens

    result["tokens_per_second"]["short (annotate-dataset)"] = timed(streamed)
print("RESULT " + json.dumps(result))
"""


def run_worker(pythonpath: str | None, repeats: int, threads: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(OMP_NUM_THREADS=str(threads), HF_HUB_OFFLINE="1")
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    proc = subprocess.run(
        [sys.executable, "-c", WORKER, str(repeats), str(ALPACA_EVAL)],
        env=env,
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"worker failed:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", default="940bf08", help="git revision of the code before issue 10")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "default_mode.json")
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {"baseline": [], "current": []}
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", args.baseline, "fac_datasets"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        for _ in range(args.rounds):
            runs["baseline"].append(run_worker(tmp, args.repeats, args.threads))
            runs["current"].append(run_worker(None, args.repeats, args.threads))
    assert runs["baseline"][0]["package"].startswith(tempfile.gettempdir()), runs["baseline"][0]["package"]
    medians = {
        version: {
            name: statistics.median(r["tokens_per_second"][name] for r in results)
            for name in results[0]["tokens_per_second"]
        }
        for version, results in runs.items()
    }
    report = {
        "baseline": args.baseline,
        "threads": args.threads,
        "python": platform.python_version(),
        "dtype": {version: results[0]["dtype"] for version, results in runs.items()},
        "tokens_per_second": medians,
        "current/baseline": {
            name: medians["current"][name] / medians["baseline"][name] for name in medians["baseline"]
        },
        "short/long": {version: m["short"] / m["long"] for version, m in medians.items()},
        "runs": runs,
    }
    if "short (annotate-dataset)" in medians["current"]:
        current = medians["current"]
        report["short (annotate-dataset)/long"] = current["short (annotate-dataset)"] / current["long"]
    print(json.dumps({k: v for k, v in report.items() if k != "runs"}, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
