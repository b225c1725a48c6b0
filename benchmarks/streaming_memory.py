"""Peak memory of `fac annotate-dataset` does not grow with the number of rows.

    .venv/bin/python benchmarks/streaming_memory.py [--rows 10000 100000] [--threads 2]

For each size, rows are generated at benchmark time (seeded sentences of 4-12 common words) into
a .jsonl file, then annotated in a fresh process with the embedded default:
`fac annotate-dataset FILE --out DIR --streaming --counts-only`. The child's peak RSS
(ru_maxrss) and wall time are recorded; the largest run must stay within 10% of the smallest.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMON = """
the of and to in is you that it he was for on are as with his they at be this have from or one had by
word but not what all were we when your can said there use an each which she do how their if will up
other about out many then them these so some her would make like him into time has look two more write
go see number no way could people my than first water been call who oil its now find long down day did
get come made may part over new sound take only little work know place year live me back give most very
after thing our just name good sentence man think say great where help through much before line right
"""
WORDS = COMMON.split()


def generate(path: Path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("w") as handle:
        for i in range(n):
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12))).capitalize() + "."
            handle.write(json.dumps({"id": i, "text": text}) + "\n")


def annotate(data: Path, out: Path, threads: int, extra: list[str]) -> dict:
    """Run the CLI in a child process; its peak RSS from the kernel's accounting."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "fac_datasets.cli", "annotate-dataset", str(data), "--out", str(out)]
    command += ["--streaming", "--counts-only", "--no-progress", *extra]
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    stdout, stderr = proc.stdout.read(), proc.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"annotate-dataset failed:\n{stderr[-3000:]}")
    return {"peak_rss_mb": usage.ru_maxrss / 1024, "seconds": seconds, "summary": stdout.strip().splitlines()[-1]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work-dir", type=Path, default=None, help="Keep data and outputs here (default: a tmp dir).")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "streaming_memory.json")
    args, extra = parser.parse_known_args()
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work_dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for n in args.rows:
            data = work / f"rows-{n}.jsonl"
            generate(data, n, args.seed)
            runs[n] = annotate(data, work / f"out-{n}", args.threads, extra)
            run = runs[n]
            print(f"{n:>9} rows: peak RSS {run['peak_rss_mb']:.0f} MB, {run['seconds']:.0f} s; {run['summary']}")
    smallest, largest = min(runs), max(runs)
    growth = runs[largest]["peak_rss_mb"] / runs[smallest]["peak_rss_mb"] - 1
    print(f"peak RSS growth from {smallest} to {largest} rows: {growth:+.1%}")
    report = {"threads": args.threads, "extra_args": extra, "runs": runs, "growth": growth}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
