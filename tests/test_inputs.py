"""The one input reader and validator: files, folders, in-memory lists; errors name the row and the fix."""

from __future__ import annotations

import gzip
import json

import datasets
import pytest

from fac_datasets.errors import FacInputError
from fac_datasets.inputs import (
    check_plain_texts,
    check_texts,
    dataset_name,
    open_dataset,
    open_text_dataset,
    read_feature_ids,
    read_texts,
)

CHAT = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]


def write_jsonl(path, rows) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_feature_texts_accept_chat_and_blank_rows_metric_texts_do_not():
    assert check_texts(["a", "", CHAT]) == ["a", "", CHAT]
    with pytest.raises(FacInputError, match="Row 1 is a list .* expected a string. Check that you picked"):
        check_plain_texts(["a", CHAT])
    with pytest.raises(FacInputError, match="Row 1 is empty or whitespace-only"):
        check_plain_texts(["a", "  "])
    with pytest.raises(FacInputError, match="Row 0, message 1: chat messages need string 'role' and 'content'"):
        check_texts([[{"role": "user", "content": "x"}, {"role": "user"}]])
    with pytest.raises(FacInputError, match="single string"):
        check_texts("abc")
    with pytest.raises(FacInputError, match="Got 1 texts: at least 2 texts needed"):
        check_plain_texts(["a"], min_count=2)


def test_files_of_every_kind_open_the_same(tmp_path):
    rows = [{"text": "one"}, {"text": "two"}]
    write_jsonl(tmp_path / "a.jsonl", rows)
    with gzip.open(tmp_path / "a.jsonl.gz", "wt") as handle:
        handle.write("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "a.csv").write_text("text\none\ntwo\n")
    (tmp_path / "a.tsv").write_text("id\ttext\n1\tone\n2\ttwo\n")
    datasets.Dataset.from_list(rows).to_parquet(str(tmp_path / "a.parquet"))
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "saved"))
    for name in ("a.jsonl", "a.jsonl.gz", "a.csv", "a.tsv", "a.parquet", "saved"):
        assert open_dataset(tmp_path / name)["text"] == ["one", "two"], name
    assert dataset_name(tmp_path / "a.jsonl.gz") == "a"


def test_bad_files_are_named_with_the_reason(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(FacInputError, match="empty.jsonl is empty"):
        open_dataset(tmp_path / "empty.jsonl")
    with gzip.open(tmp_path / "empty.jsonl.gz", "wt"):
        pass
    with pytest.raises(FacInputError, match="empty.jsonl.gz is empty"):
        open_dataset(tmp_path / "empty.jsonl.gz")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(FacInputError, match="unsupported file type .txt"):
        open_dataset(tmp_path / "notes.txt")
    (tmp_path / "folder").mkdir()
    with pytest.raises(FacInputError, match="is a folder but not a saved dataset"):
        open_dataset(tmp_path / "folder")
    with pytest.raises(FacInputError, match="no such file or folder, and not a Hub dataset id"):
        open_dataset(tmp_path / "missing.jsonl")


def test_text_column_is_picked_and_every_row_checked_before_model_work(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"id": 1, "instruction": "a"}, {"id": 2, "instruction": None}])
    with pytest.raises(FacInputError, match=r"d.jsonl column 'instruction': Row 1 is None"):
        open_text_dataset(path)
    chat = write_jsonl(tmp_path / "c.jsonl", [{"messages": CHAT}])
    dataset, column = open_text_dataset(chat)
    assert column == "messages" and len(dataset) == 1
    with pytest.raises(FacInputError, match="no column 'body'"):
        open_text_dataset(chat, "body")


def test_read_texts_samples_by_seed_in_input_order(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"text": f"t{i}"} for i in range(50)])
    _, first = read_texts(path, max_texts=10, seed=3)
    _, again = read_texts(path, max_texts=10, seed=3)
    _, other = read_texts(path, max_texts=10, seed=4)
    assert first == again and first != other and len(first) == 10
    assert first == sorted(first, key=lambda t: int(t[1:]))


def test_feature_id_files(tmp_path):
    good = tmp_path / "ids.json"
    good.write_text("[3, 1, 2]")
    assert read_feature_ids(good) == [3, 1, 2]
    with pytest.raises(FacInputError, match="no such file"):
        read_feature_ids(tmp_path / "nope.json")
    (tmp_path / "bool.json").write_text("[true]")
    with pytest.raises(FacInputError, match="integer feature ids"):
        read_feature_ids(tmp_path / "bool.json")
