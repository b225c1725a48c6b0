"""The review stage without a server: schemas, records and their ids, responses -> columns, agreement, errors."""

from __future__ import annotations

import json
import os

import pytest
from review_data import GENERATOR, TASK, build_catalog, free_ports, sample_rows, write_run

from fac_datasets.config import ArgillaConfig
from fac_datasets.constants import RELEVANT_LABELS, REVIEW_KEEP, REVIEW_REJECT_REASON, REVIEW_STATUS
from fac_datasets.errors import FacConfigError, FacInputError, FacServiceError
from fac_datasets.review.agreement import agreement_report, cohen_kappa, format_agreement
from fac_datasets.review.connection import check_server, resolve_endpoint
from fac_datasets.review.records import (
    agent_name,
    open_synthesized,
    relevance_records,
    sample_ids,
    sample_records,
)
from fac_datasets.review.responses import (
    Answer,
    PulledRecord,
    column,
    consensus,
    human_verdicts,
    keep_rows,
    response_columns,
)
from fac_datasets.review.schemas import differences, relevance_schema, review_schema, samples_schema
from fac_datasets.review.stack import ArgillaStack


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    return open_synthesized(write_run(tmp_path_factory.mktemp("run")))


@pytest.fixture(scope="module")
def catalog():
    return build_catalog()


# ------------------------------------------------------------------ schemas
def test_the_samples_schema_asks_the_three_questions_of_the_issue():
    schema = samples_schema(TASK)
    assert [f.name for f in schema.fields] == ["sample", "feature", "spans"]
    assert [(q.name, q.kind, q.values) for q in schema.questions] == [
        ("expresses_feature", "label", ("yes", "no")),
        ("quality", "rating", (1, 2, 3, 4, 5)),
        ("task_relevance", "label", ("yes", "no")),
    ]
    assert {"feature_id", "activation", "coverage_gain", "generator"} <= {m.name for m in schema.metadata}
    assert TASK in schema.question("task_relevance").title


def test_the_relevance_schema_uses_the_catalog_labels_and_spots_a_foreign_dataset():
    schema = relevance_schema(TASK, "Relevant: anything about following instructions.")
    assert schema.question("relevant").values == (*RELEVANT_LABELS, "no")
    assert "## The task" in schema.guidelines
    assert differences(schema, schema.describe()) == []
    other = samples_schema(TASK).describe()
    found = differences(schema, other)
    assert any("fields" in d for d in found) and any("questions" in d for d in found)
    changed = {**schema.describe(), "questions": {"relevant": ["yes", "no"]}}
    assert differences(schema, changed) == [
        "question relevant has values ['yes', 'no'] instead of " + str(["yes", "probably", "maybe", "no"])
    ]
    with pytest.raises(FacConfigError, match="Unknown review kind 'votes'"):
        review_schema("votes", TASK)


# ------------------------------------------------------------------ records
def test_sample_records_show_the_sample_feature_and_spans_with_both_suggestions(samples, catalog):
    records = sample_records(samples, catalog)
    assert [r.key for r in records] == [0, 1, 3, 4]  # accepted rows only; row 2 failed the SAE filter
    first = records[0]
    sample = "instruction:\nList four steps to clean a pan.\n\nresponse:\n1. Rinse. 2. Scrub. 3. Dry. 4. Oil."
    assert first.fields["sample"] == sample
    assert first.fields["feature"] == "Feature 11: numbered lists of steps\nPeaks most often on: steps (2)"
    assert first.fields["spans"] == "1. Give me the <<steps>> to set up\n2. as a <<numbered>> list of"
    sae, generator = first.suggestions
    assert (sae.question, sae.value, sae.agent, sae.score) == ("expresses_feature", "yes", "fac-sae", 0.625)
    assert (generator.question, generator.value, generator.agent) == ("task_relevance", "yes", agent_name(GENERATOR))
    assert first.metadata == {
        "feature_id": 11,
        "activation": 2.5,
        "coverage_gain": 2,
        "generator": GENERATOR,
        "sae_filter": "accepted",
    }
    assert records[3].fields["sample"] == "instruction:\nWrite a haiku about rain for kids."  # no response: left out
    assert records[3].suggestions[0].score == 1.0  # 3.0 above the catalog's max of 2.0: clipped
    everything = sample_records(samples, catalog, rows="all")
    rejected = next(r for r in everything if r.key == 2)
    assert rejected.suggestions[0].value == "no" and rejected.metadata["sae_filter"] == "target_not_fired"


