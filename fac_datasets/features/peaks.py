"""The token at which a feature peaks in a few texts: a cheap way to name what a feature fires on.

Used when relevance was chosen without a catalog: the report can then say "feature 812 peaks on
'@'" instead of an id alone, so genre features picked by enrichment against general text show.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import torch

from fac_datasets.inputs import TextInput

PEAK_TEXTS = 64  # texts read per call: enough for a most-common peak token, cheap on CPU


def peak_tokens(extractor, texts: Sequence[TextInput], features: Sequence[int], max_texts: int = PEAK_TEXTS) -> dict:
    """{feature: (most common peak token, texts it peaked on)} over the first `max_texts` texts.

    A feature fires in a text when its max over content tokens exceeds the extractor's threshold;
    its peak token is the token of that max. Features that never fire are left out.
    """
    features = [int(f) for f in features]
    if not features or not texts:
        return {}
    wanted = torch.tensor(features, dtype=torch.long)
    seen: dict[int, Counter] = {f: Counter() for f in features}
    backbone, reference_norm = extractor.backbone, extractor.sae.cfg.reference_norm
    for batch in backbone.iter_activations(list(texts[:max_texts]), reference_norm=reference_norm):
        if not batch.hidden.shape[0]:
            continue
        top_acts, top_indices = extractor.encoder.encode(batch.hidden)
        hits = top_indices.unsqueeze(-1) == wanted.to(top_indices.device)  # [tokens, k, wanted]
        acts = (top_acts.float().unsqueeze(-1) * hits).sum(1)  # [tokens, wanted]
        for row in range(len(batch.indices)):
            mask = batch.sample_ids == row
            if not bool(mask.any()):
                continue
            best, where = acts[mask].max(dim=0)
            token_ids = batch.token_ids[mask][where]
            for j, feature in enumerate(features):
                if float(best[j]) > extractor.threshold:
                    seen[feature][int(token_ids[j])] += 1
    out = {}
    for feature, counter in seen.items():
        if counter:
            token_id, n = counter.most_common(1)[0]
            out[feature] = (backbone.tokenizer.decode([token_id]), n)
    return out
