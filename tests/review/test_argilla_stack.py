"""Review against the real local Argilla stack: push, answer as the web UI does, pull, see it in Chromium.

The stack (argilla-server 2.8 + SQLite, redis, osmem, one worker) is started once per session by
`argilla_stack` and stopped at the end. Each test uses its own dataset, so they run in any order.
"""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest
from argilla_reviewers import Reviewer, add_annotator
from review_data import ARTIFACTS, TASK, build_catalog, free_ports, sample_rows, write_run

from fac_datasets.catalog.catalog import FeatureCatalog
from fac_datasets.config import ArgillaConfig
from fac_datasets.errors import FacServiceError
from fac_datasets.relevance.rule import catalog_relevant
from fac_datasets.review.push import find_dataset
from fac_datasets.review.records import open_synthesized, sample_records
from fac_datasets.review.stack import ArgillaStack

pytestmark = pytest.mark.slow
WORKSPACE = "fac"


@pytest.fixture()
def server(argilla_stack) -> list[str]:
    """The test stack as `fac review` options (as a user would give them)."""
    return ["--url", argilla_stack.url, "--api-key", argilla_stack.api_key, "--workspace", WORKSPACE]


def server_records(client, name: str) -> list:
    return list(find_dataset(client, name, WORKSPACE).records(with_suggestions=True, with_responses=True))


def dataset_id(client, name: str) -> str:
    return str(find_dataset(client, name, WORKSPACE).id)


def test_the_stack_is_healthy_and_records_its_processes(fac, argilla_stack):
    status = argilla_stack.status()
    assert status.up, status.to_dict()
    for component in status.components:
        assert component.pid and component.log.is_file(), component
    result = fac("argilla", "status", "--state-dir", argilla_stack.state_dir, "--json")
    assert result.exit_code == 0 and json.loads(result.output)["up"] is True


def test_push_pull_samples_with_responses_from_the_ui_api(fac, server, argilla_stack, owner_client, tmp_path):
    run = write_run(tmp_path / "run")
    catalog_dir = build_catalog().save(tmp_path / "catalog")
    name = "samples-roundtrip"
    push = ["review", "push", "--kind", "samples", "--data", str(run), "--catalog", str(catalog_dir)]
    first = fac(*push, "--dataset", name, *server)
    assert first.exit_code == 0, first.output
    assert "created fac/samples-roundtrip: 4 records (4 new, 0 updated)" in first.output
    again = fac(*push, "--dataset", name, *server)  # same ids: updated in place, never duplicated
    assert again.exit_code == 0 and "4 records (0 new, 4 updated)" in again.output, again.output
    records = {r.id: r for r in server_records(owner_client, name)}
    expected = sample_records(open_synthesized(run), FeatureCatalog.load(catalog_dir))
    assert set(records) == {r.id for r in expected}
    first_record = records[expected[0].id]
    assert first_record.fields["sample"].startswith("instruction:\nList four steps")
    assert "<<steps>>" in first_record.fields["spans"]
    assert first_record.metadata["feature_id"] == 11 and first_record.metadata["coverage_gain"] == 2
    assert first_record.suggestions["expresses_feature"].value == "yes"
    assert first_record.suggestions["expresses_feature"].score == pytest.approx(2.5 / 4.0)  # activation / its max
    assert first_record.suggestions["task_relevance"].agent == "openai:tiny-http://127.0.0.1:9"

    # Two reviewers answer through the HTTP API the annotation page uses (token login, queue search, responses).
    add_annotator(owner_client, "alice", WORKSPACE)
    add_annotator(owner_client, "bob", WORKSPACE)
    by_row = {r.key: r.id for r in expected}  # rows 0, 1, 3, 4 were accepted and pushed
    alice, bob = Reviewer(argilla_stack.url, "alice"), Reviewer(argilla_stack.url, "bob")
    try:
        queue = alice.queue(dataset_id(owner_client, name))
        assert set(queue) == set(by_row.values())
        yes = {"expresses_feature": "yes", "quality": 4, "task_relevance": "yes"}
        alice.answer(queue[by_row[0]], yes)
        alice.answer(queue[by_row[1]], {**yes, "quality": 2})  # too low: rejected
        alice.answer(queue[by_row[3]], {**yes, "expresses_feature": "no"})  # the SAE said yes
        alice.answer(queue[by_row[4]], yes, status="draft")  # unfinished: does not count
        bob.answer(bob.queue(dataset_id(owner_client, name))[by_row[0]], {**yes, "quality": 5})
    finally:
        alice.close()
        bob.close()

    out = tmp_path / "pulled"
    pull = ["review", "pull", "--kind", "samples", "--data", str(run), "--out", str(out), "--dataset", name]
    pulled = fac(*pull, *server)
    assert pulled.exit_code == 0, pulled.output
    assert "1/5 rows kept" in pulled.output
    from datasets import load_from_disk

    reviewed = load_from_disk(str(out / "reviewed"))
    assert len(reviewed) == 5  # every local row, marked: nothing dropped
    assert reviewed["keep_row_after_review"] == [True, False, False, False, False]
    assert reviewed["review_reject_reason"] == [
        None,
        "quality below 3",
        "not pushed for review",  # row 2 failed the SAE filter and was not pushed
        "does not express the feature",
        "not reviewed yet",
    ]
    assert reviewed["review_status"] == ["submitted", "submitted", "not_pushed", "submitted", "pending"]
    assert reviewed["review_quality"][0] == 4.5 and reviewed["review_quality_responses"][0] == [4, 5]
    assert reviewed["review_n_responses"] == [2, 1, 0, 1, 0]
    assert reviewed["instruction"] == [r["instruction"] for r in sample_rows()]  # the data itself is untouched
    accepted = load_from_disk(str(out / "accepted"))
    assert accepted["instruction"] == ["List four steps to clean a pan."]

    report = json.loads((out / "agreement.json").read_text())["agreement"]["questions"]
    assert report["expresses_feature"]["pairs"] == 4 and report["expresses_feature"]["agreed"] == 3
    assert report["expresses_feature"]["confusion"] == {"yes": {"yes": 3, "no": 1}}
    assert report["task_relevance"]["agreed"] == 4 and report["quality"]["counts"]["4"] == 2
    assert "expresses_feature: agreed with the suggestion 3/4" in pulled.output


