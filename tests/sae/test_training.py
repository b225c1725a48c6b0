"""SAE training through sae-lens on synthetic sparse data, activation shards and resume."""

from __future__ import annotations

import torch

from fac_datasets.features.backbone import Backbone
from fac_datasets.sae.corpus import Chunk, _is_heldout, chunk_words
from fac_datasets.sae.train import collect_activations, evaluate_sae, load_activations, train_topk_sae


def sparse_data(n: int, d_in: int = 16, n_atoms: int = 32, active: int = 3, seed: int = 0) -> torch.Tensor:
    """Vectors built from `active` of `n_atoms` directions: what a TopK SAE should recover."""
    gen = torch.Generator().manual_seed(seed)
    atoms = torch.nn.functional.normalize(torch.randn(n_atoms, d_in, generator=gen), dim=1)
    codes = torch.zeros(n, n_atoms)
    for row in range(n):
        idx = torch.randperm(n_atoms, generator=gen)[:active]
        codes[row, idx] = torch.rand(active, generator=gen) * 3 + 0.5
    return (codes @ atoms).to(torch.float16)


def test_trained_sae_reconstructs_held_out_data_far_better_than_untrained():
    data = sparse_data(44_000)  # one dictionary; the last 4,000 vectors are held out
    train, heldout = data[:40_000], data[40_000:]
    sae = train_topk_sae(train, d_sae=64, k=6, lr=3e-3, batch_size=512, n_tokens=40_000)
    metrics = evaluate_sae(sae, heldout)
    assert metrics["fvu"] < 0.25, metrics
    assert metrics["l0"] <= 6
    assert 0.0 <= metrics["dead_fraction"] < 1.0
    untrained = train_topk_sae(train, d_sae=64, k=6, lr=1e-9, batch_size=512, n_tokens=512)
    assert evaluate_sae(untrained, heldout)["fvu"] > 2 * metrics["fvu"]


def test_activation_shards_resume_without_recomputing(tiny_model_dir, tmp_path):
    backbone = Backbone.load(str(tiny_model_dir), layer=2)
    chunks = [Chunk("t", f"Sentence number {i} about the sea.", heldout=(i % 4 == 0)) for i in range(12)]
    collect_activations(backbone, chunks, tmp_path, shard_chunks=4)
    first = load_activations(tmp_path / "train")
    assert first.dtype == torch.float16 and first.shape[1] == 32
    assert len(list((tmp_path / "train").glob("shard_*"))) == 3  # 9 train chunks in shards of 4
    marker = tmp_path / "train" / "shard_00001.safetensors"
    before = marker.stat().st_mtime_ns
    texts_seen = backbone.stats.n_texts
    collect_activations(backbone, chunks, tmp_path, shard_chunks=4)
    assert marker.stat().st_mtime_ns == before and backbone.stats.n_texts == texts_seen
    torch.testing.assert_close(load_activations(tmp_path / "train"), first)


def test_chunking_keeps_every_word_in_order():
    text = "one two three\n\nfour five six seven\n\n" + " ".join(f"w{i}" for i in range(25))
    chunks = list(chunk_words(text, size=10))
    assert all(len(c.split()) <= 10 for c in chunks)
    assert " ".join(chunks).split() == text.split()


def test_heldout_split_is_deterministic_by_content():
    assert _is_heldout("some text") == _is_heldout("some text")
    flags = [_is_heldout(f"chunk {i}") for i in range(5000)]
    assert 0.01 < sum(flags) / len(flags) < 0.03
