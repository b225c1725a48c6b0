"""The synthesis loop end to end on the planted SAE, against a real local server whose answers are scripted."""

# ruff: noqa: F811 - the planted-setup fixtures are imported from synth_setup by name

from __future__ import annotations

import json

import pytest
from datasets import load_from_disk
from synth_setup import (  # noqa: F401
    ANCHOR,
    CURRENT,
    MAX_LENGTH,
    PLANTED_TOKENS,
    ScriptedModel,
    planted,
    planted_catalog,
    planted_extractor,
    targets_in,
)

from fac_datasets.catalog.spans import strip_peak_marks
from fac_datasets.config import GeneratorConfig, SynthesisConfig
from fac_datasets.errors import FacConfigError, FacInputError, FacModelError, FacSAEError
from fac_datasets.features.extractor import load_extractor
from fac_datasets.generation import load_generator
from fac_datasets.synthesis.api import synthesize

CONFIG = SynthesisConfig(samples_per_feature=2, candidates=3, calls_per_feature=8, patience=4)


def generator_for(chat_server, cache):
    config = GeneratorConfig(cache_dir=str(cache), concurrency=2, max_retries=0, backoff_seconds=0.01)
    return load_generator(f"openai:scripted@{chat_server.base_url}", config)


def run(chat_server, tmp_path, extractor, catalog, name="out", cache="cache", config=CONFIG, **kwargs):
    with generator_for(chat_server, tmp_path / cache) as generator:
        return synthesize(
            ANCHOR,
            CURRENT,
            "toxicity",
            extractor=extractor,
            generator=generator,
            catalog=catalog,
            config=config,
            out_dir=tmp_path / name,
            progress=False,
            **kwargs,
        )


def by_feature(result) -> dict:
    return {r.feature: r for r in result.features}


def test_fills_every_planted_feature_and_accepted_samples_recheck(
    chat_server, tmp_path, planted, planted_extractor, planted_catalog, tiny_model_dir
):
    # Only the second candidate fires: it is the good example, the first (silent) one the bad example.
    chat_server.reply_text = ScriptedModel(fires=lambda word, step, attempt: step == 2 or attempt == 2)
    result = run(chat_server, tmp_path, planted_extractor, planted_catalog)
    ids = planted.ids
    assert set(result.before.missing_ids) == set(ids.values()) and result.before.fac == 0.0
    assert result.after.fac == 1.0 and result.report["fac_after"]["fac"] == 1.0
    records = by_feature(result)
    for word, feature in ids.items():
        record = records[feature]
        assert (record.status, record.covered_by, record.accepted, record.calls) == ("covered", "own", 2, 4)
        assert (record.candidates, record.candidates_fired) == (3, 1)
        pair = record.pair
        assert pair["bad_fires"] is False and pair["fallback"] is False and pair["good_source"] == "candidate"
        assert f"<<{PLANTED_TOKENS[word].strip()}>>" in pair["good_marked"]  # the planted token, marked
        assert pair["bad"] in [r["query"] for r in result.dataset if not r["accepted"]]
    data = result.dataset
    assert data.column_names[:2] == ["query", "label"] and set(data["label"]) == {1}
    for column in ("target_feature", "feature_explanation", "activation", "step", "generator", "prompt_version"):
        assert column in data.column_names
    assert set(data["step"]) == {1, 2} and set(data["generator"]) == {f"openai:scripted@{chat_server.base_url}"}
    rejected = [row for row in data if not row["accepted"]]
    assert len(rejected) == 6 and {row["reject_reason"] for row in rejected} == {"target_not_fired"}

    # Independent re-check: a freshly loaded extractor agrees that every accepted sample fires its target.
    fresh = load_extractor(model=str(tiny_model_dir), sae=str(planted.sae_dir), max_length=MAX_LENGTH)
    accepted = result.accepted
    assert len(accepted) == 6
    for row, sample in zip(accepted, fresh.extract(accepted["sae_text"]), strict=True):
        assert row["target_feature"] in sample.features
        assert sample.activations[sample.features.index(row["target_feature"])] == pytest.approx(row["activation"])
        assert set(row["fired_missing"]) == {f for f in sample.features if f in ids.values()}

    out = tmp_path / "out"
    assert load_from_disk(str(out / "dataset")).to_list() == data.to_list()
    lines = (out / "samples.jsonl").read_text().splitlines()
    assert [json.loads(line)["query"] for line in lines] == data["query"]
    report = json.loads((out / "report.json").read_text())
    assert report["novelty"]["threshold"] == 0.5 and report["calls"]["total"] == 12
    assert report["fac_before"]["token_budget_fac"] == 0.0 and report["fac_after"]["token_budget_fac"] > 0
    assert [f["feature"] for f in report["features"]] == sorted(ids.values())  # anchor support, then id
    html = (out / "report.html").read_text()
    assert "FAC 0.0000 &rarr; 1.0000" in html and "data:image/png;base64," in html


