"""The validation study in one command: does FAC predict downstream scores better than the baselines?

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/validation_study.py --out runs/validation
    .venv/bin/python benchmarks/validation_study.py --quick --out /tmp/validation-quick

Writes validation.json, validation.md and validation.png into --out. The study itself is
`fac_datasets.validation.run_study`; docs/validation.md explains the design and the results.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from shared_data import SHARED_DATA

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="Folder for validation.json/.md/.png.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of every random choice (same seed, same tables).")
    parser.add_argument("--quick", action="store_true", help="Tiny pools and one subset per recipe (a few minutes).")
    parser.add_argument(
        "--tasks", default="toxicity,reward_modeling", help="Comma-separated: toxicity, reward_modeling."
    )
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA, help="Folder with the shared datasets.")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (2 at most on the shared machine).")
    parser.add_argument("--no-cache", action="store_true", help="Recompute features and states (no disk cache).")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    from fac_datasets.errors import FacError
    from fac_datasets.validation import quick_config, run_study
    from fac_datasets.validation.report import to_markdown

    torch.set_num_threads(args.threads)
    config = quick_config(args.seed) if args.quick else None
    try:
        from fac_datasets.config import ValidationConfig

        config = (config or ValidationConfig(seed=args.seed)).model_copy(update={"cache": not args.no_cache})
        tasks = tuple(t.strip() for t in args.tasks.split(",") if t.strip())
        result = run_study(config, tasks, data_dir=args.data_dir, out=args.out)
    except FacError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(to_markdown(result))
    print(f"\n{result['timings']}\nwritten to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
