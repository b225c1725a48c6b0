"""Explanations, detection scoring, the relevance judge and the combining rule, against a real
local OpenAI-compatible server whose answers the test scripts (so every outcome is known)."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from helpers import CORPUS

from fac_datasets.catalog.catalog import FeatureCatalog
from fac_datasets.catalog.explain import explain_features, parse_explanation, top_tokens_line
from fac_datasets.catalog.judge import judge_features, parse_decision
from fac_datasets.catalog.prompts import explain_messages
from fac_datasets.catalog.relevance import record
from fac_datasets.catalog.spans import mine_spans
from fac_datasets.catalog.tasks import TASKS, load_guideline, task_name
from fac_datasets.catalog.verify import balanced_accuracy, unmarked, verify_features
from fac_datasets.config import GeneratorConfig, SpanConfig
from fac_datasets.errors import FacConfigError, FacInputError
from fac_datasets.features.extractor import load_extractor
from fac_datasets.generation import load_generator
from fac_datasets.relevance.rule import catalog_relevant

TEXTS = [*CORPUS, "Write a poem about the sea.", "Hi there, friend.", "The sea is calm tonight."]
SPANS = SpanConfig(top_n=4, window_before=3, window_after=1, random_per_feature=4, contrast_reservoir=8, shard_size=4)


@pytest.fixture(scope="module")
def catalog(tiny_model_dir, tiny_sae_dir, tmp_path_factory) -> FeatureCatalog:
    extractor = load_extractor(model=str(tiny_model_dir), sae=str(tiny_sae_dir), max_length=64)
    mined = mine_spans(extractor, TEXTS, tmp_path_factory.mktemp("spans"), SPANS, progress=False)
    return FeatureCatalog.from_spans(mined, mined.counts, extractor.provenance)


@pytest.fixture(scope="module")
def ids(catalog) -> list[int]:
    """Features whose explain prompt is unique, so a scripted answer can name the feature it explains."""
    prompts = {f: _explain_prompt(catalog.row(f)) for f in catalog.feature_ids}
    counts = Counter(prompts.values())
    unique = [f for f, prompt in prompts.items() if counts[prompt] == 1]
    assert len(unique) >= 12
    return unique


def _explain_prompt(row: dict) -> str:
    return explain_messages([s["text"] for s in row["top_spans"]], top_tokens_line(row, 5), 8)[-1]["content"]


def outcome(feature: int) -> str:
    """What the scripted model answers when asked to explain `feature`."""
    return ("explained", "explained", "cannot_tell", "malformed")[feature % 4]


def script_model(server, catalog: FeatureCatalog, inverted: set[int] = frozenset()) -> None:
    """Explain: by `outcome`; detect: the true activating excerpts (or their complement for
    `inverted` features); judge: yes for even features, no for odd, no decision for multiples of 3."""
    by_prompt = {_explain_prompt(catalog.row(f)): f for f in catalog.feature_ids}

    def reply(body: dict, question: str) -> str:
        system = body["messages"][0]["content"]
        if "Say in one short phrase" in system:
            feature = by_prompt[question]
            return {
                "explained": f"Explanation: feature {feature} fires here.",
                "cannot_tell": "Cannot tell",
                "malformed": "???",
            }[outcome(feature)]
        if "List the numbers" in system:
            feature = int(re.search(r"feature (\d+)", question).group(1))
            row = catalog.row(feature)
            firing = {unmarked(s["text"]) for s in row["top_spans"] + row["random_spans"]}
            excerpts = re.findall(r"^(\d+)\. (.*)$", question, re.M)
            picked = [n for n, text in excerpts if (text in firing) != (feature in inverted)]
            return "Matching: " + (", ".join(picked) or "none")
        named = re.search(r"description: feature (\d+)", question)
        feature = int(named.group(1)) if named else None
        if feature is None or feature % 3 == 0:
            return "I am not sure what to say."
        return f"The excerpts are about the sea.\nFinal decision: {'yes' if feature % 2 == 0 else 'no'}"

    server.reply_text = reply


@pytest.fixture()
def generator(chat_server, tmp_path):
    config = GeneratorConfig(cache_dir=str(tmp_path), concurrency=2, backoff_seconds=0.01)
    return load_generator(f"openai:scripted@{chat_server.base_url}", config)


def test_explanations_outcomes_are_counted_and_kept_with_provenance(catalog, ids, chat_server, generator):
    script_model(chat_server, catalog)
    explained, stats = explain_features(catalog, generator, ids)
    expected = {name: sum(outcome(f) == name for f in ids) for name in ("explained", "cannot_tell", "malformed")}
    assert (stats.explained, stats.cannot_tell, stats.malformed) == tuple(expected.values())
    assert min(expected.values()) > 0 and stats.failed_calls == 0
    for feature in ids:
        row = explained.row(feature)
        assert row["explainer"]["outcome"] == outcome(feature)
        assert row["explainer"]["prompt_version"] == "explain-v1" and row["explainer"]["model"].startswith("openai:")
        if outcome(feature) == "explained":
            assert row["explanation"] == f"feature {feature} fires here."  # the whole line, periods and all
        else:
            assert row["explanation"] is None
    requests = len(chat_server.requests)
    again, _ = explain_features(catalog, generator, ids)
    assert len(chat_server.requests) == requests and generator.stats.cache_hits == len(ids)
    assert again.dataset.to_list() == explained.dataset.to_list()


def test_detection_scores_are_balanced_accuracies(catalog, ids, chat_server, generator):
    explained_ids = [f for f in ids if outcome(f) == "explained"]
    inverted = set(explained_ids[::2])
    script_model(chat_server, catalog, inverted)
    explained, _ = explain_features(catalog, generator, ids)
    verified, stats = verify_features(explained, generator, ids)
    scored = {f: explained.row(f) for f in explained_ids if explained.row(f)["contrast_spans"]}
    assert stats.scored == len(scored) > 0
    assert stats.skipped == len(ids) - len(scored)  # unexplained features, or no contrast excerpts
    for feature in scored:
        score = verified.row(feature)["verification_score"]
        assert score == (0.0 if feature in inverted else 1.0)
    assert balanced_accuracy({1, 3}, {1, 2}, 4) == pytest.approx(0.5)


def test_judge_decisions_and_the_combining_rule(catalog, ids, chat_server, generator):
    script_model(chat_server, catalog)
    explained, _ = explain_features(catalog, generator, ids)
    judged, stats = judge_features(explained, generator, load_guideline("toxicity"), ids)
    asked = [f for f in ids if outcome(f) == "explained"]
    decidable = [f for f in asked if f % 3]
    assert set(judged) == set(decidable) and stats.judged == len(decidable)
    assert stats.malformed == len(ids) - len(decidable)  # no decision, or no feature named to judge
    assert all(judged[f]["decision"] == ("yes" if f % 2 == 0 else "no") for f in decidable)
    assert all(judged[f]["analysis"] == "The excerpts are about the sea." for f in decidable)

    everything = {f: {"decision": "yes", "score": 4.2} for f in catalog.feature_ids}
    with_stats = record(catalog, "toxicity", "enrichment", everything)
    assert catalog_relevant(with_stats, "toxicity") == catalog.feature_ids
    with_llm = record(with_stats, "toxicity", "llm", judged)
    vetoed = sorted(f for f in decidable if f % 2)
    assert catalog_relevant(with_llm, "toxicity") == sorted(set(catalog.feature_ids) - set(vetoed))
    human = record(with_llm, "toxicity", "human", {vetoed[0]: {"decision": "probably", "annotator": "a"}})
    assert vetoed[0] in catalog_relevant(human, "toxicity")
    entry = human.row(vetoed[0])["relevance"]["toxicity"]
    assert entry["method"] == "human" and set(entry["sources"]) == {"human", "llm", "enrichment"}
    with pytest.raises(FacInputError, match="no relevance for task 'helpfulness'.*tasks in this catalog: toxicity"):
        catalog_relevant(human, "helpfulness")
    with pytest.raises(FacInputError, match="decision must be one of"):
        record(catalog, "toxicity", "llm", {catalog.feature_ids[0]: {"decision": "sure"}})


def test_parsers_of_free_text_answers():
    assert parse_explanation("Explanation: U.S. states and their capitals.").value == "U.S. states and their capitals."
    assert parse_explanation('  **Explanation:** "polite requests"').value == "polite requests"
    assert parse_explanation("Cannot tell.").value == ""
    assert not parse_explanation("").ok and not parse_explanation("??").ok
    assert parse_decision("Analysis: violent.\nFinal Decision: [[ Probably ]]").value["decision"] == "probably"
    assert parse_decision("It is relevant.\nyes").value == {"decision": "yes", "analysis": "It is relevant.\nyes"}
    assert not parse_decision("Final decision: unclear").ok


def test_tasks_and_guidelines(tmp_path):
    for task in TASKS:
        assert len(load_guideline(task)) > 200
    assert task_name("reward_modeling") == "helpfulness"
    with pytest.raises(FacConfigError, match="Unknown task 'poetry'; built-in tasks: toxicity, .*--guideline FILE"):
        load_guideline("poetry")
    custom = tmp_path / "poetry.md"
    custom.write_text("Features about rhyme and metre are relevant.")
    assert load_guideline("poetry", custom).startswith("Features about rhyme")
    (tmp_path / "empty.md").write_text(" ")
    with pytest.raises(FacInputError, match="empty.md is empty"):
        load_guideline("poetry", tmp_path / "empty.md")


def test_fac_interpret_builds_explains_and_resumes(fac, tmp_path, tiny, chat_server, monkeypatch):
    import json

    monkeypatch.setenv("FAC_DATASETS_CACHE", str(tmp_path / "cache"))
    chat_server.reply_text = lambda body, question: (
        "Explanation: sea words" if "Say in one short phrase" in body["messages"][0]["content"] else "Matching: 1"
    )
    data = tmp_path / "corpus.jsonl"
    data.write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS))
    args = ["interpret", "--corpus", data, "--out", tmp_path / "cat", *tiny.args]
    args += ["--generator", f"openai:scripted@{chat_server.base_url}", "--features", "top:5"]
    result = fac(*args)
    assert result.exit_code == 0, result.output
    catalog = FeatureCatalog.load(tmp_path / "cat")
    explained = [f for f in catalog.feature_ids if catalog.row(f)["explanation"] == "sea words"]
    assert len(explained) == 5
    assert all(catalog.row(f)["verification_score"] is not None for f in explained if catalog.row(f)["contrast_spans"])
    requests = len(chat_server.requests)
    again = fac(*args)  # spans from the shards on disk, answers from the cache
    assert again.exit_code == 0, again.output
    assert len(chat_server.requests) == requests
    assert '"calls": 0' in again.output
    bad = fac(*args[:-1], "top:x")
    assert bad.exit_code == 2 and "--features top:N needs a whole number" in bad.output


def test_fac_relevance_enrichment_then_judge(fac, tmp_path, tiny, chat_server, monkeypatch):
    import json

    from fac_datasets.relevance.rule import relevance_entries

    monkeypatch.setenv("FAC_DATASETS_CACHE", str(tmp_path / "cache"))
    anchor, contrast = tmp_path / "anchor.jsonl", tmp_path / "contrast.jsonl"
    anchor.write_text("".join(json.dumps({"text": t}) + "\n" for t in [*TEXTS, *TEXTS]))
    contrast.write_text("".join(json.dumps({"text": t}) + "\n" for t in ["Hi", "Hello there", "Yes."] * 3))
    built = fac("interpret", "--corpus", anchor, "--out", tmp_path / "cat", *tiny.args)
    assert built.exit_code == 0, built.output
    common = ["relevance", "--catalog", tmp_path / "cat", "--anchor", anchor, "--task", "toxicity", *tiny.args]
    enriched = fac(*common, "--contrast", contrast, "--min-z", "1", "--min-support", "2")
    assert enriched.exit_code == 0, enriched.output
    summary = json.loads(enriched.output[enriched.output.index("{") :])
    assert summary["relevant"] == summary["enrichment"]["in_catalog"] > 0
    chat_server.reply_text = lambda body, question: "Analysis: not about harm.\nFinal decision: no"
    judged = fac(
        *common, "--method", "all", "--contrast", contrast, "--min-z", "1", "--min-support", "2",
        "--generator", f"openai:scripted@{chat_server.base_url}",
    )  # fmt: skip
    assert judged.exit_code == 0, judged.output
    after = json.loads(judged.output[judged.output.index("{") :])
    assert after["llm"]["judged"] == summary["relevant"] and after["relevant"] == 0  # the judge vetoed them all
    entries = relevance_entries(FeatureCatalog.load(tmp_path / "cat"))
    vetoed = [e["toxicity"] for e in entries.values() if e["toxicity"]["method"] == "llm"]
    assert len(vetoed) == summary["relevant"] and all(v["sources"]["enrichment"]["decision"] == "yes" for v in vetoed)
    unknown = fac(*common[:5], "--task", "poetry", "--method", "llm", *tiny.args)
    assert unknown.exit_code == 2 and "Unknown task 'poetry'" in unknown.output

    # Coverage over the catalog's relevant features: after the veto nothing is relevant, an error saying so;
    # then a human label makes two features relevant again, and the report explains the missing ones.
    from fac_datasets.catalog.relevance import record

    cat = FeatureCatalog.load(tmp_path / "cat")
    rescued = sorted(f for f, e in entries.items() if e["toxicity"]["method"] == "llm")[:2]
    record(cat, "toxicity", "human", {f: {"decision": "yes"} for f in rescued}).save(tmp_path / "cat")
    current = tmp_path / "current.jsonl"
    current.write_text(json.dumps({"text": "Hi"}) + "\n")
    coverage = fac(
        "coverage", "--anchor", anchor, "--current", current, "--out", tmp_path / "report",
        "--catalog", tmp_path / "cat", "--task", "toxicity", "--json", *tiny.args,
    )  # fmt: skip
    assert coverage.exit_code == 0, coverage.output
    report = json.loads(coverage.output[coverage.output.index('{\n  "fac"') :])
    assert report["n_relevant"] == 2 and "relevant to 'toxicity' in the catalog" in report["relevance"]
    assert set(map(int, report["missing_details"])) == {m["feature"] for m in report["missing"]}
    html = (tmp_path / "report" / "coverage.html").read_text()
    assert "peak tokens" in html and "\u00ab" in html
    wrong = fac(
        "coverage", "--anchor", anchor, "--current", current, "--out", tmp_path / "r2", "--catalog", tmp_path / "cat",
        *tiny.args,
    )  # fmt: skip
    assert wrong.exit_code == 2 and "--catalog needs --task" in wrong.output
