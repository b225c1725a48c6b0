"""`fac eval-downstream` end to end on the tiny model, and its one-line errors."""

from __future__ import annotations

import json

import pytest
from downstream_tasks import marked_pairs, marked_texts
from typer.testing import CliRunner

from fac_datasets.cli import app


def run(*args: str):
    return CliRunner().invoke(app, ["eval-downstream", *args])


def assert_one_clear_line(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output, result.output
    message = result.output.strip().splitlines()[-1]
    assert message.startswith("error: "), result.output
    for fragment in fragments:
        assert fragment in message, message


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


def test_toxicity_probe_and_finetune_print_json(tiny_model_dir, toxicity_files):
    train, test = toxicity_files
    common = ["--task", "toxicity", "--train", train, "--test", test, "--model", str(tiny_model_dir), "--layer", "2"]
    result = run(*common, "--json")
    assert result.exit_code == 0, result.output
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["metric"] == "auprc" and probe["method"] == "probe" and probe["n_train"] == 60
    result = run(*common, "--method", "finetune", "--epochs", "1", "--seed", "3", "--max-train", "30", "--json")
    assert result.exit_code == 0, result.output
    finetune = json.loads(result.stdout.strip().splitlines()[-1])
    assert finetune["method"] == "finetune" and finetune["seed"] == 3 and finetune["n_train"] == 30


def test_reward_summary_line(tiny_model_dir, tmp_path):
    pairs = marked_pairs(30, 0)
    rows = [{"chosen": c, "rejected": r} for c, r in zip(pairs.chosen, pairs.rejected, strict=True)]
    path = write_jsonl(tmp_path / "pairs.jsonl", rows)
    result = run(
        "--task", "reward_modeling", "--train", path, "--test", path, "--model", str(tiny_model_dir), "--layer", "2"
    )
    assert result.exit_code == 0, result.output
    assert "reward_modeling (bradley_terry): pair_accuracy = " in result.output


def test_unknown_task_and_misplaced_method(toxicity_files):
    train, test = toxicity_files
    assert_one_clear_line(run("--task", "sentiment", "--train", train, "--test", test), "Unknown task 'sentiment'")
    assert_one_clear_line(
        run("--task", "reward_modeling", "--method", "finetune", "--train", train, "--test", test),
        "--method applies to toxicity only",
    )
    assert_one_clear_line(
        run("--task", "toxicity", "--method", "lora", "--train", train, "--test", test), "DownstreamConfig.method"
    )


def test_bad_inputs_name_the_file_and_the_fix(tiny_model_dir, tmp_path, toxicity_files):
    train, test = toxicity_files
    model = ["--model", str(tiny_model_dir), "--layer", "2"]
    no_label = write_jsonl(tmp_path / "nolabel.jsonl", [{"text": "a b c"}])
    assert_one_clear_line(
        run("--task", "toxicity", "--train", no_label, "--test", test, *model), "nolabel.jsonl", "--label-column"
    )
    one_class = write_jsonl(tmp_path / "oneclass.jsonl", [{"text": "a b", "label": 1}, {"text": "c d", "label": 1}])
    assert_one_clear_line(
        run("--task", "toxicity", "--train", one_class, "--test", test, *model), "oneclass.jsonl", "both 0 and 1"
    )
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert_one_clear_line(
        run("--task", "reward_modeling", "--train", str(empty), "--test", test), "empty.jsonl is empty"
    )
    assert_one_clear_line(
        run("--task", "behavior_steering", "--train", train, "--test", test), "train.jsonl", "CAA A/B items"
    )
