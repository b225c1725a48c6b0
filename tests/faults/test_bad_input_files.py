"""Files that are not UTF-8, and rows that are not texts, get the same one line from every command (issue 17.5)."""

from __future__ import annotations

import gzip
import json

import pytest

from fac_datasets.errors import FacInputError
from fac_datasets.inputs import check_utf8

LATIN1 = "café au lait".encode("latin-1")  # byte 0xe9 is not UTF-8 on its own
GOOD_LINE = json.dumps({"text": "naïve but valid"}, ensure_ascii=False).encode() + b"\n"
RAW = ("UnicodeDecodeError",)  # the exception's name is not a message


def not_utf8(tmp_path, suffix: str) -> tuple:
    """A file whose second row holds a latin-1 byte; (path, offset of that byte in the uncompressed data, its line)."""
    if suffix in (".csv", ".tsv"):
        head = b"text\nnaive but valid\n"
        body = head + LATIN1 + b"\n"
    else:
        head = GOOD_LINE
        body = head + b'{"text": "' + LATIN1 + b'"}\n'
    offset = body.index(b"\xe9")
    path = tmp_path / f"rows{suffix}"
    path.write_bytes(gzip.compress(body) if suffix.endswith(".gz") else body)
    return path, offset, body[:offset].count(b"\n") + 1


def commands(path, tmp_path, tiny) -> dict[str, list]:
    """Two commands that read `path`, as `fac` args."""
    return {
        "coverage": ["coverage", "--anchor", path, "--current", path, "--out", tmp_path / "c", *tiny.args],
        "annotate-dataset": ["annotate-dataset", path, "--out", tmp_path / "a", "--no-progress", *tiny.args],
    }


@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".csv", ".tsv", ".jsonl.gz"])
def test_a_file_that_is_not_utf8_is_one_line_naming_the_file_and_byte(fac, tmp_path, suffix, tiny):
    path, offset, line_number = not_utf8(tmp_path, suffix)
    for command, args in commands(path, tmp_path, tiny).items():
        line = fac(*args).error_line(
            str(path), "is not UTF-8 text", f"byte {offset}", f"line {line_number})", absent=RAW
        )
        assert "Re-encode" in line, (command, line)
    assert not list((tmp_path / "a").rglob("shard-*")), "the refused run wrote shards"


def test_the_byte_offset_is_right_across_read_chunks(tmp_path):
    path = tmp_path / "big.jsonl"
    valid = ("é" * 700_000).encode()  # 1.4 MB of two-byte characters: one straddles the 1 MiB chunk boundary
    path.write_bytes(b'{"text": "' + valid + b'"}\n{"text": "' + LATIN1 + b'"}\n')
    expected = path.read_bytes().index(b"\xe9")
    with pytest.raises(FacInputError, match=f"byte {expected} "):
        check_utf8(path)
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(b'{"text": "ok"}\n' + "é".encode()[:1])
    with pytest.raises(FacInputError, match="byte 15 starts a character the file cuts off"):
        check_utf8(cut)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, "Row 1 is None"), (5, "Row 1 is a int ('5')"), (2.5, "Row 1 is a float ('2.5')"), ({"a": 1}, "Row 1")],
)
def test_every_command_refuses_a_row_that_is_not_a_text_naming_file_and_row(fac, tmp_path, value, shown, tiny):
    path = tmp_path / "rows.jsonl"
    rows = [{"text": "a text"}, {"text": value}, {"text": "another text"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    lines = {
        command: fac(*args).error_line(str(path), "column 'text'", shown, absent=RAW)
        for command, args in commands(path, tmp_path, tiny).items()
    }
    assert len(set(lines.values())) == 1, lines  # word for word the same
    assert not list((tmp_path / "a").rglob("shard-*")), "the refused run wrote shards"


def test_mixed_json_rows_are_read_as_their_values_not_as_json_text(tmp_path, tiny_model_dir, tiny_sae_dir):
    """A column that also holds a null is stored as JSON text; its strings must not be annotated with their quotes."""
    from fac_datasets.config import StreamingConfig
    from fac_datasets.features.streaming import open_source

    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps({"text": "a text"}) + "\n" + json.dumps({"text": None}) + "\n")
    source = open_source(str(path), None, StreamingConfig())
    spec, table = next(source.shards(8))
    assert source.values(table) == ["a text", None]
