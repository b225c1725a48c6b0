"""Bad inputs to `fac push`: one clear line (exit 2), nothing changed locally, and nothing sent or written
on the Hub when the check is a local one."""

from __future__ import annotations

import socket

import pytest
from hub_inputs import snapshot
from mini_hub import TOKEN, Repo
from typer.testing import CliRunner

from fac_datasets.cli import app


@pytest.fixture()
def local_push(mini_hub, monkeypatch, tmp_path):
    """`fac push` in this process with the stand-in as --endpoint; offline mode off, no saved token."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-saved-token"))
    monkeypatch.delenv("HF_OIDC_RESOURCE", raising=False)
    monkeypatch.setenv("HF_TOKEN", TOKEN)

    def run(folder, *args: str):
        return CliRunner().invoke(app, ["push", str(folder), "--endpoint", mini_hub.url, *args])

    return run


def assert_one_clear_line(result, *fragments: str) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit), result.output
    message = result.output.strip().splitlines()[-1]
    assert message.startswith("error: "), result.output
    for fragment in fragments:
        assert fragment in message, message
    return message


def assert_failed_in_subprocess(proc, *fragments: str) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr[-3000:]
    message = proc.stderr.strip().splitlines()[-1]
    assert message.startswith("error: ") and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    for fragment in fragments:
        assert fragment in message, message
    return message


# ------------------------------------------------------------------ local checks: no request at all
def test_no_token_fails_before_any_request(local_push, mini_hub, monkeypatch, synthesized_dir):
    monkeypatch.delenv("HF_TOKEN")
    before = snapshot(synthesized_dir)
    result = local_push(synthesized_dir, "--repo", "tester/x")
    assert_one_clear_line(result, "no token: set HF_TOKEN or pass --token")
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
def test_bad_repo_id_fails_before_any_request(local_push, mini_hub, catalog_dir, repo, fragment):
    result = local_push(catalog_dir, "--repo", repo)
    assert_one_clear_line(result, f"--repo {repo!r}", fragment)
    assert mini_hub.requests == []


def test_unknown_folders_say_what_fac_push_publishes(local_push, mini_hub, tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("not a dataset")
    assert_one_clear_line(local_push(tmp_path / "notes", "--repo", "tester/x"), "is none of what `fac push` publishes")
    assert_one_clear_line(local_push(tmp_path / "missing", "--repo", "tester/x"), "no such folder")
    (tmp_path / "killed").mkdir()
    (tmp_path / "killed" / "state.json").write_text("{}")
    assert_one_clear_line(local_push(tmp_path / "killed", "--repo", "tester/x"), "unfinished synthesis run")
    assert mini_hub.requests == []


def test_card_field_failing_validation_is_named_before_any_request(local_push, mini_hub, synthesized_dir):
    before = snapshot(synthesized_dir)
    result = local_push(synthesized_dir, "--repo", "tester/x", "--license", "my-own-licence")
    assert_one_clear_line(result, "card field 'license'", "my-own-licence", "--license")
    result = local_push(synthesized_dir, "--repo", "tester/x", "--source-dataset", " ")
    assert_one_clear_line(result, "card field 'source_datasets'")
    assert mini_hub.requests == [] and snapshot(synthesized_dir) == before


def test_offline_mode_is_a_clear_error(local_push, mini_hub, monkeypatch, catalog_dir):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert_one_clear_line(local_push(catalog_dir, "--repo", "tester/x"), "HF_HUB_OFFLINE", "unset it")
    assert mini_hub.requests == []


def test_bad_exists_policy_is_a_config_error(local_push, catalog_dir):
    assert_one_clear_line(local_push(catalog_dir, "--repo", "tester/x", "--exists", "overwrite"), "exists")


# ------------------------------------------------------------------ remote checks: nothing written
def test_existing_repo_with_exists_fail_changes_nothing(mini_hub, fac_push, synthesized_dir):
    assert fac_push(mini_hub.url, synthesized_dir, "--repo", "tester/synth").returncode == 0
    repo = mini_hub.repo("dataset", "tester/synth")
    commits, files, before = list(repo.commits), dict(repo.files), snapshot(synthesized_dir)

    proc = fac_push(mini_hub.url, synthesized_dir, "--repo", "tester/synth")  # --exists fail is the default
    assert_failed_in_subprocess(proc, "tester/synth already exists", "--exists update")
    assert repo.commits == commits and repo.files == files and snapshot(synthesized_dir) == before


def test_update_never_replaces_a_card_fac_datasets_did_not_write(mini_hub, fac_push, catalog_dir):
    theirs = Repo(private=False)
    theirs.files["README.md"] = b"---\nlicense: mit\ntags:\n- curated\n---\n# Their own card\n"
    mini_hub.repos[("dataset", "tester/theirs")] = theirs
    proc = fac_push(mini_hub.url, catalog_dir, "--repo", "tester/theirs", "--exists", "update")
    assert_failed_in_subprocess(proc, "a card fac-datasets did not write")
    assert theirs.files["README.md"].endswith(b"# Their own card\n") and len(theirs.commits) == 1


def test_card_field_rejected_by_the_hub_is_named_and_no_repo_is_created(mini_hub, fac_push, catalog_dir):
    mini_hub.card_rules = {"license": "must be one of [apache-2.0, mit, other]"}
    proc = fac_push(mini_hub.url, catalog_dir, "--repo", "tester/cat")
    assert_failed_in_subprocess(proc, "the Hub rejected card field(s) 'license'", "nothing was uploaded")
    assert mini_hub.repo("dataset", "tester/cat") is None


def test_rejected_token_fails_before_any_write(mini_hub, fac_push, sae_dir):
    proc = fac_push(mini_hub.url, sae_dir, "--repo", "tester/sae", token="hf_not_a_valid_token")
    assert_failed_in_subprocess(proc, "rejected the token (401)")
    assert mini_hub.repos == {}


def test_hub_down_is_a_clear_error(fac_push, sae_dir):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    before = snapshot(sae_dir)
    proc = fac_push(f"http://127.0.0.1:{port}", sae_dir, "--repo", "tester/sae")
    assert_failed_in_subprocess(proc, "cannot reach the Hub", f"127.0.0.1:{port}")
    assert snapshot(sae_dir) == before
