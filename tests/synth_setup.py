"""The tiny synthesis setup: the tiny Llama + an SAE with PLANTED features, and a scripted generator.

Each planted feature fires exactly when one known token is in the text (" sea", " shor" as in
"shore", " do" as in "dog"): its encoder direction is the mean difference of the layer-2 residual
between that token and every other token on a random corpus, with the bias halfway between the two
classes, and it is scaled so that it always wins a TopK slot when it fires. The identity part keeps
reconstruction sane (the SAE/backbone fit check). Texts the scripted generator writes are built from
NEUTRAL words, with a planted word inserted when a sample should fire.
"""

from __future__ import annotations

import json
import random
import re
from types import SimpleNamespace

import pytest
import torch
from helpers import identity_sae

from fac_datasets.sae.io import save_sae
from fac_datasets.sae.model import SAEConfig, TopKSAE

MAX_LENGTH = 128  # tokens per text: the tiny BPE spells unknown words letter by letter
PLANTED_TOKENS = {"sea": " sea", "shore": " shor", "dog": " do"}
# Words that never contain a planted token (no "do...", "sea...", "shor..." words).
_NEUTRAL_WORDS = (
    "quick brown fox jumps over the lazy cat while my teacher reads a poem about green hills and tall "
    "trees near an old castle where people sing songs every night under bright stars then they eat bread "
    "with butter and cheese before going home across quiet fields full of yellow flowers birds rabbits "
    "clouds rivers mountains windows gardens kitchens letters pencils tables chairs lamps"
)
NEUTRAL = tuple(_NEUTRAL_WORDS.split())
ANCHOR = [
    "The sea is calm and blue tonight.",
    "We walked along the shore at dawn.",
    "My dog barks at every bird he sees.",
    "She sells sea shells by the sea shore.",
    "The dog ran down to the shore to swim in the sea.",
    "Waves of the sea crash on the rocky shore.",
    "A lazy dog sleeps on the warm sand.",
    "The quick brown fox jumps over the lazy cat.",
    "Write a poem about green hills and tall trees.",
]
CURRENT = [
    "The quick brown fox jumps over the lazy cat.",
    "Write a poem about tall trees near an old castle.",
    "People sing songs under bright stars every night.",
]


