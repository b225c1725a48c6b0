"""Integration tests on the real embedded default: SmolLM2-135M-Instruct + the shipped SAE."""

from __future__ import annotations

import json

import pytest
import torch

from fac_datasets.features.backbone import Backbone
from fac_datasets.features.extractor import load_extractor
from fac_datasets.features.model_spec import load_causal_lm, resolve_model
from fac_datasets.features.sae_spec import check_sae_fits

pytestmark = pytest.mark.slow

SENTENCES = [
    "The committee approved the new budget after a long debate.",
    "Write a Python function that checks whether a number is prime.",
    "I can't believe how rude that waiter was to us last night!",
    "Explain photosynthesis to a ten-year-old.",
]


@pytest.fixture(scope="module")
def extractor():
    return load_extractor()


def test_hooked_states_equal_hidden_states_of_the_full_model():
    tokenizer, full = load_causal_lm(resolve_model("default"))
    backbone = Backbone.load("default", layer=15)
    tokenized = [backbone.tokenize(s) for s in SENTENCES]
    width = max(len(t.input_ids) for t in tokenized)
    ids = torch.full((len(SENTENCES), width), tokenizer.pad_token_id)
    mask = torch.zeros_like(ids)
    for row, t in enumerate(tokenized):
        ids[row, : len(t.input_ids)] = torch.tensor(t.input_ids)
        mask[row, : len(t.input_ids)] = 1
    with torch.inference_mode():
        expected = full(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states[15]
    got = backbone.hidden_states(ids, mask)
    real = mask.bool()
    torch.testing.assert_close(got[real], expected[real], atol=1e-4, rtol=1e-5)


def test_real_sentences_get_nonempty_deterministic_features(extractor):
    first = extractor.extract(SENTENCES)
    second = extractor.extract(list(reversed(SENTENCES)))[::-1]
    for a, b in zip(first, second, strict=True):
        assert len(a.features) >= extractor.sae.cfg.k
        assert a.features[:10] == b.features[:10]
        assert a.activations == pytest.approx(b.activations, rel=1e-4, abs=1e-4)
    # different texts do not share all their strongest features
    assert set(first[0].features[:10]) != set(first[1].features[:10])


def test_default_sae_reconstructs_real_text(extractor):
    assert check_sae_fits(extractor.sae, extractor.backbone) < 0.4


def test_no_outliers_or_sink_leak_into_features(extractor):
    extractor.backbone.stats = type(extractor.backbone.stats)()
    batches = list(extractor.backbone.iter_activations(SENTENCES, reference_norm=extractor.sae.cfg.reference_norm))
    norms = torch.cat([b.hidden for b in batches]).norm(dim=-1)
    assert norms.max() <= extractor.sae.cfg.outlier_norm_factor * extractor.sae.cfg.reference_norm
    assert extractor.backbone.stats.n_content_tokens == sum(sum(b.n_content_tokens) for b in batches)


def test_chat_input_counts_only_message_text(extractor):
    messages = [{"role": "user", "content": "Tell me a joke about cats."}]
    tokenized = extractor.backbone.tokenize(messages)
    pairs = zip(tokenized.input_ids, tokenized.content_mask, strict=True)
    content = extractor.backbone.tokenizer.decode([i for i, m in pairs if m])
    assert content == "Tell me a joke about cats."
    (result,) = extractor.extract([messages])
    assert result.n_tokens == sum(tokenized.content_mask) and result.features


def test_sae_for_another_model_is_refused_with_the_real_backbone(extractor, tmp_path):
    from helpers import random_sae

    from fac_datasets.errors import FacSAEError

    with pytest.raises(FacSAEError, match="SAE d_in=16 does not match HuggingFaceTB/SmolLM2-135M-Instruct"):
        check_sae_fits(random_sae(d_in=16), extractor.backbone)


def test_bfloat16_features_agree_with_float32(extractor):
    bf16 = load_extractor(dtype="bfloat16")
    for a, b in zip(extractor.extract(SENTENCES), bf16.extract(SENTENCES), strict=True):
        top_a, top_b = set(a.features[:20]), set(b.features[:20])
        assert len(top_a & top_b) / len(top_a | top_b) > 0.5


def test_cli_annotate_json(fac):
    result = fac("annotate", "--json", "Write a haiku about rain.", "")
    assert result.exit_code == 0, result.stderr[-2000:]
    rows = json.loads(result.stdout)
    assert len(rows) == 2 and rows[0]["features"] and rows[1] == {"features": [], "activations": [], "n_tokens": 0}
