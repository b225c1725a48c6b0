"""The SAE card renders every field from a training record."""

from __future__ import annotations

from helpers import random_sae

from fac_datasets.config import TrainSAEConfig
from fac_datasets.sae.card import sae_summary, write_sae_card
from fac_datasets.sae.corpus import describe_default_corpus


def test_card_renders_training_record(tmp_path):
    sae = random_sae(reference_norm=110.0)
    sae.cfg.training = {
        "config": TrainSAEConfig().model_dump(),
        "corpus": describe_default_corpus(),
        "n_train_tokens": 2_100_000,
        "n_heldout_tokens": 40_000,
        "fvu_heldout": 0.1834,
        "l0_heldout": 31.9,
        "dead_fraction": 0.01,
        "seconds": 1234.5,
        "sweep": {
            "n_tokens": 250_000,
            "rows": [{"d_sae": 4608, "k": 32, "fvu": 0.2, "dead_fraction": 0.0, "seconds": 100.0}],
            "note": "chosen",
        },
    }
    text = write_sae_card(sae, tmp_path).read_text()
    assert "| training tokens | 2,100,000 |" in text
    assert "| held-out FVU | 0.1834 |" in text
    assert "blocks.1.hook_resid_post" in text
    assert "| 4608 | 32 | 0.2000 |" in text
    assert "janeaustenr" in text and "gensim==4.4.0" in text
    summary = sae_summary(sae)
    assert summary["n_train_tokens"] == 2_100_000 and summary["fvu_heldout"] == 0.1834