def test_every_accepted_sample_counts_toward_every_missing_feature_it_fires(
    chat_server, tmp_path, planted, planted_extractor, planted_catalog
):
    # Samples written for "sea" also mention the shore: shore is filled before its turn, with no call of its own.
    chat_server.reply_text = ScriptedModel(extra=lambda word, step, attempt: "shore" if word == "sea" else None)
    result = run(chat_server, tmp_path, planted_extractor, planted_catalog)
    shore = by_feature(result)[planted.ids["shore"]]
    assert (shore.status, shore.covered_by, shore.calls, shore.support_before) == ("covered", "other", 0, 3)
    sea_rows = [r for r in result.dataset if r["target_feature"] == planted.ids["sea"]]
    assert all(planted.ids["shore"] in r["fired_missing"] for r in sea_rows)
    assert result.report["calls"]["total"] == 6 and result.after.fac == 1.0  # 3 candidates each for sea and dog


def test_fallback_pair_and_unresponsive_features(chat_server, tmp_path, planted, planted_extractor, planted_catalog):
    # No candidate ever fires; covered samples do, except for "dog", which never responds.
    chat_server.reply_text = ScriptedModel(fires=lambda word, step, attempt: step == 2 and word != "dog")
    result = run(chat_server, tmp_path, planted_extractor, planted_catalog)
    records = by_feature(result)
    sea, dog = records[planted.ids["sea"]], records[planted.ids["dog"]]
    assert sea.status == "covered" and sea.fallback and sea.pair["good_source"] == "catalog"
    assert "<<sea>>" in sea.pair["good_marked"] and sea.candidates_fired == 0
    step2 = [
        r["messages"][-1]["content"] for r in chat_server.requests if "Good example" in r["messages"][-1]["content"]
    ]
    shown = strip_peak_marks(sea.pair["good_marked"])  # prompts show the span unmarked, its peak named apart
    assert any("real data" in q and shown in q and 'strongly at "sea"' in q for q in step2)
    assert dog.status == "unresponsive" and dog.calls == CONFIG.patience and dog.accepted == 0
    assert result.after.n_covered == 2 and result.report["stop_reason"] == "all features visited"


def test_unparsable_answers_are_counted_and_retried_within_the_budget(
    chat_server, tmp_path, planted, planted_extractor, planted_catalog
):
    chat_server.reply_text = ScriptedModel(malformed=lambda word, step, attempt: attempt == 1)
    result = run(
        chat_server, tmp_path, planted_extractor, planted_catalog, config=CONFIG.model_copy(update={"budget": 5})
    )
    first, second, third = (by_feature(result)[planted.ids[w]] for w in ("sea", "shore", "dog"))
    assert (first.malformed, first.calls, first.candidates, first.accepted, first.status) == (1, 3, 2, 2, "covered")
    assert (second.calls, second.malformed, second.accepted, second.status) == (2, 1, 1, "budget_exhausted")
    assert third.status == "not_reached" and third.calls == 0
    report = result.report
    assert report["calls"]["total"] == 5 and report["stop_reason"] == "budget spent"
    assert report["samples"]["malformed"] == 2 and "Sorry" not in " ".join(result.dataset["query"])
    assert report["samples"]["malformed_by_cause"] == {"invalid_json": 2}
    assert first.malformed_by_cause == {"invalid_json": 1}
    assert chat_server.requests[0]["response_format"]["json_schema"]["schema"]["required"] == ["query"]

    # A larger budget continues the run: the feature the budget stopped is redone from the cache.
    requests = len(chat_server.requests)
    more = run(
        chat_server,
        tmp_path,
        planted_extractor,
        planted_catalog,
        config=CONFIG.model_copy(update={"budget": 20}),
        resume=True,
    )
    assert by_feature(more)[planted.ids["shore"]].status == "covered" and more.after.fac == 1.0
    asked = [r["messages"][-1]["content"] for r in chat_server.requests[requests:]]
    assert all(targets_in(q) != ["sea"] for q in asked)  # nothing of the finished feature is asked again
    assert len(set(asked)) == len(asked)


def test_target_fac_stops_the_run(chat_server, tmp_path, planted_extractor, planted_catalog):
    chat_server.reply_text = ScriptedModel()
    result = run(
        chat_server, tmp_path, planted_extractor, planted_catalog, config=CONFIG.model_copy(update={"target_fac": 0.6})
    )
    assert result.report["stop_reason"] == "target FAC reached"
    assert result.after.fac == pytest.approx(2 / 3)
    assert [r.status for r in result.features] == ["covered", "covered", "not_reached"]


