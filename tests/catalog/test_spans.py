"""Span mining on the tiny model: windows, exact top-N, shard merging, resuming, contrast and weak examples.

The backbone runs one text per forward batch here, so a text's activations do not depend on which
other texts share its batch (padding changes the last float bits): that makes sharded and whole
runs comparable exactly, as they are meant to be.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import CORPUS, TEXTS, dense

from fac_datasets.catalog.spans import PEAK_MARK, SpanState, mine_shard, mine_spans
from fac_datasets.config import SpanConfig
from fac_datasets.errors import FacInputError
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.features.extractor import load_extractor

CHAT = [{"role": "user", "content": "Write a poem."}, {"role": "assistant", "content": "The sea at night."}]
# Duplicates (ties broken by text index), one-token texts (peak is first and last), an empty text, a chat.
MINING_TEXTS = [*CORPUS, *[t for t in TEXTS if t not in CORPUS], "a", ".", CORPUS[0], "Hi", CHAT, CORPUS[3]]


@pytest.fixture(scope="module")
def extractor(tiny_model_dir, tiny_sae_dir):
    extractor = load_extractor(model=str(tiny_model_dir), sae=str(tiny_sae_dir), max_length=64)
    extractor.backbone.max_batch_size = 1
    return extractor


def kept_tokens(extractor, text):
    """(token ids, [n_kept, d_sae] per-token activations) of one text, computed on its own."""
    batches = list(extractor.backbone.iter_activations([text], reference_norm=extractor.sae.cfg.reference_norm))
    hidden = torch.cat([b.hidden for b in batches])
    ids = torch.cat([b.token_ids for b in batches]).tolist()
    return ids, dense(*extractor.sae.encode(hidden), extractor.sae.d_sae).numpy()


def brute_top(extractor, texts, n):
    """Per feature, the n best (activation, text index) by activation desc, text index asc."""
    pairs: dict[int, list] = {}
    for index, sample in enumerate(extractor.extract(texts)):
        for feature, activation in zip(sample.features, sample.activations, strict=True):
            pairs.setdefault(feature, []).append((activation, index))
    return {f: sorted(p, key=lambda x: (-x[0], x[1]))[:n] for f, p in pairs.items()}


def test_peak_token_is_inside_every_window_with_its_activation(extractor, tmp_path):
    config = SpanConfig(top_n=len(MINING_TEXTS), window_before=2, window_after=1, shard_size=5)
    mined = mine_spans(extractor, MINING_TEXTS, tmp_path, config, progress=False)
    decode = extractor.backbone.tokenizer.decode
    per_text = {i: kept_tokens(extractor, t) for i, t in enumerate(MINING_TEXTS)}
    at_first = at_last = 0
    for feature, spans in mined.top.items():
        for span in spans:
            ids, acts = per_text[span.text_index]
            peak = int(np.argmax(acts[:, feature]))  # the first token holding the max
            lo = max(0, peak - config.window_before)
            hi = min(len(ids), peak + config.window_after + 1)
            assert span.peak_index == peak - lo
            assert span.activation == acts[peak, feature] == span.activations[span.peak_index] > 0
            assert span.tokens == [decode([i]) for i in ids[lo:hi]]
            assert span.activations == pytest.approx(acts[lo:hi, feature].tolist(), abs=0)
            assert f"{PEAK_MARK[0]}{span.peak_token.strip() or span.peak_token}{PEAK_MARK[1]}" in span.text
            at_first += peak == 0
            at_last += peak == len(ids) - 1
    assert at_first and at_last  # both clipped edges were exercised


def test_streaming_top_n_equals_brute_force(extractor, tmp_path):
    config = SpanConfig(top_n=3, shard_size=4)
    mined = mine_spans(extractor, MINING_TEXTS, tmp_path, config, progress=False)
    expected = brute_top(extractor, MINING_TEXTS, config.top_n)
    got = {f: [(s.activation, s.text_index) for s in spans] for f, spans in mined.top.items()}
    assert got == expected
    assert any(a[0] == b[0] for top in expected.values() for a, b in zip(top, top[1:], strict=False))  # real ties


def test_merged_shards_equal_one_pass(extractor):
    config = SpanConfig(top_n=3, random_per_feature=4, contrast_reservoir=6)
    whole = mine_shard(extractor, MINING_TEXTS, 0, config)
    cut = 7
    left, right = (
        mine_shard(extractor, MINING_TEXTS[:cut], 0, config),
        mine_shard(extractor, MINING_TEXTS[cut:], cut, config),
    )
    for merged in (left + right, right.merge(left)):
        for name in ("top", "random"):
            for got, want in zip(getattr(merged, name).entries()[:3], getattr(whole, name).entries()[:3], strict=True):
                np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(getattr(merged, name).windows.tokens, getattr(whole, name).windows.tokens)
        np.testing.assert_array_equal(merged.contrast.text, whole.contrast.text)
        assert merged.counts == whole.counts
    rows = extractor.extract_rows(MINING_TEXTS)
    assert whole.counts == FeatureCounts.from_rows(rows, extractor.sae.d_sae, extractor.provenance)


def test_resumed_run_skips_finished_shards_and_gives_the_same_result(extractor, tmp_path, monkeypatch):
    config = SpanConfig(top_n=3, random_per_feature=4, contrast_reservoir=6, shard_size=4)
    first = mine_spans(extractor, MINING_TEXTS, tmp_path, config, progress=False)
    shards = sorted(tmp_path.glob("spans-*.safetensors"))
    assert len(shards) == -(-len(MINING_TEXTS) // 4)
    shards[-1].unlink()  # as if killed while mining the last shard
    mtimes = {p: p.stat().st_mtime_ns for p in shards[:-1]}
    calls = []
    original = extractor.backbone.iter_activations
    monkeypatch.setattr(
        extractor.backbone, "iter_activations", lambda items, **kw: calls.append(len(items)) or original(items, **kw)
    )
    resumed = mine_spans(extractor, MINING_TEXTS, tmp_path, config, progress=False)
    assert calls == [len(MINING_TEXTS) - 4 * (len(shards) - 1)]  # only the missing shard ran
    assert {p: p.stat().st_mtime_ns for p in shards[:-1]} == mtimes
    assert resumed.top == first.top and resumed.random == first.random and resumed.counts == first.counts
    assert resumed.contrast_texts == first.contrast_texts
    calls.clear()
    mine_spans(extractor, MINING_TEXTS, tmp_path, config, progress=False)
    assert calls == []
    with pytest.raises(FacInputError, match="mined from other texts or with other settings .*fingerprint"):
        mine_spans(extractor, ["changed", *MINING_TEXTS[1:]], tmp_path, config, progress=False)
    with pytest.raises(FacInputError, match="differs in: config"):
        mine_spans(extractor, MINING_TEXTS, tmp_path, config.model_copy(update={"top_n": 2}), progress=False)


def test_contrast_texts_never_hold_the_feature_and_weak_spans_are_below_the_median(extractor, tmp_path):
    config = SpanConfig(top_n=2, random_per_feature=6, contrast_reservoir=len(MINING_TEXTS), contrast_per_feature=4)
    mined = mine_spans(extractor, MINING_TEXTS, tmp_path, config, progress=False)
    features = [set(s.features) for s in extractor.extract(MINING_TEXTS)]
    non_empty = [i for i, t in enumerate(MINING_TEXTS) if kept_tokens(extractor, t)[0]]
    assert sorted(mined.contrast_text_index) == non_empty  # the pool holds every text here
    shown = 0
    for feature in mined.top:
        rows = mined.contrast_rows(feature)
        quiet = [i for i in non_empty if feature not in features[i]]
        assert len(rows) == min(config.contrast_per_feature, len(quiet))
        assert all(feature not in features[mined.contrast_text_index[row]] for row in rows)
        assert mined.contrast(feature) == [mined.contrast_texts[row] for row in rows]
        shown += len(rows)
        sample = mined.random[feature]
        assert len(sample) == min(config.random_per_feature, sum(feature in f for f in features))
        assert all(feature in features[s.text_index] for s in sample)
        weak = mined.weak(feature)
        median = np.median([s.activation for s in sample])
        assert all(s.activation < median for s in weak)
        assert [s.activation for s in weak] == sorted(s.activation for s in weak)
    assert shown > 0


def test_inputs_can_be_a_dataset_or_a_file(extractor, tmp_path):
    import datasets

    texts = [t for t in MINING_TEXTS if isinstance(t, str) and t]
    config = SpanConfig(top_n=2, shard_size=100)
    from_list = mine_spans(extractor, texts, tmp_path / "a", config, progress=False)
    dataset = datasets.Dataset.from_dict({"prompt": texts, "n": list(range(len(texts)))})
    from_dataset = mine_spans(extractor, dataset, tmp_path / "b", config, column="prompt", progress=False)
    path = tmp_path / "texts.jsonl"
    dataset.to_json(str(path))
    from_file = mine_spans(extractor, path, tmp_path / "c", config, progress=False)
    assert from_list.top == from_dataset.top == from_file.top
    with pytest.raises(FacInputError, match="No texts"):
        mine_spans(extractor, [], tmp_path / "d", config, progress=False)


def test_state_round_trips_through_a_shard_file(extractor, tmp_path):
    config = SpanConfig(top_n=3, random_per_feature=3, contrast_reservoir=4)
    state = mine_shard(extractor, MINING_TEXTS, 0, config)
    loaded, header = SpanState.load(state.save(tmp_path / "s.safetensors", {"start": 0}))
    assert header["start"] == 0 and loaded.counts == state.counts
    tokenizer = extractor.backbone.tokenizer
    assert loaded.decode(tokenizer).top == state.decode(tokenizer).top
    (tmp_path / "bad.safetensors").write_text("not a shard")
    with pytest.raises(FacInputError, match="Cannot read span shard .*bad.safetensors.*Delete it"):
        SpanState.load(tmp_path / "bad.safetensors")