def test_record_ids_are_stable_and_unique_whatever_is_pushed(samples, tmp_path):
    ids = sample_ids(samples)
    assert ids == sample_ids(open_synthesized(write_run(tmp_path / "again"))) and len(set(ids)) == len(ids)
    assert [r.id for r in sample_records(samples)] == [ids[i] for i in (0, 1, 3, 4)]
    rows = sample_rows()
    rows.append(dict(rows[0]))  # the same sample twice for the same feature
    twice = sample_ids(open_synthesized(write_run(tmp_path / "twice", rows)))
    assert twice[5] == f"{twice[0]}-2" and twice[:5] == ids


def test_a_generator_id_becomes_an_agent_argilla_accepts():
    assert agent_name("openai:gpt-4o@http://host:8000/v1") == "openai:gpt-4o-http://host:8000/v1"
    assert agent_name("@@@") == "generator" and len(agent_name("x" * 500)) == 200


def test_bad_sample_inputs_are_refused_with_the_reason(tmp_path, samples):
    from datasets import load_from_disk

    rows = sample_rows()
    rows[3]["instruction"], rows[3]["response"] = "", ""
    with pytest.raises(FacInputError, match=r"row\(s\) \[3\] have an empty sample"):
        sample_records(open_synthesized(write_run(tmp_path / "empty", rows)))
    plain = load_from_disk(str(write_run(tmp_path / "run") / "dataset")).remove_columns(["accepted", "activation"])
    plain.save_to_disk(str(tmp_path / "plain"))
    with pytest.raises(FacInputError, match=r"lacks the column\(s\) \['activation', 'accepted'\]"):
        open_synthesized(tmp_path / "plain")
    nothing = [dict(r, accepted=False) for r in sample_rows()]
    with pytest.raises(FacInputError, match="no accepted rows to review"):
        sample_records(open_synthesized(write_run(tmp_path / "none", nothing)))
    with pytest.raises(FacInputError, match="rows must be 'accepted' or 'all'"):
        sample_records(samples, rows="some")


def test_relevance_records_suggest_the_llm_over_enrichment(catalog):
    records = {r.key: r for r in relevance_records(catalog, TASK, catalog.feature_ids)}
    assert records[11].id == "feature-11"
    assert [(s.value, s.agent) for s in records[11].suggestions] == [("yes", "fac-enrichment")]
    assert [(s.value, s.agent) for s in records[13].suggestions] == [("maybe", "fac-llm")]
    assert records[13].fields["explanation"] == "Feature 13: (no explanation yet)"
    assert "verification_score" not in records[13].metadata and records[11].metadata["verification_score"] == 0.8
    assert relevance_records(catalog, "toxicity", [11])[0].suggestions == []  # never judged for that task
    with pytest.raises(FacInputError, match=r"Feature\(s\) \[99\] are not in the catalog"):
        relevance_records(catalog, TASK, [11, 99])


# ------------------------------------------------------------------ responses -> columns
def _pulled() -> dict[str, PulledRecord]:
    yes = {"expresses_feature": "yes", "quality": 4, "task_relevance": "yes"}
    sae_yes, no = {"expresses_feature": "yes"}, {"expresses_feature": "no"}
    records = [
        PulledRecord("a", sae_yes, [Answer("u1", "submitted", yes), Answer("u2", "submitted", yes)]),
        PulledRecord("b", sae_yes, [Answer("u1", "submitted", {**yes, "quality": 2})]),
        PulledRecord("c", sae_yes, [Answer("u1", "submitted", yes), Answer("u2", "submitted", {**yes, **no})]),
        PulledRecord("d", {}, [Answer("u1", "draft", yes)]),
        PulledRecord("e", {}, [Answer("u1", "discarded", {})]),
        PulledRecord("f", {}, [Answer("u1", "submitted", {**yes, "task_relevance": "no"})]),
    ]
    return {r.id: r for r in records}


