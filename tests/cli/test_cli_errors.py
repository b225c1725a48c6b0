"""Every error a user can cause on the command line is one red line and exit code 2, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from fac_datasets.cli import app


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def assert_one_clear_line(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit), result.output
    message = result.output.strip().splitlines()[-1]  # progress bars of datasets may come first
    assert message.startswith("error: "), result.output
    for fragment in fragments:
        assert fragment in message, message


def test_coverage_on_an_empty_file_says_it_is_empty(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = run("coverage", "--anchor", str(empty), "--current", str(empty), "--out", str(tmp_path / "o"))
    assert_one_clear_line(result, "empty.jsonl is empty")


def test_coverage_on_a_malformed_file_names_the_reason(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"text": \n')
    result = run("coverage", "--anchor", str(bad), "--current", str(bad), "--out", str(tmp_path / "o"))
    assert_one_clear_line(result, "Cannot read", "bad.jsonl as json: ")
    assert not result.output.strip().endswith("as json:")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("not json", "is not valid JSON"),
        ('{"a": 1}', "must hold a JSON list of integer feature ids"),
        ("[1, 2.5]", "[1, 2.5]"),
    ],
)
def test_bad_relevant_features_file(tmp_path, content, fragment):
    data = tmp_path / "data.jsonl"
    data.write_text(json.dumps({"text": "hello"}) + "\n")
    ids = tmp_path / "ids.json"
    ids.write_text(content)
    result = run(
        "coverage", "--anchor", str(data), "--current", str(data), "--out", str(tmp_path / "o"),
        "--relevant-features", str(ids),
    )  # fmt: skip
    assert_one_clear_line(result, "ids.json", fragment)


def test_out_of_range_option_values_name_the_setting(tmp_path):
    result = run("train-sae", "--out", str(tmp_path / "sae"), "--k", "0")
    assert_one_clear_line(result, "TrainSAEConfig.k", "greater than or equal to 1")
    result = run("annotate", "hello", "--dtype", "float16")
    assert_one_clear_line(result, "ExtractorConfig.dtype", "float32", "bfloat16")
    result = run("train-sae", "--out", str(tmp_path / "sae"), "--preset", "huge")
    assert_one_clear_line(result, "Unknown preset 'huge'; known: default")


def test_errors_from_the_console_entry_have_no_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "fac_datasets.cli", "sae-info", "--sae", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: Cannot resolve SAE") and "Traceback" not in proc.stderr
