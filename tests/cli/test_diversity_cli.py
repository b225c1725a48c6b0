"""`fac diversity`: inputs of every supported kind, clear errors, and the report files."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import numpy as np
import pytest

from fac_datasets.diversity.registry import METRICS, Corpus, MetricSpec, register_metric, resolve_metrics
from fac_datasets.diversity.report import build_report
from fac_datasets.errors import FacInputError

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
THREE = ["The cat sat.", "The dog sat.", "A cat ran!"]
NGRAM = ["--metrics", "distinct_n,ngram_entropy"]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_two_inputs_side_by_side(fac, tmp_path):
    a = write_jsonl(tmp_path / "three.jsonl", [{"prompt": t, "id": i} for i, t in enumerate(THREE)])
    b = tmp_path / "same.csv"
    b.write_text("text,label\nthe cat sat,0\nthe cat sat,1\n")
    out = tmp_path / "out"
    result = fac("diversity", a, b, "--text-column", "prompt", "--text-column", "text", *NGRAM, "--out", out, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "diversity.json").read_text())
    assert report["columns"] == ["distinct_1", "distinct_2", "entropy_2"]
    first, second = report["rows"]
    assert first["name"] == "three:prompt" and first["n_texts"] == 3 and first["tokens_per_text"] == 4.0
    assert first["values"]["distinct_2"] == pytest.approx(8 / 9)
    assert second["values"]["distinct_2"] == pytest.approx(2 / 4) and second["values"]["entropy_2"] == pytest.approx(
        0.6931, abs=1e-4
    )
    table = (out / "diversity.md").read_text()
    assert "| three:prompt | 3 | 4.0 | 0.6667 | 0.8889 |" in table
    assert (out / "diversity.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads(result.stdout.strip().splitlines()[-1])["metrics"] == ["distinct_n", "ngram_entropy"]


def test_parquet_gz_and_saved_dataset_inputs(fac, tmp_path):
    ds = datasets.Dataset.from_dict({"text": THREE})
    ds.to_parquet(str(tmp_path / "t.parquet"))
    ds.save_to_disk(str(tmp_path / "saved"))
    datasets.DatasetDict({"train": ds}).save_to_disk(str(tmp_path / "saved_dict"))
    import gzip

    with gzip.open(tmp_path / "t.jsonl.gz", "wt") as f:
        f.writelines(json.dumps({"text": t}) + "\n" for t in THREE)
    out = tmp_path / "out"
    inputs = [str(tmp_path / p) for p in ("t.parquet", "saved", "t.jsonl.gz", "saved_dict")]
    assert fac("diversity", *inputs, "--metrics", "distinct_n", "--out", str(out)).exit_code == 0
    rows = json.loads((out / "diversity.json").read_text())["rows"]
    assert [r["name"] for r in rows] == [
        "t[0]:text",
        "saved:text",
        "t[2]:text",
        "saved_dict:text",
    ]  # same file stem: disambiguated
    assert all(r["values"]["distinct_2"] == pytest.approx(8 / 9) for r in rows)


def test_missing_column_names_the_file_and_lists_columns(fac, tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", [{"body": "x y", "answer": "z"}])
    result = fac("diversity", str(a), "--text-column", "text", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "a.jsonl: no column 'text'; columns are ['body', 'answer']" in result.output
    ambiguous = fac("diversity", str(a), "--out", str(tmp_path / "o"))
    assert ambiguous.exit_code == 2 and "pass --text-column (columns: ['body', 'answer'])" in ambiguous.output


def test_bad_rows_and_options_are_clear_errors(fac, tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", [{"text": "fine"}, {"text": None}])
    result = fac("diversity", str(a), "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and "a.jsonl column 'text': Row 1 is None" in result.output
    b = write_jsonl(tmp_path / "b.jsonl", [{"text": 3}, {"text": 4}])
    assert "Row 0 is a int" in fac("diversity", str(b), "--out", str(tmp_path / "o")).output
    good = write_jsonl(tmp_path / "g.jsonl", [{"text": "a b"}])
    unknown = fac("diversity", str(good), "--metrics", "distinct_n,self_bleu", "--out", str(tmp_path / "o"))
    assert unknown.exit_code == 2 and "Unknown metric(s) self_bleu; known: distinct_n" in unknown.output
    assert "no such file or folder" in fac("diversity", tmp_path / "nope.jsonl", "--out", tmp_path / "o").output
    txt = tmp_path / "x.txt"
    txt.write_text("hi")
    assert "unsupported file type" in fac("diversity", str(txt), "--out", str(tmp_path / "o")).output
    three = fac(
        "diversity",
        str(good),
        str(good),
        "--text-column",
        "a",
        "--text-column",
        "b",
        "--text-column",
        "c",
        "--out",
        str(tmp_path / "o"),
    )
    assert three.exit_code == 2 and "given 3 times for 2 inputs" in three.output


def test_metric_that_cannot_run_is_recorded_not_fatal():
    report = build_report([Corpus("short", ["hi", "yo"])], resolve_metrics(["distinct_n"]))
    assert report.rows[0].errors["distinct_n"].startswith("No 2-grams")
    assert "n/a" in report.to_markdown() and "Not computed" in report.to_markdown()


def test_registry_takes_new_metrics():
    spec = register_metric(
        MetricSpec("n_chars", lambda corpus: {"n_chars": sum(map(len, corpus.texts))}, "characters", ("n_chars",))
    )
    try:
        report = build_report([Corpus("c", THREE)], resolve_metrics(["n_chars"]))
        assert report.rows[0].values == {"n_chars": sum(map(len, THREE))}
    finally:
        METRICS.pop(spec.name)
    with pytest.raises(FacInputError, match="Unknown metric"):
        resolve_metrics(["n_chars"])


def test_the_three_newer_metrics_are_listed_and_g_vendi_is_opt_in(fac):
    help_text = fac("diversity", "--help").output
    for name in ("novelsum", "dcscore", "g_vendi"):
        assert name in METRICS and name in help_text
    assert [s.name for s in resolve_metrics(None)][-3:] == ["novelsum", "dcscore", "fac"]
    assert "g_vendi" not in [s.name for s in resolve_metrics(None)]
    assert [s.name for s in resolve_metrics(["g_vendi"])] == ["g_vendi"]


def test_novelsum_and_dcscore_rows_from_given_embeddings():
    """Real metric code on fixed embeddings (set on the corpus, so no embedder is loaded)."""
    from fac_datasets.diversity.corpora import set_novelsum_reference
    from fac_datasets.diversity.novelsum import novelsum_of_embeddings

    rng = np.random.default_rng(0)
    a, b, same = Corpus("a", ["x"] * 8), Corpus("b", ["y"] * 8), Corpus("same", ["z"] * 3)
    a.__dict__["embeddings"], b.__dict__["embeddings"] = rng.normal(size=(8, 5)), rng.normal(size=(8, 5))
    same.__dict__["embeddings"] = np.tile([1.0, 0.0, 0.0, 0.0, 0.0], (3, 1))
    specs = resolve_metrics(["novelsum", "dcscore"])
    set_novelsum_reference([a, b], None, None)  # no --anchor: both inputs pooled, like FAC's anchor
    assert a.reference_embeddings.shape == (16, 5)
    report = build_report([a, b, same], specs)
    pooled = np.concatenate([a.embeddings, b.embeddings])
    assert report.rows[0].values["novelsum"] == pytest.approx(novelsum_of_embeddings(a.embeddings, pooled).novelsum)
    assert report.rows[2].values == {"novelsum": 0.0, "dcscore": pytest.approx(1.0)}  # no reference: no density
    assert 1.0 < report.rows[1].values["dcscore"] < 8.0


@pytest.mark.slow
def test_two_real_datasets_with_every_metric(fac, tmp_path):
    out = tmp_path / "out"
    result = fac(
        "diversity",
        str(DATA / "alpaca_eval_805.jsonl"),
        str(DATA / "hh_rlhf_harmless_test.jsonl.gz"),
        "--text-column", "instruction", "--text-column", "chosen",
        "--max-texts", "150", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads((out / "diversity.json").read_text())
    assert report["metrics"] == [
        "distinct_n",
        "ngram_entropy",
        "pos_distinct",
        "pair_cosdist",
        "semantic_entropy",
        "vendi",
        "novelsum",
        "dcscore",
        "fac",
    ]  # every default metric; g_vendi runs only when named
    for row in report["rows"]:
        assert row["n_texts"] == 150 and not row["errors"]
        values = row["values"]
        assert 0 < values["distinct_2"] <= 1 and 0 < values["pos_distinct_2"] <= 1
        assert 0 < values["pair_cosdist"] < 1.5 and 1 <= values["meaning_clusters"] <= 150
        assert 0 <= values["semantic_entropy"] <= __import__("math").log(150) + 1e-9
        assert 0 < values["fac"] < 1 and values["fac_tokens_per_text"] > 0  # against both inputs pooled
        assert values["novelsum"] > 0 and 1 <= values["dcscore"] <= 150
    alpaca, hh = report["rows"]
    # hh-rlhf dialogues are long and share their "Human:/Assistant:" frame: lower lexical variety.
    assert (
        hh["tokens_per_text"] > alpaca["tokens_per_text"]
        and hh["values"]["distinct_1"] < alpaca["values"]["distinct_1"]
    )
    assert (out / "diversity.png").stat().st_size > 10_000


@pytest.mark.slow
def test_fac_against_an_explicit_anchor(fac, tmp_path):
    anchor = write_jsonl(
        tmp_path / "anchor.jsonl",
        [{"text": t} for t in ["Write a poem about rain.", "Explain gravity simply.", "List three fruits."] * 2],
    )
    same = write_jsonl(
        tmp_path / "same.jsonl",
        [{"text": t} for t in ["Write a poem about rain.", "Explain gravity simply.", "List three fruits."]],
    )
    other = write_jsonl(tmp_path / "other.jsonl", [{"text": "Hi."}])
    out = tmp_path / "out"
    result = fac("diversity", str(same), str(other), "--anchor", str(anchor), "--metrics", "fac", "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r["values"] for r in json.loads((out / "diversity.json").read_text())["rows"]}
    assert rows["same:text"]["fac"] == 1.0  # the anchor's texts cover all of its features
    assert rows["other:text"]["fac"] < 0.5
