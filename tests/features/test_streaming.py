"""`fac annotate-dataset` / `features.streaming` on the tiny model: same results as the in-memory
path, resumable after a kill, checked against the wrong folder or a changed input."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time

import datasets
import pytest

from fac_datasets.config import StreamingConfig
from fac_datasets.errors import FacConfigError, FacInputError
from fac_datasets.features.annotator import FeatureAnnotator
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.features.streaming import RowSource, annotate_dataset, open_source

# fmt: off
WORDS = [
    "the", "sea", "cat", "dog", "poem", "write", "list", "python", "reverse", "report", "summary", "quick",
    "brown", "fox", "lazy", "shells", "committee", "budget", "winter", "mountain", "river", "explain",
    "photosynthesis", "child", "rude", "waiter", "night",
]
# fmt: on
SHARD, BATCH = 64, 16


def generated_rows(n: int, seed: int = 0) -> list[dict]:
    """Texts of 0-24 words (some empty), made at test time."""
    rng = random.Random(seed)
    return [{"id": i, "text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 24)))} for i in range(n)]


def write_jsonl(path, rows) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


@pytest.fixture()
def annotator(tiny_model_dir, tiny_sae_dir):
    return FeatureAnnotator(model=str(tiny_model_dir), sae=str(tiny_sae_dir))


@pytest.fixture()
def data_file(tmp_path):
    return write_jsonl(tmp_path / "rows.jsonl", generated_rows(300))


def in_memory(annotator, spec):
    """The in-memory path: Dataset.map over the whole dataset, then counts."""
    dataset = datasets.load_dataset("json", data_files=spec, split="train")
    out = annotator.annotate(dataset, batch_size=BATCH, load_from_cache_file=False)
    return out, FeatureCounts.from_dataset(out, annotator.d_sae, annotator.provenance)


@pytest.mark.parametrize("streaming", [False, True])
def test_streamed_shards_equal_the_in_memory_path(annotator, data_file, tmp_path, streaming):
    config = StreamingConfig(shard_size=SHARD, batch_size=BATCH, streaming=streaming)
    run = annotate_dataset(open_source(data_file, None, config), tmp_path / "out", annotator, config, progress=False)
    expected_rows, expected_counts = in_memory(annotator, data_file)
    assert run.n_shards == 5 and run.n_resumed == 0
    assert run.counts == expected_counts
    assert FeatureCounts.load(tmp_path / "out" / "counts.json") == expected_counts
    rows = run.dataset()
    assert rows["id"] == list(range(300))
    for column in ("fac_features", "fac_activations", "fac_n_tokens"):
        assert rows[column] == expected_rows[column]
    assert run.setups == [{"device": "cpu", "dtype": "float32", "dtype_reason": run.setups[0]["dtype_reason"]}]


def test_counts_only_writes_no_rows_and_merges_shards(annotator, data_file, tmp_path):
    config = StreamingConfig(shard_size=SHARD, batch_size=BATCH, counts_only=True)
    run = annotate_dataset(open_source(data_file, None, config), tmp_path / "out", annotator, config, progress=False)
    assert not (tmp_path / "out" / "data").exists()
    shards = sorted((tmp_path / "out" / "shards").glob("shard-*.json"))
    merged = FeatureCounts(annotator.d_sae, provenance=annotator.provenance)
    for path in shards:
        merged = merged + FeatureCounts.from_dict(json.loads(path.read_text())["counts"])
    assert len(shards) == 5 and merged == run.counts == in_memory(annotator, data_file)[1]


def test_rerun_skips_finished_shards(annotator, data_file, tmp_path):
    config = StreamingConfig(shard_size=SHARD, batch_size=BATCH)
    first = annotate_dataset(open_source(data_file, None, config), tmp_path / "out", annotator, config, progress=False)
    mtimes = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out").rglob("shard-*")}
    fresh = FeatureAnnotator(model=annotator.config.model, sae=annotator.config.sae)
    again = annotate_dataset(open_source(data_file, None, config), tmp_path / "out", fresh, config, progress=False)
    assert again.n_resumed == 5 and again.counts == first.counts
    assert fresh._extractor is None, "nothing was left to do, yet the model was loaded"
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out").rglob("shard-*")} == mtimes


def test_another_run_or_a_changed_input_is_refused(annotator, data_file, tmp_path):
    config = StreamingConfig(shard_size=SHARD, batch_size=BATCH)
    annotate_dataset(open_source(data_file, None, config), tmp_path / "out", annotator, config, progress=False)
    other = StreamingConfig(shard_size=2 * SHARD, batch_size=BATCH)
    with pytest.raises(FacInputError, match="holds another annotation run .*settings"):
        annotate_dataset(open_source(data_file, None, other), tmp_path / "out", annotator, other, progress=False)
    rows = generated_rows(300)
    rows[70]["text"] = "a changed row"
    changed = write_jsonl(tmp_path / "rows.jsonl", rows)  # same path, same length, other text in shard 1
    with pytest.raises(FacInputError, match=r"Rows 64\.\.128 of the input changed"):
        annotate_dataset(open_source(changed, None, config), tmp_path / "out", annotator, config, progress=False)


def test_bad_rows_are_named_by_their_row_in_the_input(annotator, data_file, tmp_path):
    rows = generated_rows(100)
    rows[77]["text"] = None
    config = StreamingConfig(shard_size=SHARD, batch_size=BATCH)
    source = RowSource(datasets.Dataset.from_list(rows), "text")
    with pytest.raises(FacInputError, match="Row 77 is None"):
        annotate_dataset(source, tmp_path / "out", annotator, config, progress=False)
    with pytest.raises(FacInputError, match="no column 'prompt'"):
        open_source(data_file, "prompt", config)
    with pytest.raises(FacConfigError, match="multiple of batch_size"):
        StreamingConfig(shard_size=100, batch_size=64)


KILLED_RUN = """
import os, sys, time
import fac_datasets.features.streaming as streaming

