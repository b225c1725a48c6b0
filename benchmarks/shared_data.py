"""Readers of the public datasets in ../shared/data that the benchmarks use (never copied here).

One place reads each file, so every benchmark sees the same texts: AlpacaEval instructions and
outputs, Davidson tweets by class, and HH-RLHF harmless dialogues (first human turn, or every turn).
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
from pathlib import Path

# FAC_SHARED_DATA points elsewhere when the checkout is not next to shared/ (e.g. a git worktree).
SHARED_DATA = Path(os.environ.get("FAC_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
ALPACA_EVAL = SHARED_DATA / "alpaca_eval_805.jsonl"
DAVIDSON = SHARED_DATA / "davidson_hate_offensive.csv.gz"
HH_HARMLESS = SHARED_DATA / "hh_rlhf_harmless_test.jsonl.gz"
_FIRST_HUMAN_TURN = re.compile(r"\n\nHuman: (.*?)(?=\n\nAssistant:|$)", re.S)


def alpaca_rows() -> list[dict]:
    """The 805 AlpacaEval rows (instruction, output, generator, dataset)."""
    return [json.loads(line) for line in ALPACA_EVAL.read_text().splitlines() if line.strip()]


def alpaca_instructions() -> list[str]:
    return [row["instruction"] for row in alpaca_rows()]


def alpaca_long_outputs(min_words: int = 60) -> list[str]:
    """Outputs longer than `min_words` words: long texts for throughput at full length."""
    return [row["output"] for row in alpaca_rows() if len(row["output"].split()) > min_words]


def davidson_rows() -> list[dict]:
    """Davidson et al. (2017) rows; `class` is '0' hate, '1' offensive, '2' neither."""
    with gzip.open(DAVIDSON, "rt", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def davidson_tweets() -> list[str]:
    return [row["tweet"] for row in davidson_rows()]


def davidson_toxic_and_neither() -> tuple[list[str], list[str]]:
    """(hate + offensive tweets, 'neither' tweets)."""
    rows = davidson_rows()
    return [r["tweet"] for r in rows if r["class"] in ("0", "1")], [r["tweet"] for r in rows if r["class"] == "2"]


def hh_dialogues() -> list[str]:
    """The `chosen` transcripts of the HH-RLHF harmless test split."""
    with gzip.open(HH_HARMLESS, "rt", encoding="utf-8") as handle:
        return [json.loads(line)["chosen"] for line in handle]


def hh_first_human_turns() -> list[str]:
    """The opening human turn of every dialogue that has one."""
    turns = (_FIRST_HUMAN_TURN.search(dialogue) for dialogue in hh_dialogues())
    return [match.group(1).strip() for match in turns if match]


def hh_all_turns() -> list[str]:
    """Every human and assistant turn, stripped, duplicates dropped (first occurrence kept)."""
    turns: list[str] = []
    for dialogue in hh_dialogues():
        parts = dialogue.replace("\n\nAssistant:", "\n\nHuman:").split("\n\nHuman:")
        turns.extend(turn.strip() for turn in parts if turn.strip())
    return list(dict.fromkeys(turns))