def test_relevance_labels_update_the_catalog_with_provenance(fac, server, argilla_stack, owner_client, tmp_path):
    catalog_dir = build_catalog().save(tmp_path / "catalog")
    assert catalog_relevant(FeatureCatalog.load(catalog_dir), TASK) == [11, 12, 13]
    name = "relevance-roundtrip"
    common = ["--catalog", str(catalog_dir), "--task", TASK, "--dataset", name]
    pushed = fac("review", "push", "--kind", "relevance", "--features", "all", *common, *server)
    assert pushed.exit_code == 0 and "4 records (4 new" in pushed.output, pushed.output
    records = {r.id: r for r in server_records(owner_client, name)}
    assert records["feature-13"].suggestions["relevant"].value == "maybe"  # the LLM judge over enrichment
    assert records["feature-13"].suggestions["relevant"].agent == "fac-llm"
    assert records["feature-11"].suggestions["relevant"].value == "yes"  # enrichment only
    assert records["feature-11"].metadata["suggested_by"] == "enrichment"

    add_annotator(owner_client, "carol", WORKSPACE)
    add_annotator(owner_client, "dave", WORKSPACE)
    carol, dave = Reviewer(argilla_stack.url, "carol"), Reviewer(argilla_stack.url, "dave")
    try:
        ds_id = dataset_id(owner_client, name)
        queue_c, queue_d = carol.queue(ds_id), dave.queue(ds_id)
        carol.answer(queue_c["feature-11"], {"relevant": "no"})
        dave.answer(queue_d["feature-11"], {"relevant": "no"})
        carol.answer(queue_c["feature-14"], {"relevant": "probably"})
        carol.answer(queue_c["feature-13"], {"relevant": "yes"})
        dave.answer(queue_d["feature-13"], {"relevant": "no"})  # a tie: no label recorded
        dave.answer(queue_d["feature-12"], {}, status="discarded")
    finally:
        carol.close()
        dave.close()

    report = tmp_path / "agreement.json"
    pulled = fac("review", "pull", "--kind", "relevance", *common, "--report", str(report), *server)
    assert pulled.exit_code == 0, pulled.output
    assert "human labels for 2 features" in pulled.output and "tied on [13]" in pulled.output
    updated = FeatureCatalog.load(catalog_dir)
    assert catalog_relevant(updated, TASK) == [12, 13, 14]  # 11 vetoed, 14 added by humans
    verdict = updated.row(11)["relevance"][TASK]
    assert verdict["method"] == "human" and verdict["decision"] == "no" and not verdict["relevant"]
    human = verdict["sources"]["human"]
    assert human["reviewers"] == ["carol", "dave"] and human["labels"] == {"no": 2} and human["score"] == 1.0
    assert human["dataset"] == f"{WORKSPACE}/{name}" and human["server"] == argilla_stack.url
    assert verdict["sources"]["enrichment"]["decision"] == "yes"  # earlier sources are kept
    assert updated.row(13)["relevance"][TASK]["method"] == "llm"  # the tie left the LLM's decision
    agreement = json.loads(report.read_text())["agreement"]["questions"]["relevant"]
    assert agreement["pairs"] == 5 and agreement["agreed"] == 0
    assert agreement["confusion"] == {"yes": {"no": 2}, "maybe": {"yes": 1, "no": 1}, "no": {"probably": 1}}