def test_responses_become_columns_and_every_row_is_marked():
    schema = samples_schema(TASK)
    columns = response_columns(["a", "b", None, "c", "d", "e", "f"], _pulled(), schema)
    statuses = ["submitted", "submitted", "not_pushed", "submitted", "pending", "discarded", "submitted"]
    assert columns[REVIEW_STATUS] == statuses
    assert columns[column("quality")] == [4.0, 2.0, None, 4.0, None, None, 4.0]
    assert columns[column("expresses_feature")] == ["yes", "yes", None, None, None, None, "yes"]  # c: a tie
    assert columns[column("expresses_feature", True)][3] == ["yes", "no"]
    keep, reasons = keep_rows(columns, min_quality=3)
    assert keep == [True, False, False, False, False, False, False]
    assert reasons == [
        None,
        "quality below 3",
        "not pushed for review",
        "no majority on expresses_feature",
        "not reviewed yet",
        "discarded by reviewers",
        "does not fit the task",
    ]
    assert keep_rows(columns, min_quality=3, min_submitted=2)[1][1] == "fewer than 2 reviews"
    from datasets import Dataset, Features

    from fac_datasets.review.responses import column_features

    marked = {**columns, REVIEW_KEEP: keep, REVIEW_REJECT_REASON: reasons}
    typed = Dataset.from_dict(marked, Features(column_features(schema)))
    assert typed.features[column("quality", True)].feature.dtype == "int64"


def test_consensus_is_the_majority_label_or_the_mean_rating():
    schema = samples_schema(TASK)
    assert consensus(["yes", "no", "yes"], schema.question("expresses_feature")) == "yes"
    assert consensus(["yes", "no"], schema.question("expresses_feature")) is None
    assert consensus([], schema.question("expresses_feature")) is None
    assert consensus([2, 5], schema.question("quality")) == 3.5


def test_human_verdicts_take_the_majority_with_provenance_and_skip_ties():
    def said(user: str, label: str, status: str = "submitted") -> Answer:
        return Answer(user, status, {"relevant": label})

    records = [
        PulledRecord("feature-1", {}, [said("ann", "no"), said("bo", "no")]),
        PulledRecord("feature-2", {}, [said("ann", "yes"), said("bo", "no")]),
        PulledRecord("feature-3", {}, [said("ann", "yes", "draft")]),
        PulledRecord("feature-4", {}, [said("bo", "maybe")]),
        PulledRecord("stray", {}, [said("bo", "yes")]),
    ]
    keys = {"feature-1": 1, "feature-2": 2, "feature-3": 3, "feature-4": 4}
    verdicts, ties = human_verdicts(records, "relevant", keys, {"dataset": "fac/x"})
    assert ties == [2] and sorted(verdicts) == [1, 4]
    expected = {"decision": "no", "score": 1.0, "labels": {"no": 2}, "reviewers": ["ann", "bo"], "dataset": "fac/x"}
    assert verdicts[1] == expected
    assert verdicts[4]["decision"] == "maybe"


# ------------------------------------------------------------------ agreement
def test_agreement_counts_each_response_against_the_suggestion():
    report = agreement_report(list(_pulled().values()), samples_schema(TASK))
    entry = report["questions"]["expresses_feature"]
    # a: 2 yes, b: 1 yes, c: yes + no (suggested yes each); d is a draft, e/f have no suggestion
    assert (entry["pairs"], entry["agreed"], entry["rate"]) == (5, 4, 0.8)
    assert entry["confusion"] == {"yes": {"yes": 4, "no": 1}}
    assert entry["responses"] == 6 and entry["records_reviewed"] == 4 and entry["records_suggested"] == 3
    assert report["questions"]["quality"]["counts"] == {"1": 0, "2": 1, "3": 0, "4": 5, "5": 0}
    assert report["records"] == 6 and report["records_with_submitted_responses"] == 4
    assert "expresses_feature: agreed with the suggestion 4/5 (80%" in format_agreement(report)


def test_relevance_agreement_also_reads_relevant_vs_not():
    records = [
        PulledRecord("1", {"relevant": "yes"}, [Answer("a", "submitted", {"relevant": "probably"})]),
        PulledRecord("2", {"relevant": "no"}, [Answer("a", "submitted", {"relevant": "no"})]),
    ]
    entry = agreement_report(records, relevance_schema(TASK))["questions"]["relevant"]
    assert entry["rate"] == 0.5 and entry["relevant_vs_not"] == {"agreed": 2, "rate": 1.0, "kappa": 1.0}