def test_kill_and_resume_repeats_no_generator_call(chat_server, tmp_path, planted, planted_extractor, planted_catalog):
    chat_server.reply_text = ScriptedModel(fires=lambda word, step, attempt: step == 2 or attempt == 1)
    whole = run(chat_server, tmp_path, planted_extractor, planted_catalog, name="whole", cache="cache-whole")
    asked_whole = len(chat_server.requests)

    def kill_after_first(record):
        raise RuntimeError(f"killed after feature {record.feature}")

    with pytest.raises(RuntimeError, match="killed after feature"):
        run(chat_server, tmp_path, planted_extractor, planted_catalog, on_feature=kill_after_first)
    with pytest.raises(FacInputError, match="already holds a synthesis run"):
        run(chat_server, tmp_path, planted_extractor, planted_catalog)
    # Killed in the middle of the second feature: its step-2 calls fail, its step-1 answers are cached.
    dropped = []

    def drop_shore_step2(question, seen):
        if "Good example" in question and targets_in(question)[0] == "shore":
            dropped.append(question)
            return "drop"
        return "ok"

    chat_server.script = drop_shore_step2
    with pytest.raises(FacModelError, match="Every call of a round .* failed.*rerun with resume"):
        run(chat_server, tmp_path, planted_extractor, planted_catalog, resume=True)
    chat_server.script = lambda question, seen: "ok"
    resumed = run(chat_server, tmp_path, planted_extractor, planted_catalog, resume=True)

    answered = len(chat_server.requests) - asked_whole - len(dropped)
    assert dropped and answered == asked_whole  # every answered call was asked exactly once
    assert resumed.dataset.to_list() == whole.dataset.to_list()
    assert resumed.report["calls"]["total"] == whole.report["calls"]["total"]
    assert [r.to_dict() for r in resumed.features] == [r.to_dict() for r in whole.features]
    other = CONFIG.model_copy(update={"samples_per_feature": 1})
    with pytest.raises(FacInputError, match="other inputs or settings"):
        run(chat_server, tmp_path, planted_extractor, planted_catalog, config=other, resume=True)


def test_errors_name_the_input_and_the_fix(
    chat_server, tmp_path, planted, planted_extractor, planted_catalog, tiny_sae_dir
):
    with generator_for(chat_server, tmp_path / "cache") as generator:
        kwargs = {"extractor": planted_extractor, "generator": generator, "out_dir": tmp_path / "o", "progress": False}
        with pytest.raises(FacInputError, match="Got 0 anchor texts: at least one text needed"):
            synthesize([], CURRENT, "toxicity", **kwargs)
        with pytest.raises(FacConfigError, match="Unknown synthesis task 'poems'"):
            synthesize(ANCHOR, CURRENT, "poems", **kwargs)
    other = load_extractor(model=str(planted.model_dir), sae=str(tiny_sae_dir), max_length=MAX_LENGTH)
    with pytest.raises(FacSAEError, match="Catalog from another SAE"):
        run(chat_server, tmp_path, other, planted_catalog, name="o3")


def test_without_a_catalog_one_is_mined_and_relevance_falls_back_with_a_note(chat_server, tmp_path, planted_extractor):
    chat_server.reply_text = ScriptedModel()
    result = run(chat_server, tmp_path, planted_extractor, None, config=CONFIG.model_copy(update={"budget": 3}))
    assert any("anchor support >= 3" in note for note in result.report["notes"])
    assert result.report["relevance"].startswith("anchor support")
    assert (tmp_path / "out" / "catalog" / "catalog.json").is_file()
    assert result.report["calls"]["total"] == 3 and result.before.n_relevant > 3


@pytest.mark.parametrize("method", ["anchor-support", "enrichment"])
def test_an_explicit_relevance_method_works_next_to_the_catalog_the_run_shows_features_with(
    chat_server, tmp_path, planted_extractor, planted_catalog, method
):
    """A run always has a catalog (given or mined); asking for another method must not be refused for it."""
    from fac_datasets.config import RelevanceConfig
    from fac_datasets.synthesis.api import RelevanceChoice

    chat_server.reply_text = ScriptedModel()
    config = CONFIG.model_copy(update={"budget": 2})
    contrast = ["The committee met on Tuesday.", "Rain is expected tomorrow."] if method == "enrichment" else None
    relevance = RelevanceChoice(RelevanceConfig(method=method, min_z=0.0, min_support=1), contrast=contrast)
    result = run(chat_server, tmp_path, planted_extractor, planted_catalog, config=config, relevance=relevance)
    expected = "anchor support" if method == "anchor-support" else "features enriched"
    assert expected in result.report["relevance"], result.report["relevance"]


def test_co_targets_name_co_occurring_missing_features_in_one_prompt(
    chat_server, tmp_path, planted, planted_extractor, planted_catalog
):
    chat_server.reply_text = ScriptedModel(fires=lambda word, step, attempt: step == 2 or attempt == 1)
    config = CONFIG.model_copy(update={"co_targets": 1})
    result = run(chat_server, tmp_path, planted_extractor, planted_catalog, config=config)
    sea, shore = planted.ids["sea"], planted.ids["shore"]
    assert by_feature(result)[sea].co_targets == [shore]  # they share three anchor texts
    step2 = [r for r in result.dataset if r["step"] == 2 and r["target_feature"] in (sea, shore)]
    assert step2 and all(set(r["fired_missing"]) >= {sea, shore} for r in step2 if r["accepted"])
    asked = [
        r["messages"][-1]["content"] for r in chat_server.requests if "Good example" in r["messages"][-1]["content"]
    ]
    assert any("Feature 1:" in q and "Feature 2:" in q for q in asked)
    assert result.after.fac == 1.0
