"""Bad inputs to `fac push`: one clear line (exit 2), nothing changed locally, and nothing sent or written
on the Hub when the check is a local one."""

from __future__ import annotations

import socket

import pytest
from hub_inputs import snapshot
from mini_hub import TOKEN, Repo, hub_env


@pytest.fixture()
def endpoint(mini_hub, monkeypatch, tmp_path) -> list[str]:
    """For `fac push` in this process: the stand-in as --endpoint; offline mode off, no saved token."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-saved-token"))
    monkeypatch.delenv("HF_OIDC_RESOURCE", raising=False)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    return ["--endpoint", mini_hub.url]


# ------------------------------------------------------------------ local checks: no request at all
def test_no_token_fails_before_any_request(fac, endpoint, mini_hub, monkeypatch, synthesized_dir):
    monkeypatch.delenv("HF_TOKEN")
    before = snapshot(synthesized_dir)
    result = fac("push", synthesized_dir, *endpoint, "--repo", "tester/x")
    result.error_line("no token: set HF_TOKEN or pass --token")
    assert mini_hub.requests == [] and snapshot(synthesized_dir) == before


@pytest.mark.parametrize(
    ("repo", "fragment"),
    [
        ("just-a-name", "it must be 'owner/name'"),
        ("a/b/c", "it must be 'owner/name'"),
        ("owner/bad..name", "is not a valid Hub repo id"),
        ("owner/-name-", "is not a valid Hub repo id"),
    ],
)
def test_bad_repo_id_fails_before_any_request(fac, endpoint, mini_hub, catalog_dir, repo, fragment):
    result = fac("push", catalog_dir, *endpoint, "--repo", repo)
    result.error_line(f"--repo {repo!r}", fragment)
    assert mini_hub.requests == []


def test_unknown_folders_say_what_fac_push_publishes(fac, endpoint, mini_hub, tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("not a dataset")
    fac("push", tmp_path / "notes", *endpoint, "--repo", "tester/x").error_line("is none of what `fac push` publishes")
    fac("push", tmp_path / "missing", *endpoint, "--repo", "tester/x").error_line("no such folder")
    (tmp_path / "killed").mkdir()
    (tmp_path / "killed" / "state.json").write_text("{}")
    fac("push", tmp_path / "killed", *endpoint, "--repo", "tester/x").error_line("unfinished synthesis run")
    assert mini_hub.requests == []


def test_card_field_failing_validation_is_named_before_any_request(fac, endpoint, mini_hub, synthesized_dir):
    before = snapshot(synthesized_dir)
    result = fac("push", synthesized_dir, *endpoint, "--repo", "tester/x", "--license", "my-own-licence")
    result.error_line("card field 'license'", "my-own-licence", "--license")
    result = fac("push", synthesized_dir, *endpoint, "--repo", "tester/x", "--source-dataset", " ")
    result.error_line("card field 'source_datasets'")
    assert mini_hub.requests == [] and snapshot(synthesized_dir) == before


def test_offline_mode_is_a_clear_error(fac, endpoint, mini_hub, monkeypatch, catalog_dir):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    fac("push", catalog_dir, *endpoint, "--repo", "tester/x").error_line("HF_HUB_OFFLINE", "unset it")
    assert mini_hub.requests == []


def test_bad_exists_policy_is_a_config_error(fac, endpoint, catalog_dir):
    fac("push", catalog_dir, *endpoint, "--repo", "tester/x", "--exists", "overwrite").error_line("exists")


# ------------------------------------------------------------------ remote checks: nothing written
# `fac push` in a fresh interpreter against the stand-in (huggingface_hub reads HF_ENDPOINT at import).
def test_existing_repo_with_exists_fail_changes_nothing(fac, mini_hub, tmp_path, synthesized_dir):
    hub = hub_env(tmp_path, mini_hub.url)
    assert fac("push", synthesized_dir, "--repo", "tester/synth", process=True, env=hub).exit_code == 0
    repo = mini_hub.repo("dataset", "tester/synth")
    commits, files, before = list(repo.commits), dict(repo.files), snapshot(synthesized_dir)

    proc = fac("push", synthesized_dir, "--repo", "tester/synth", process=True, env=hub)  # --exists fail: default
    proc.error_line("tester/synth already exists", "--exists update")
    assert repo.commits == commits and repo.files == files and snapshot(synthesized_dir) == before


def test_update_never_replaces_a_card_fac_datasets_did_not_write(fac, mini_hub, tmp_path, catalog_dir):
    theirs = Repo(private=False)
    theirs.files["README.md"] = b"---\nlicense: mit\ntags:\n- curated\n---\n# Their own card\n"
    mini_hub.repos[("dataset", "tester/theirs")] = theirs
    push = ["push", catalog_dir, "--repo", "tester/theirs", "--exists", "update"]
    proc = fac(*push, process=True, env=hub_env(tmp_path, mini_hub.url))
    proc.error_line("a card fac-datasets did not write")
    assert theirs.files["README.md"].endswith(b"# Their own card\n") and len(theirs.commits) == 1


def test_card_field_rejected_by_the_hub_is_named_and_no_repo_is_created(fac, mini_hub, tmp_path, catalog_dir):
    mini_hub.card_rules = {"license": "must be one of [apache-2.0, mit, other]"}
    proc = fac("push", catalog_dir, "--repo", "tester/cat", process=True, env=hub_env(tmp_path, mini_hub.url))
    proc.error_line("the Hub rejected card field(s) 'license'", "nothing was uploaded")
    assert mini_hub.repo("dataset", "tester/cat") is None


def test_rejected_token_fails_before_any_write(fac, mini_hub, tmp_path, sae_dir):
    hub = hub_env(tmp_path, mini_hub.url, token="hf_not_a_valid_token")
    proc = fac("push", sae_dir, "--repo", "tester/sae", process=True, env=hub)
    proc.error_line("rejected the token (401)")
    assert mini_hub.repos == {}


def test_hub_down_is_a_clear_error(fac, sae_dir, tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    before = snapshot(sae_dir)
    proc = fac("push", sae_dir, "--repo", "tester/sae", process=True, env=hub_env(tmp_path, f"http://127.0.0.1:{port}"))
    proc.error_line("cannot reach the Hub", f"127.0.0.1:{port}")
    assert snapshot(sae_dir) == before