def test_a_pushed_record_is_visible_in_the_web_ui(argilla_stack, owner_client, tmp_path, record_property):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from fac_datasets.review.push import push_records
    from fac_datasets.review.schemas import samples_schema

    samples = open_synthesized(write_run(tmp_path / "run"))
    records = sample_records(samples, build_catalog())
    for record in records:  # a peak token that reads as an HTML tag (17.3: "jlLkz<<b>>HYOy" showed as "jlLkz<>HYOy")
        first_span = record.fields["spans"].split("\n", 1)[0]  # e.g. "1. Give me the <<steps>> to set up"
        record.fields["spans"] = "1. jlLkz<<b>>HYOy\n" + first_span.replace("1.", "2.", 1)
    result = push_records(owner_client, samples_schema(TASK), records, "ui-check", ArgillaConfig(workspace=WORKSPACE))
    add_annotator(owner_client, "erin", WORKSPACE)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "argilla_annotation_page.png"
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
    try:
        wait = WebDriverWait(driver, 60)
        driver.get(f"{argilla_stack.url}/sign-in")
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "input")) >= 2)
        time.sleep(2)  # the single-page app hydrates after the inputs appear
        username, password = driver.find_elements(By.CSS_SELECTOR, "input")[:2]
        username.send_keys("erin")
        password.send_keys("annot-pass-123")
        next(b for b in driver.find_elements(By.TAG_NAME, "button") if b.text.strip() == "Sign in").click()
        wait.until(lambda d: "sign-in" not in d.current_url)
        driver.get(result.annotation_url)
        wait.until(lambda d: "Does the sample express this feature?" in d.find_element(By.TAG_NAME, "body").text)
        time.sleep(1)
        body = driver.find_element(By.TAG_NAME, "body").text
        driver.save_screenshot(str(shot))
    except Exception:
        driver.save_screenshot(str(ARTIFACTS / "argilla_ui_failure.png"))
        raise
    finally:
        driver.quit()
    record_property("screenshot", str(shot))
    print(f"UI screenshot: {shot}")
    assert "Does the sample express this feature?" in body
    assert any(r.fields["sample"].splitlines()[1] in body for r in sample_records(samples)), body[:2000]
    assert "jlLkz<<b>>HYOy" in body, body[:2000]  # the peak token is visible, with its marks
    catalog_spans = ("Give me the <<steps>> to set up", "explain it like I am <<five>>", "waves of the <<sea>> crash")
    assert any(span in body for span in catalog_spans), body[:2000]
    assert shot.stat().st_size > 10_000


# ------------------------------------------------------------------ bad inputs, each one clear line
def test_a_wrong_api_key_is_refused_before_anything_is_read(fac, argilla_stack, tmp_path):
    run = write_run(tmp_path / "run")
    push = ["review", "push", "--kind", "samples", "--data", str(run)]
    result = fac(*push, "--url", argilla_stack.url, "--api-key", "nope")
    result.error_line(f"The Argilla server at {argilla_stack.url} refused the API key (HTTP 401)")


