"""Checkpoints of a synthesis run: every row and every finished feature, written atomically after each feature.

`samples.jsonl` (every generated row, also the run's JSONL output) is replaced first, then
`state.json` (finished features, calls spent, how many rows are final). A kill between the two
leaves extra rows that the state does not count; loading drops them. A feature stopped by the
budget or the target FAC is kept as `partial`: a rerun with a larger budget redoes it, and the
generator cache answers its calls again without asking the model.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from fac_datasets.constants import SYNTHESIS_SAMPLES_JSONL, SYNTHESIS_STATE_JSON
from fac_datasets.errors import FacInputError
from fac_datasets.synthesis.records import PARTIAL, FeatureRecord

STATE_FILE = SYNTHESIS_STATE_JSON
SAMPLES_FILE = SYNTHESIS_SAMPLES_JSONL
STATE_FORMAT = "fac-datasets/synthesis-state"
STATE_VERSION = 1


@dataclass
class Checkpoint:
    """Attributes:
    fingerprint: hash of everything that decides what each feature produces (inputs, task, setup, config).
    finished: records of finished features, in run order.
    calls: generator calls the finished features spent (cached answers included).
    rows: every row they produced.
    partial: a feature stopped by the budget or target FAC, with the index of its first row.
    """

    fingerprint: str
    finished: list[FeatureRecord] = field(default_factory=list)
    calls: int = 0
    rows: list[dict] = field(default_factory=list)
    partial: FeatureRecord | None = None
    partial_rows_from: int = 0


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def has_checkpoint(out_dir: Path) -> bool:
    return (out_dir / STATE_FILE).is_file()


def save_checkpoint(out_dir: Path, checkpoint: Checkpoint) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    _atomic_write(
        out_dir / SAMPLES_FILE, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in checkpoint.rows)
    )
    state = {
        "format": STATE_FORMAT,
        "version": STATE_VERSION,
        "fingerprint": checkpoint.fingerprint,
        "calls": checkpoint.calls,
        "n_rows": len(checkpoint.rows),
        "finished": [record.to_dict() for record in checkpoint.finished],
        "partial": checkpoint.partial.to_dict() if checkpoint.partial else None,
        "partial_rows_from": checkpoint.partial_rows_from,
    }
    _atomic_write(out_dir / STATE_FILE, json.dumps(state, indent=1))


def load_checkpoint(out_dir: Path, fingerprint: str) -> Checkpoint:
    """The run saved in `out_dir`; a run with other inputs or settings is a FacInputError."""
    try:
        state = json.loads((out_dir / STATE_FILE).read_text(encoding="utf-8"))
        lines = (out_dir / SAMPLES_FILE).read_text(encoding="utf-8").splitlines() if state["n_rows"] else []
        rows = [json.loads(line) for line in lines[: state["n_rows"]]]
    except (OSError, ValueError, KeyError) as exc:
        raise FacInputError(
            f"Cannot resume from {out_dir}: its checkpoint is unreadable ({exc}). Start again in a new --out folder."
        ) from exc
    if state.get("format") != STATE_FORMAT:
        raise FacInputError(f"{out_dir / STATE_FILE} is not a synthesis checkpoint; pass another --out folder.")
    if state["fingerprint"] != fingerprint:
        raise FacInputError(
            f"{out_dir} holds a synthesis run with other inputs or settings (anchor, current, task, generator, "
            "SAE or config differ), so resuming would mix two runs. Use a new --out folder, or rerun with the "
            "original settings."
        )
    if len(rows) < state["n_rows"]:
        raise FacInputError(f"{out_dir / SAMPLES_FILE} lost rows since the last checkpoint; start in a new folder.")
    partial = FeatureRecord.from_dict(state["partial"]) if state.get("partial") else None
    finished = [FeatureRecord.from_dict(r) for r in state["finished"]]
    calls = int(state["calls"])
    if partial is not None and partial.status in PARTIAL:
        rows = rows[: state["partial_rows_from"]]  # redone on resume, from the cache
        calls -= partial.calls
    return Checkpoint(fingerprint, finished, calls, rows)
