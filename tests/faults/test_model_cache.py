"""The dequantized model is keyed by the GGUF's content; `fac cache info|prune` frees what is unused (issue 17.9)."""

from __future__ import annotations

import json
import os

import pytest

from fac_datasets.constants import CACHE_GENERATIONS_DIR, CACHE_MODELS_DIR, GGUF_SOURCE_FILENAME
from fac_datasets.errors import FacModelError
from fac_datasets.features import model_spec
from fac_datasets.features.model_spec import convert_gguf, embedded_gguf_path, gguf_cache_dir, gguf_sha256


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("FAC_DATASETS_CACHE", str(root))
    return root


def fake_gguf(folder, content: bytes = b"GGUF not really a model " * 100):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tiny.Q4_1.gguf"
    path.write_bytes(content)
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    return path


def fake_copy(folder, source: str, payload: bytes = b"weights" * 1000):
    """What convert_gguf leaves: config, weights and the source record."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(payload)
    (folder / GGUF_SOURCE_FILENAME).write_text(json.dumps({"gguf": source}))
    return folder


def test_the_same_gguf_in_two_venvs_shares_one_copy(cache, tmp_path):
    one = fake_gguf(tmp_path / "venv1" / "site-packages")
    two = fake_gguf(tmp_path / "venv2" / "site-packages")
    assert gguf_cache_dir(one) == gguf_cache_dir(two)
    other = fake_gguf(tmp_path / "venv3", b"another model" * 100)
    assert gguf_cache_dir(other) != gguf_cache_dir(one)
    fake_copy(gguf_cache_dir(one), str(one))
    assert convert_gguf(two) == gguf_cache_dir(one)  # no conversion: the fake GGUF could not be converted


def test_the_hash_is_computed_once_per_path_size_and_mtime(cache, tmp_path):
    gguf = fake_gguf(tmp_path / "venv")
    first = gguf_sha256(gguf)
    stat = gguf.stat()
    gguf.write_bytes(gguf.read_bytes().replace(b"GGUF", b"FUGG"))  # same size; mtime put back below
    os.utime(gguf, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert gguf_sha256(gguf) == first, "the file was hashed again"
    os.utime(gguf, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))  # a touched file is hashed again
    assert gguf_sha256(gguf) != first


def test_an_old_key_copy_is_used_not_converted_again(cache, tmp_path):
    gguf = fake_gguf(tmp_path / "venv")
    old = fake_copy(model_spec._old_gguf_cache_dir(gguf), str(gguf))
    target = convert_gguf(gguf)  # the fake GGUF would raise FacModelError if it were converted
    assert target == gguf_cache_dir(gguf) and (target / "model.safetensors").read_bytes() == b"weights" * 1000
    assert (old / "model.safetensors").stat().st_nlink == 2, "the old copy should be shared, not duplicated"
    assert old.is_dir()  # an older version sharing the cache still finds it
    gguf.unlink()
    broken = fake_gguf(tmp_path / "other", b"x" * 10)
    with pytest.raises(FacModelError, match="Cannot read GGUF file"):
        convert_gguf(broken)
    assert not gguf_cache_dir(broken).exists()


def test_cache_prune_keeps_the_current_model_and_frees_the_rest(fac, cache, tmp_path):
    models = cache / CACHE_MODELS_DIR
    current = fake_copy(gguf_cache_dir(embedded_gguf_path()), str(embedded_gguf_path()))
    stale = fake_copy(models / "SmolLM2-135M-Instruct.Q4_1-0123456789ab", "/gone/venv/model.gguf", b"x" * 50_000)
    partial = models / ".tiny.Q4_1-sha256-abc.tmp1234"
    partial.mkdir()
    (partial / "model.safetensors").write_bytes(b"y" * 20_000)
    answers = cache / CACHE_GENERATIONS_DIR / "some-generator"
    answers.mkdir(parents=True)
    (answers / "cache.sqlite").write_bytes(b"z" * 30_000)

    info = fac("cache", "info", "--json")
    assert info.exit_code == 0, info.output
    entries = {e["path"]: e for e in json.loads(info.output)["entries"]}
    assert entries[str(current)]["in_use"] is True and entries[str(stale)]["in_use"] is False
    assert entries[str(stale)]["bytes"] >= 50_000 and entries[str(answers)]["kind"] == "generations"

    dry = fac("cache", "prune", "--dry-run")
    assert dry.exit_code == 0 and "would free" in dry.output and stale.is_dir()
    pruned = fac("cache", "prune")
    assert pruned.exit_code == 0, pruned.output
    assert not stale.exists() and not partial.exists() and current.is_dir() and answers.is_dir()
    assert f"removed dequantized-model {stale}" in pruned.output and "freed 70.0 KB" in pruned.output
    with_answers = fac("cache", "prune", "--generations")
    assert not answers.exists() and "freed 30.0 KB" in with_answers.output, with_answers.output
    again = fac("cache", "prune", "--generations")
    assert "nothing to prune" in again.output and current.is_dir()
