"""`fac eval-downstream` end to end on the tiny model, and its one-line errors."""

from __future__ import annotations

import json

import pytest
from downstream_tasks import marked_pairs, marked_texts


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


@pytest.fixture()
def toxicity_files(tmp_path):
    train, test = marked_texts(60, 0), marked_texts(40, 1)
    return (
        write_jsonl(
            tmp_path / "train.jsonl", [{"text": t, "label": y} for t, y in zip(train.texts, train.labels, strict=True)]
        ),
        write_jsonl(
            tmp_path / "test.jsonl", [{"text": t, "label": y} for t, y in zip(test.texts, test.labels, strict=True)]
        ),
    )


def test_toxicity_probe_and_finetune_print_json(fac, tiny_model_dir, toxicity_files):
    train, test = toxicity_files
    common = ["--task", "toxicity", "--train", train, "--test", test, "--model", str(tiny_model_dir), "--layer", "2"]
    result = fac("eval-downstream", *common, "--json")
    assert result.exit_code == 0, result.output
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["metric"] == "auprc" and probe["method"] == "probe" and probe["n_train"] == 60
    result = fac(
        "eval-downstream",
        *common,
        "--method",
        "finetune",
        "--epochs",
        "1",
        "--seed",
        "3",
        "--max-train",
        "30",
        "--json",
    )
    assert result.exit_code == 0, result.output
    finetune = json.loads(result.stdout.strip().splitlines()[-1])
    assert finetune["method"] == "finetune" and finetune["seed"] == 3 and finetune["n_train"] == 30


def test_reward_summary_line(fac, tiny_model_dir, tmp_path):
    pairs = marked_pairs(30, 0)
    rows = [{"chosen": c, "rejected": r} for c, r in zip(pairs.chosen, pairs.rejected, strict=True)]
    path = write_jsonl(tmp_path / "pairs.jsonl", rows)
    result = fac(
        "eval-downstream",
        "--task",
        "reward_modeling",
        "--train",
        path,
        "--test",
        path,
        "--model",
        str(tiny_model_dir),
        "--layer",
        "2",
    )
    assert result.exit_code == 0, result.output
    assert "reward_modeling (bradley_terry): pair_accuracy = " in result.output


def test_unknown_task_and_misplaced_method(fac, toxicity_files):
    train, test = toxicity_files
    downstream = ("eval-downstream", "--train", train, "--test", test)
    fac(*downstream, "--task", "sentiment").error_line("Unknown task 'sentiment'")
    fac(*downstream, "--task", "reward_modeling", "--method", "finetune").error_line(
        "--method applies to toxicity only"
    )
    fac(*downstream, "--task", "toxicity", "--method", "lora").error_line("DownstreamConfig.method")


def test_bad_inputs_name_the_file_and_the_fix(fac, tiny_model_dir, tmp_path, toxicity_files):
    train, test = toxicity_files
    model = ["--model", str(tiny_model_dir), "--layer", "2"]
    no_label = write_jsonl(tmp_path / "nolabel.jsonl", [{"text": "a b c"}])
    fac("eval-downstream", "--task", "toxicity", "--train", no_label, "--test", test, *model).error_line(
        "nolabel.jsonl", "--label-column"
    )
    one_class = write_jsonl(tmp_path / "oneclass.jsonl", [{"text": "a b", "label": 1}, {"text": "c d", "label": 1}])
    fac("eval-downstream", "--task", "toxicity", "--train", one_class, "--test", test, *model).error_line(
        "oneclass.jsonl", "both 0 and 1"
    )
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    fac("eval-downstream", "--task", "reward_modeling", "--train", empty, "--test", test).error_line(
        "empty.jsonl is empty"
    )
    fac("eval-downstream", "--task", "behavior_steering", "--train", train, "--test", test).error_line(
        "train.jsonl", "CAA A/B items"
    )