def test_an_existing_dataset_is_updated_or_refused_as_asked(fac, server, argilla_stack, owner_client, tmp_path):
    run = write_run(tmp_path / "run")
    push = ["review", "push", "--kind", "samples", "--data", str(run), "--dataset", "exists"]
    assert fac(*push, *server).exit_code == 0
    refused = fac(*push, "--if-exists", "fail", *server)
    refused.error_line("fac/exists already exists", "if_exists is 'fail'", "Nothing was pushed")
    catalog_dir = build_catalog().save(tmp_path / "catalog")
    other = ["review", "push", "--kind", "relevance", "--catalog", str(catalog_dir), "--task", TASK]
    mismatch = fac(*other, "--dataset", "exists", *server)
    mismatch.error_line("exists with another schema", "not a relevance review", "Nothing was pushed")
    assert len(server_records(owner_client, "exists")) == 4  # untouched by the refused pushes


def test_a_bad_field_is_refused_before_the_server_is_touched(fac, server, argilla_stack, owner_client, tmp_path):
    rows = sample_rows()
    rows[1]["instruction"], rows[1]["response"] = "  ", None
    empty = write_run(tmp_path / "empty", rows)
    result = fac("review", "push", "--kind", "samples", "--data", str(empty), "--dataset", "bad-field", *server)
    result.error_line("row(s) [1] have an empty sample", "Nothing was pushed")
    from datasets import load_from_disk

    no_target = load_from_disk(str(write_run(tmp_path / "run") / "dataset")).remove_columns("target_feature")
    no_target.save_to_disk(str(tmp_path / "no_target"))
    push = ["review", "push", "--kind", "samples", "--data", str(tmp_path / "no_target"), "--task", TASK]
    result = fac(*push, *server)
    result.error_line("lacks the column(s) ['target_feature']", "Nothing was pushed")
    assert find_dataset(owner_client, "bad-field", WORKSPACE) is None
    assert (empty / "dataset").is_dir()  # the local data is untouched


def test_pulling_a_dataset_that_was_never_pushed_says_so(fac, server, argilla_stack, tmp_path):
    run = write_run(tmp_path / "run")
    result = fac(
        "review",
        "pull",
        "--kind",
        "samples",
        "--data",
        str(run),
        "--out",
        str(tmp_path / "o"),
        "--dataset",
        "never-pushed",
        *server,
    )
    result.error_line("No Argilla dataset fac/never-pushed", "push it first")
    assert not (tmp_path / "o").exists()


def test_a_taken_port_and_a_failing_component_are_named_and_nothing_is_left(tmp_path, monkeypatch):
    import socket

    from fac_datasets.review import stack as stack_module

    port, search_port, redis_port = free_ports(3)
    config = ArgillaConfig(state_dir=str(tmp_path / "state"), port=port, search_port=search_port, redis_port=redis_port)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", redis_port))
        busy.listen()
        with pytest.raises(FacServiceError, match=f"Port {redis_port} on 127.0.0.1 for redis-server .* is taken"):
            ArgillaStack(config).up()
    assert not list((tmp_path / "state" / "run").glob("*.pid"))  # nothing was started

    real_which = shutil.which  # a redis-server that exits at once (code 1)
    fake = {"redis-server": "/bin/false"}
    monkeypatch.setattr(stack_module.shutil, "which", lambda cmd: fake.get(cmd) or real_which(cmd))
    stack = ArgillaStack(config)
    with pytest.raises(FacServiceError, match=r"redis-server \(job queue\) exited with code 1; see .*redis\.log"):
        stack.up()
    assert stack.status().stopped and not list(stack.run_dir.glob("*.pid"))
    assert "=== " in (stack.run_dir / "search.log").read_text()  # osmem was started, and stopped when redis failed
    assert not [p for p in os.listdir("/proc") if p.isdigit() and _cmdline_has(int(p), f"127.0.0.1:{search_port}")]


def _cmdline_has(pid: int, needle: str) -> bool:
    try:
        return needle in open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
