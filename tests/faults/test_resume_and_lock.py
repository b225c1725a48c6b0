"""`fac annotate-dataset` resumes the same input however it is named, and one run owns its --out (issue 17.8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from fac_datasets.config import StreamingConfig
from fac_datasets.constants import RUN_LOCK_FILENAME
from fac_datasets.errors import FacInputError
from fac_datasets.features.annotator import FeatureAnnotator
from fac_datasets.features.streaming import annotate_dataset, open_source
from fac_datasets.processes import start_time
from fac_datasets.run_lock import RunLock

CONFIG = StreamingConfig(shard_size=8, batch_size=4)
HOLD_LOCK = """
import sys, time
from fac_datasets.run_lock import RunLock
RunLock(sys.argv[1], "fac annotate-dataset").acquire()
print("locked", flush=True)
time.sleep(600)
"""


@pytest.fixture()
def annotator(tiny_model_dir, tiny_sae_dir):
    return FeatureAnnotator(model=str(tiny_model_dir), sae=str(tiny_sae_dir))


@pytest.fixture()
def data_file(tmp_path):
    path = tmp_path / "data" / "rows.jsonl"
    path.parent.mkdir()
    path.write_text("".join(json.dumps({"text": f"text number {i} about the sea"}) + "\n" for i in range(20)))
    return path


def run(spec, out, annotator):
    return annotate_dataset(open_source(str(spec), None, CONFIG), out, annotator, CONFIG, input_name=str(spec))


def test_the_same_file_by_another_name_resumes(annotator, data_file, tmp_path, monkeypatch):
    out = tmp_path / "out"
    first = run(data_file, out, annotator)  # absolute path
    assert first.n_shards == 3 and first.n_resumed == 0
    monkeypatch.chdir(data_file.parent)
    assert run("rows.jsonl", out, annotator).n_resumed == 3  # relative, from the file's folder
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    again = run("../data/./rows.jsonl", out, annotator)  # another cwd, another spelling
    assert again.n_resumed == 3 and again.counts == first.counts
    moved = data_file.rename(tmp_path / "moved.jsonl")  # same size, mtime and head: the same input
    assert run(moved, out, annotator).n_resumed == 3


def test_another_file_is_still_another_input(annotator, data_file, tmp_path):
    out = tmp_path / "out"
    run(data_file, out, annotator)
    other = tmp_path / "other.jsonl"
    other.write_text(data_file.read_text().replace("sea", "sky"))
    with pytest.raises(FacInputError, match="holds another annotation run .*differs in: input"):
        run(other, out, annotator)


def test_a_second_concurrent_run_is_refused_naming_the_first(fac, annotator, data_file, tmp_path, tiny):
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = fac("annotate-dataset", data_file, "--out", out, "--no-progress", *tiny.args)
        result.error_line(f"pid {holder.pid}", "in use by another fac annotate-dataset")
        assert not (out / "shards").exists(), "the refused run wrote shards"
    finally:
        holder.kill()
        holder.wait(timeout=30)
    # the holder died by SIGKILL: its lock is stale and the next run takes it over
    assert json.loads((out / RUN_LOCK_FILENAME).read_text())["pid"] == holder.pid
    assert run(data_file, out, annotator).n_shards == 3
    assert not (out / RUN_LOCK_FILENAME).exists(), "a finished run leaves its lock behind"


def test_a_reused_pid_does_not_hold_the_lock(tmp_path):
    lock = tmp_path / RUN_LOCK_FILENAME
    me = os.getpid()  # alive, but not the process that took the lock: it started at another time
    lock.write_text(json.dumps({"pid": me, "start_time": start_time(me) - 1, "command": "fac annotate-dataset"}))
    with RunLock(tmp_path, "fac annotate-dataset"):
        assert json.loads(lock.read_text())["start_time"] == start_time(me)
        with pytest.raises(FacInputError, match=f"pid {me}"):
            RunLock(tmp_path, "fac annotate-dataset").acquire()
    assert not lock.exists()


HOLD_SYNTHESIS_LOCK = HOLD_LOCK.replace("fac annotate-dataset", "fac synthesize")


def test_a_second_synthesis_into_the_same_folder_is_refused(fac, data_file, tmp_path, tiny):
    out = tmp_path / "synth"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_SYNTHESIS_LOCK, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        args = ["synthesize", "--anchor", data_file, "--current", data_file, "--task", "toxicity", "--out", out]
        args += [*tiny.args, "--generator", "openai:m@http://127.0.0.1:9/v1", "--relevance", "anchor-support"]
        result = fac(*args)
        result.error_line(f"pid {holder.pid}", "in use by another fac synthesize")
        assert sorted(p.name for p in out.iterdir()) == [RUN_LOCK_FILENAME], "the refused run wrote outputs"
    finally:
        holder.kill()
        holder.wait(timeout=30)