def test_cohen_kappa():
    assert cohen_kappa([]) is None
    assert cohen_kappa([("yes", "yes"), ("no", "no")]) == 1.0
    assert cohen_kappa([("yes", "yes"), ("yes", "yes")]) is None  # chance agreement is total
    assert cohen_kappa([("yes", "no"), ("no", "yes")]) == -1.0


# ------------------------------------------------------------------ connection and stack without a server
def test_a_server_that_is_down_is_one_clear_line_and_nothing_is_read(fac, tmp_path):
    (port,) = free_ports(1)
    endpoint = resolve_endpoint(f"http://127.0.0.1:{port}/", "key")
    assert endpoint.url == f"http://127.0.0.1:{port}"
    with pytest.raises(FacServiceError, match=f"No Argilla server answers at http://127.0.0.1:{port}"):
        check_server(endpoint)
    run = write_run(tmp_path / "run")
    before = sorted(p.name for p in run.rglob("*"))
    result = fac("review", "push", "--kind", "samples", "--data", run, "--url", endpoint.url, "--api-key", "key")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1].startswith(f"error: No Argilla server answers at {endpoint.url}")
    assert sorted(p.name for p in run.rglob("*")) == before  # nothing local was touched


def test_the_endpoint_comes_from_options_then_environment_then_the_local_stack(tmp_path, monkeypatch):
    monkeypatch.delenv("ARGILLA_API_URL", raising=False)
    monkeypatch.delenv("ARGILLA_API_KEY", raising=False)
    config = ArgillaConfig(state_dir=str(tmp_path), port=7000)
    assert resolve_endpoint(config=config)[:2] == ("http://127.0.0.1:7000", config.owner_api_key)
    (tmp_path / "stack.json").write_text(json.dumps({"url": "http://127.0.0.1:7100", "api_key": "k2"}))
    assert resolve_endpoint(config=config)[:2] == ("http://127.0.0.1:7100", "k2")  # what the running stack says
    monkeypatch.setenv("ARGILLA_API_URL", "http://elsewhere:6900")
    with pytest.raises(FacConfigError, match="No API key for the Argilla server at http://elsewhere:6900"):
        resolve_endpoint(config=config)
    monkeypatch.setenv("ARGILLA_API_KEY", "k3")
    assert resolve_endpoint(config=config)[:2] == ("http://elsewhere:6900", "k3")
    assert resolve_endpoint("http://given:1", "k4", config)[:2] == ("http://given:1", "k4")


def test_status_and_down_without_a_stack_and_a_stale_pid_is_never_signalled(fac, tmp_path):
    stack = ArgillaStack(ArgillaConfig(state_dir=str(tmp_path)))
    assert stack.status().stopped and not stack.status().up and stack.down() == []
    stack.run_dir.mkdir(parents=True)
    # A pid file naming this very process, with another start time: a reused pid, not ours to kill.
    (stack.run_dir / "server.pid").write_text(json.dumps({"pid": os.getpid(), "start_time": 1}))
    assert not stack.status().components[2].running
    assert stack.down() == [] and not (stack.run_dir / "server.pid").exists()
    result = fac("argilla", "status", "--state-dir", str(tmp_path))
    assert result.exit_code == 1 and "stopped" in result.output and "down:" in result.output


def test_bad_review_options_are_one_clear_line(fac, tmp_path):
    result = fac("review", "push", "--kind", "votes")
    assert result.exit_code == 2 and "error: --kind 'votes'" in result.output
    result = fac("review", "pull", "--kind", "relevance", "--task", TASK)
    assert result.exit_code == 2 and "needs --catalog and --task" in result.output
    result = fac("review", "push", "--kind", "samples", "--data", str(tmp_path / "missing"))
    assert result.exit_code == 2 and "no such file or folder" in result.output
    with pytest.raises(FacConfigError, match="if_exists"):
        ArgillaConfig(if_exists="replace")


def test_a_missing_redis_server_is_installed_or_named_with_the_command(tmp_path, monkeypatch):
    from fac_datasets.review import install

    monkeypatch.setattr(install.shutil, "which", lambda name: None)
    with pytest.raises(FacServiceError, match=r"redis-server is not installed .* `sudo apt-get install redis-server`"):
        install.ensure_system_packages(False, tmp_path / "apt.log")
    monkeypatch.setattr(install.shutil, "which", lambda name: f"/usr/bin/{name}")
    install.ensure_system_packages(True, tmp_path / "apt.log")  # present: apt-get is not run
    assert not (tmp_path / "apt.log").exists()
