"""Every error a user can cause on the command line is one red line and exit code 2, never a traceback."""

from __future__ import annotations

import json

import pytest


def test_coverage_on_an_empty_file_says_it_is_empty(fac, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = fac("coverage", "--anchor", str(empty), "--current", str(empty), "--out", str(tmp_path / "o"))
    result.error_line("empty.jsonl is empty")


def test_coverage_on_a_malformed_file_names_the_reason(fac, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"text": \n')
    result = fac("coverage", "--anchor", str(bad), "--current", str(bad), "--out", str(tmp_path / "o"))
    result.error_line("Cannot read", "bad.jsonl as json: ")
    assert not result.output.strip().endswith("as json:")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("not json", "is not valid JSON"),
        ('{"a": 1}', "must hold a JSON list of integer feature ids"),
        ("[1, 2.5]", "[1, 2.5]"),
    ],
)
def test_bad_relevant_features_file(fac, tmp_path, content, fragment):
    data = tmp_path / "data.jsonl"
    data.write_text(json.dumps({"text": "hello"}) + "\n")
    ids = tmp_path / "ids.json"
    ids.write_text(content)
    result = fac(
        "coverage", "--anchor", str(data), "--current", str(data), "--out", str(tmp_path / "o"),
        "--relevant-features", str(ids),
    )  # fmt: skip
    result.error_line("ids.json", fragment)


def test_out_of_range_option_values_name_the_setting(fac, tmp_path):
    result = fac("train-sae", "--out", str(tmp_path / "sae"), "--k", "0")
    result.error_line("TrainSAEConfig.k", "greater than or equal to 1")
    result = fac("annotate", "hello", "--dtype", "float16")
    result.error_line("ExtractorConfig.dtype", "float32", "bfloat16")
    result = fac("train-sae", "--out", str(tmp_path / "sae"), "--preset", "huge")
    result.error_line("Unknown preset 'huge'; known: default")


def test_errors_from_the_console_entry_have_no_traceback(fac, tmp_path):
    proc = fac("sae-info", "--sae", tmp_path / "missing", process=True)
    assert proc.exit_code == 2
    assert proc.stderr.startswith("error: Cannot resolve SAE") and "Traceback" not in proc.stderr