def neutral_text(seed: int, n_words: int = 8, insert: str | None = None) -> str:
    """A sentence of random neutral words (distinct per seed), with `insert` placed in the middle."""
    rng = random.Random(seed)
    words = [rng.choice(NEUTRAL) for _ in range(n_words)]
    if insert:
        words.insert(n_words // 2, insert)
    return "The " + " ".join(words) + "."


def build_planted_sae(backbone, tokenizer) -> tuple[TopKSAE, dict[str, int]]:
    """Identity SAE (k=3) + one planted latent per word of PLANTED_TOKENS; (sae, {word: feature id})."""
    rng = random.Random(0)
    vocab = [*NEUTRAL, "sea", "shore", "dog", "do", "seaside", "ocean", "sand", "Python", "list", "report"]
    texts = [" ".join(rng.choice(vocab) for _ in range(rng.randint(3, 10))) for _ in range(300)]
    texts += ANCHOR + CURRENT + ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz ,.") for _ in range(40))]
    hidden, tokens = [], []
    for batch in backbone.iter_activations(texts):
        hidden.append(batch.hidden)
        tokens.append(batch.token_ids)
    hidden, tokens = torch.cat(hidden), torch.cat(tokens)
    base = identity_sae(backbone.d_model, k=3)
    n_base = base.d_sae
    sae = TopKSAE(
        SAEConfig(
            d_in=base.d_in,
            d_sae=n_base + len(PLANTED_TOKENS),
            k=3,
            apply_b_dec_to_input=False,
            layer=backbone.layer,
            model_name="tiny",
            outlier_norm_factor=None,
        )
    )
    sae.W_enc.data[:, :n_base] = base.W_enc.data
    sae.W_dec.data[:n_base] = base.W_dec.data
    ids = {}
    for j, (word, token) in enumerate(PLANTED_TOKENS.items()):
        (token_id,) = tokenizer.encode(token, add_special_tokens=False)
        mask = tokens == token_id
        direction = hidden[mask].mean(0) - hidden[~mask].mean(0)
        score = hidden @ direction
        low, high = float(score[~mask].max()), float(score[mask].min())
        assert high > low, f"token {token!r} is not linearly separable in the tiny model"
        middle = (low + high) / 2
        scale = 2.0 / (high - middle)  # >= 2 where it fires: always in the TopK (identity values are ~0.1)
        sae.W_enc.data[:, n_base + j] = direction * scale
        sae.b_enc.data[n_base + j] = -middle * scale
        ids[word] = n_base + j
    return sae, ids


def planted_sae_dir(tiny_model_dir, folder):
    """Save the planted SAE next to the tiny model; (folder, {word: feature id})."""
    from fac_datasets.features.backbone import Backbone

    backbone = Backbone.load(str(tiny_model_dir), layer=2, max_length=MAX_LENGTH, outlier_norm_factor=None)
    sae, ids = build_planted_sae(backbone, backbone.tokenizer)
    save_sae(sae, folder)
    return folder, ids


# ------------------------------------------------------------------ scripted generator
WORD_OF_TOKEN = {"sea": "sea", "shor": "shore", "do": "dog"}


def targets_in(question: str) -> list[str]:
    """Planted words a request asks for, from its token-summary lines ('Words where it fires most often: sea (4)')."""
    return [WORD_OF_TOKEN.get(m, m) for m in re.findall(r"Words where it fires most often: (\w+)", question)]


def attempt_of(question: str) -> int:
    match = re.search(r"Variation (\d+)", question)
    return int(match.group(1)) if match else 1


class ScriptedModel:
    """Decides each answer from the request: which feature, which step, which attempt.

    `fires(word, step, attempt)` says whether the sample contains the planted word; `malformed(word,
    step, attempt)` makes the answer unparsable; `extra(word, step, attempt)` adds another planted word.
    """

    def __init__(self, fires=None, malformed=None, extra=None) -> None:
        self.fires = fires or (lambda word, step, attempt: True)
        self.malformed = malformed or (lambda word, step, attempt: False)
        self.extra = extra or (lambda word, step, attempt: None)

    def __call__(self, body: dict, question: str) -> str:
        words = targets_in(question)
        word = words[0] if words else "none"
        step = 2 if "Good example" in question else 1
        attempt = attempt_of(question)
        if self.malformed(word, step, attempt):
            return "Sorry, I cannot write that."
        seed = _seed(word, step, attempt)
        insert = " and a ".join(words) if self.fires(word, step, attempt) else None  # co-targets too
        text = neutral_text(seed, insert=insert)
        extra = self.extra(word, step, attempt)
        if extra:
            text = text[:-1] + f" and a {extra}."
        return json.dumps({"query": text})


def _seed(word: str, step: int, attempt: int) -> int:
    return sum(ord(c) for c in word) * 1000 + step * 100 + attempt


# ------------------------------------------------------------------ fixtures (import them into a test module)
@pytest.fixture(scope="session")
def planted(tiny_model_dir, tmp_path_factory):
    """The planted SAE folder, its feature ids by word, and the tiny model folder."""
    folder, ids = planted_sae_dir(tiny_model_dir, tmp_path_factory.mktemp("planted-sae"))
    return SimpleNamespace(sae_dir=folder, ids=ids, model_dir=tiny_model_dir)


@pytest.fixture(scope="session")
def planted_extractor(planted):
    from fac_datasets.features.extractor import load_extractor

    return load_extractor(model=str(planted.model_dir), sae=str(planted.sae_dir), max_length=MAX_LENGTH)


@pytest.fixture(scope="session")
def planted_catalog(planted, planted_extractor, tmp_path_factory):
    """A catalog mined from ANCHOR where exactly the planted features are relevant to toxicity (human labels)."""
    from fac_datasets.catalog.build import catalog_from_texts
    from fac_datasets.catalog.relevance import record
    from fac_datasets.config import SpanConfig

    spans = SpanConfig(top_n=4, window_before=4, window_after=1, random_per_feature=2, contrast_reservoir=4)
    catalog, _ = catalog_from_texts(planted_extractor, ANCHOR, tmp_path_factory.mktemp("spans"), spans, progress=False)
    return record(catalog, "toxicity", "human", {f: {"decision": "yes"} for f in planted.ids.values()})