write = streaming.AnnotationFolder.write

def write_then_hang(self, result, counts):
    if result.spec.index == 1:  # shard 0 is finished; die in the middle of writing shard 1
        (self.data_dir / f".shard-00001.parquet.{os.getpid()}.tmp").write_bytes(b"PAR1 half a shard")
        print("writing shard 1", flush=True)
        time.sleep(600)
    return write(self, result, counts)

streaming.AnnotationFolder.write = write_then_hang
from fac_datasets.cli import app
app(sys.argv[1:])
"""


def test_a_killed_run_resumes_from_its_last_finished_shard(annotator, data_file, tmp_path):
    out = tmp_path / "out"
    args = ["annotate-dataset", data_file, "--out", str(out), "--shard-size", str(SHARD), "--batch-size", str(BATCH)]
    args += ["--model", annotator.config.model, "--sae", annotator.config.sae, "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
    )
    try:
        line = proc.stdout.readline()  # blocks until shard 1 is half written
        assert line.strip() == "writing shard 1", proc.stderr.read()[-3000:]
        proc.kill()  # SIGKILL: no cleanup runs
    finally:
        proc.wait(timeout=60)
    finished = out / "shards" / "shard-00000.json"
    assert finished.is_file() and not (out / "shards" / "shard-00001.json").exists()
    assert list((out / "data").glob(".shard-00001.parquet.*.tmp")), "the half-written shard should be on disk"
    before = {p: p.stat().st_mtime_ns for p in (finished, out / "data" / "shard-00000.parquet")}
    time.sleep(0.01)

    config = StreamingConfig(shard_size=SHARD, batch_size=BATCH)
    run = annotate_dataset(open_source(data_file, None, config), out, annotator, config, progress=False)
    assert run.n_resumed == 1 and run.n_shards == 5
    assert {p: p.stat().st_mtime_ns for p in before} == before, "the finished shard was recomputed"
    assert not list((out / "data").glob(".*.tmp"))
    expected_rows, expected_counts = in_memory(annotator, data_file)
    assert run.counts == expected_counts
    assert run.dataset()["fac_features"] == expected_rows["fac_features"]
