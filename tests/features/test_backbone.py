"""Backbone on a tiny random Llama: hook correctness, content masks, batching, bad input."""

from __future__ import annotations

import pytest
import torch
from helpers import build_tiny_model

from fac_datasets.errors import FacInputError, FacModelError
from fac_datasets.features.backbone import Backbone

TEXTS = ["The quick brown fox.", "How do I reverse a list in Python without changing it?", "Hi", "Write a poem."]


def test_hooked_residual_equals_hidden_states_of_full_model(tiny_tokenizer):
    full = build_tiny_model(tiny_tokenizer)
    backbone = Backbone(tiny_tokenizer, build_tiny_model(tiny_tokenizer), layer=2)
    ids = torch.tensor([backbone.tokenize(TEXTS[1]).input_ids])
    with torch.inference_mode():
        expected = full(input_ids=ids, output_hidden_states=True).hidden_states[2]
    got = backbone.hidden_states(ids, torch.ones_like(ids))
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_blocks_above_layer_are_removed(tiny_tokenizer):
    backbone = Backbone(tiny_tokenizer, build_tiny_model(tiny_tokenizer, n_layers=4), layer=2)
    assert len(backbone._base.layers) == 2


def test_batched_activations_equal_one_by_one(tiny_backbone):
    batched = {}
    for batch in tiny_backbone.iter_activations(TEXTS):
        for row, index in enumerate(batch.indices):
            batched[index] = batch.hidden[batch.sample_ids == row]
    for index, text in enumerate(TEXTS):
        (single,) = list(tiny_backbone.iter_activations([text]))
        torch.testing.assert_close(batched[index], single.hidden, atol=1e-5, rtol=1e-4)


def test_plain_text_drops_only_the_leading_sink_token(tiny_backbone):
    tokenized = tiny_backbone.tokenize("Write a poem.")
    assert tokenized.content_mask[0] is False
    assert all(tokenized.content_mask[1:])
    assert tokenized.input_ids[0] == tiny_backbone.tokenizer.bos_token_id


def test_chat_messages_count_only_message_contents(tiny_backbone):
    tok = tiny_backbone.tokenizer
    messages = [{"role": "user", "content": "Write a poem."}, {"role": "assistant", "content": "The sea."}]
    tokenized = tiny_backbone.tokenize(messages)
    content_text = tok.decode([i for i, m in zip(tokenized.input_ids, tokenized.content_mask, strict=True) if m])
    assert content_text.replace(" ", "") == "Writeapoem.Thesea."
    scaffold = tok.decode([i for i, m in zip(tokenized.input_ids, tokenized.content_mask, strict=True) if not m])
    assert "<|im_start|>" in scaffold and "user" in scaffold and "assistant" in scaffold


def test_truncation_is_counted_and_warned(tiny_model_dir):
    backbone = Backbone.load(str(tiny_model_dir), layer=2, max_length=8)
    with pytest.warns(UserWarning, match="1 of 2 texts were longer than max_length=8"):
        batches = list(
            backbone.iter_activations(["short", "a much longer sentence that goes past eight tokens for sure"])
        )
    assert backbone.stats.n_truncated == 1
    assert max(max(b.n_content_tokens) for b in batches) == 7  # 8 minus the sink


def test_empty_text_is_a_counted_skip(tiny_backbone):
    batches = list(tiny_backbone.iter_activations(["", "   ", "Write a poem."]))
    seen = {index: n for b in batches for index, n in zip(b.indices, b.n_content_tokens, strict=True)}
    assert sorted(seen) == [0, 1, 2]
    assert seen[0] == 0 and seen[2] > 0
    assert tiny_backbone.stats.n_empty >= 1


@pytest.mark.parametrize("bad", [None, 3, {"text": "x"}, b"bytes"])
def test_non_text_rows_raise_a_clear_error(tiny_backbone, bad):
    with pytest.raises(FacInputError, match="Row 1"):
        list(tiny_backbone.iter_activations(["fine", bad]))


def test_outlier_tokens_are_dropped_and_counted(tiny_backbone):
    (batch,) = list(tiny_backbone.iter_activations(["Write a poem."], reference_norm=1e-6))
    assert batch.hidden.shape[0] == 0
    assert tiny_backbone.stats.n_outlier_tokens == batch.n_content_tokens[0] > 0


def test_layer_out_of_range_is_rejected(tiny_tokenizer):
    with pytest.raises(FacModelError, match="layer must be in 1..4"):
        Backbone(tiny_tokenizer, build_tiny_model(tiny_tokenizer), layer=7)


def test_batches_respect_token_budget(tiny_backbone):
    tiny_backbone.batch_tokens = 20
    batches = tiny_backbone.plan_batches([3, 9, 4, 10, 2, 8])
    assert sorted(i for b in batches for i in b) == list(range(6))
    lengths = [3, 9, 4, 10, 2, 8]
    assert all(max(lengths[i] for i in b) * len(b) <= 20 for b in batches)


def test_kept_tokens_carry_their_ids_and_positions(tiny_backbone):
    texts = ["", "Write a poem.", "How do I reverse a list in Python?"]
    tiny_backbone.outlier_norm_factor = None  # keep every content token
    batches = list(tiny_backbone.iter_activations(texts))
    seen = set()
    for batch in batches:
        assert batch.token_ids.shape == batch.positions.shape == batch.sample_ids.shape
        assert batch.token_ids.dtype == batch.positions.dtype == torch.long
        for row, index in enumerate(batch.indices):
            seen.add(index)
            tokenized = tiny_backbone.tokenize(texts[index])
            positions = batch.positions[batch.sample_ids == row].tolist()
            assert positions == [p for p, m in enumerate(tokenized.content_mask) if m]
            assert batch.token_ids[batch.sample_ids == row].tolist() == [tokenized.input_ids[p] for p in positions]
    assert seen == {0, 1, 2}
    # outlier filtering drops ids and positions together with the activations
    tiny_backbone.outlier_norm_factor = 3.0
    (dropped,) = list(tiny_backbone.iter_activations(["Write a poem."], reference_norm=1e-6))
    assert dropped.token_ids.numel() == dropped.positions.numel() == 0
