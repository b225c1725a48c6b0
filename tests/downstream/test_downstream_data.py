"""Reading each task's data: formats, the Davidson mapping, sampling, and errors that name the fix."""

from __future__ import annotations

import gzip
import json

import pytest

from fac_datasets.config import DownstreamConfig
from fac_datasets.downstream.data import (
    ABItem,
    LabelledTexts,
    answer_letter,
    balanced_sample,
    check_two_classes,
    read_ab_items,
    read_instruction_pairs,
    read_labelled,
    read_pairs,
)
from fac_datasets.downstream.result import DownstreamResult
from fac_datasets.errors import FacConfigError, FacInputError


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_labelled_texts_from_jsonl_and_a_seeded_sample(tmp_path):
    rows = [{"text": f"text {i}", "label": i % 2} for i in range(20)]
    path = write_jsonl(tmp_path / "tox.jsonl", rows)
    data = read_labelled(path)
    assert data.texts[3] == "text 3" and data.labels[:4] == [0, 1, 0, 1]
    a, b = read_labelled(path, max_rows=5, seed=1), read_labelled(path, max_rows=5, seed=1)
    assert a == b and len(a.texts) == 5
    assert [int(t.split()[1]) for t in a.texts] == sorted(int(t.split()[1]) for t in a.texts)  # input order


def test_davidson_csv_is_recognised_and_mapped(tmp_path):
    path = tmp_path / "davidson.csv.gz"
    lines = [",count,hate_speech,offensive_language,neither,class,tweet"]
    lines += ["0,3,0,0,3,2,a calm tweet", "1,3,0,3,0,1,an offensive tweet", "2,3,3,0,0,0,a hateful tweet"]
    with gzip.open(path, "wt") as handle:
        handle.write("\n".join(lines) + "\n")
    data = read_labelled(path)
    assert data.texts == ["a calm tweet", "an offensive tweet", "a hateful tweet"]
    assert data.labels == [0, 1, 1]  # neither = 0; offensive and hate = 1


def test_balanced_sample_takes_equal_classes():
    data = LabelledTexts([f"t{i}" for i in range(30)], [int(i < 10) for i in range(30)])
    sample = balanced_sample(data, 5, seed=3)
    assert sum(sample.labels) == 5 and len(sample.labels) == 10
    with pytest.raises(FacInputError, match="only 10 rows of label 1"):
        balanced_sample(data, 11)


@pytest.mark.parametrize(
    ("rows", "fragment"),
    [
        ([{"text": "a", "label": 2}], "label 2 is not 0 or 1"),
        ([{"text": "a", "y": 1}], "no label column 'label'"),
        ([{"text": "", "label": 1}], "empty or whitespace-only"),
    ],
)
def test_bad_labelled_rows_name_the_input(tmp_path, rows, fragment):
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    with pytest.raises(FacInputError, match=fragment) as info:
        read_labelled(path)
    assert "bad.jsonl" in str(info.value)


def test_single_class_and_empty_files_are_clear(tmp_path):
    with pytest.raises(FacInputError, match="both 0 and 1 are needed"):
        check_two_classes(LabelledTexts(["a", "b"], [1, 1], "one-class.jsonl"), "Training")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(FacInputError, match="empty.jsonl is empty"):
        read_labelled(empty)


def test_pairs_ab_items_and_instructions(tmp_path):
    pairs = write_jsonl(tmp_path / "pairs.jsonl", [{"chosen": "H: a A: b", "rejected": "H: a A: c"}])
    assert read_pairs(pairs).rejected == ["H: a A: c"]
    with pytest.raises(FacInputError, match=r"no column\(s\) \['rejected'\] for preference pairs"):
        read_pairs(write_jsonl(tmp_path / "half.jsonl", [{"chosen": "x"}]))

    caa = tmp_path / "caa.json"
    caa.write_text(
        json.dumps(
            [
                {"question": "Q1", "answer_matching_behavior": "(A)", "answer_not_matching_behavior": "(B)"},
                {"question": "Q2", "answer_matching_behavior": " (B)", "answer_not_matching_behavior": " (A)"},
            ]
        )
    )
    assert read_ab_items(caa) == [ABItem("Q1", "A", "B"), ABItem("Q2", "B", "A")]
    with pytest.raises(FacInputError, match="not an answer letter"):
        answer_letter("maybe", 0, "x.json", "answer_matching_behavior")

    alpaca = write_jsonl(tmp_path / "alpaca.jsonl", [{"instruction": "Say hi", "output": "hi"}])
    assert read_instruction_pairs(alpaca).responses == ["hi"]
    with pytest.raises(FacInputError, match="no response column"):
        read_instruction_pairs(write_jsonl(tmp_path / "noresp.jsonl", [{"instruction": "Say hi"}]))


def test_result_serialises_and_config_checks_values():
    result = DownstreamResult("toxicity", "probe", "auprc", 0.9, 10, 20, 1.5, 0, details={"auroc": 0.8})
    assert json.loads(result.to_json())["details"] == {"auroc": 0.8}
    assert "auprc = 0.9000" in result.summary()
    with pytest.raises(FacConfigError, match="DownstreamConfig.method"):
        DownstreamConfig(method="lora")
    with pytest.raises(FacConfigError, match="DownstreamConfig.multipliers"):
        DownstreamConfig(multipliers=())
