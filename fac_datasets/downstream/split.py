"""A causal LM split after block `cut`: the frozen bottom runs once per text, the top runs many times.

Fine-tuning the top blocks, and steering at layer L, only ever change what happens above a cut,
so everything below it is computed once (with the project's `Backbone`) and reused: for every
training epoch, for every steering multiplier, for every test row. The top is run through the
base model's own forward with `inputs_embeds`, which holds for models that do not rescale their
input embeddings inside the forward (Llama, SmolLM, Qwen, Mistral); Gemma-style models are refused.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

from fac_datasets.errors import FacConfigError, FacModelError
from fac_datasets.features.backbone import Backbone, find_decoder_layers
from fac_datasets.features.model_spec import load_causal_lm, resolve_model

_SCALED_EMBEDDINGS = ("gemma",)


class SplitLM:
    """Bottom (frozen, via `Backbone`) + top blocks + final norm + LM head of one causal LM."""

    def __init__(self, tokenizer, lm: nn.Module, cut: int, *, model_id: str, max_length: int, batch_tokens: int):
        model_type = str(getattr(lm.config, "model_type", ""))
        if model_type.startswith(_SCALED_EMBEDDINGS):
            raise FacModelError(f"{model_id} ({model_type}) rescales input embeddings; split runs are not supported.")
        n_layers = int(lm.config.num_hidden_layers)
        if not 1 <= cut <= n_layers:
            raise FacConfigError(f"The split point must be in 1..{n_layers} blocks for {model_id}, got {cut}.")
        self.base = getattr(lm, lm.base_model_prefix, lm)
        self._parent, self._name, layers = find_decoder_layers(self.base, n_layers)
        self.top = nn.ModuleList(list(layers)[cut:])
        self.lm_head = lm.get_output_embeddings()
        self.n_layers = n_layers
        self.cut = cut
        # Backbone cuts the layer list after `cut` blocks and hooks the last one: the bottom half.
        self.bottom = Backbone(
            tokenizer,
            lm,
            cut,
            model_id=model_id,
            max_length=max_length,
            batch_tokens=batch_tokens,
            outlier_norm_factor=None,
        )
        self._bottom_layers = getattr(self._parent, self._name)
        self.tokenizer = tokenizer
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    @classmethod
    def for_finetuning(cls, config) -> SplitLM:
        """The float32 split whose top `config.trainable_blocks` blocks the fine-tuning tasks train."""
        return cls.load(
            config.model,
            "float32",
            top_blocks=config.trainable_blocks,
            max_length=config.finetune_max_length,
            batch_tokens=config.batch_tokens,
        )

    @classmethod
    def load(
        cls,
        model: str,
        dtype: str,
        *,
        cut: int | None = None,
        top_blocks: int | None = None,
        max_length: int,
        batch_tokens: int,
    ) -> SplitLM:
        """Load a model spec and split it after `cut` blocks, or below its top `top_blocks` blocks."""
        resolved = resolve_model(model)
        tokenizer, lm = load_causal_lm(resolved, dtype)
        if top_blocks is not None:
            n_layers = int(lm.config.num_hidden_layers)
            if not 1 <= top_blocks < n_layers:
                raise FacConfigError(
                    f"trainable_blocks must be in 1..{n_layers - 1} for {resolved.model_id} ({n_layers} blocks), "
                    f"got {top_blocks}."
                )
            cut = n_layers - top_blocks
        if cut is None:
            raise FacConfigError("SplitLM.load needs cut or top_blocks.")
        return cls(tokenizer, lm, cut, model_id=resolved.model_id, max_length=max_length, batch_tokens=batch_tokens)

    # ---------------------------------------------------------------- parameters
    def head_and_norm_parameters(self) -> list[nn.Parameter]:
        """Parameters of the base model outside the blocks and the input embeddings: the final norm."""
        inside = {id(p) for p in self._bottom_layers.parameters()} | {id(p) for p in self.top.parameters()}
        inside |= {id(p) for p in self.base.get_input_embeddings().parameters()}
        return [p for p in self.base.parameters() if id(p) not in inside]

    def trainable_parameters(self) -> list[nn.Parameter]:
        """The top blocks and the final norm; everything else (embeddings, bottom, LM head) is frozen."""
        for p in self.base.parameters():
            p.requires_grad_(False)
        for p in self.lm_head.parameters():
            p.requires_grad_(False)
        params = [*self.top.parameters(), *self.head_and_norm_parameters()]
        for p in params:
            p.requires_grad_(True)
        return params

    # ---------------------------------------------------------------- forward
    def pad(self, sequences: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Right-padded ids and attention mask."""
        width = max(len(s) for s in sequences)
        ids = torch.full((len(sequences), width), self.pad_id, dtype=torch.long)
        attention = torch.zeros((len(sequences), width), dtype=torch.long)
        for row, seq in enumerate(sequences):
            ids[row, : len(seq)] = torch.tensor(list(seq))
            attention[row, : len(seq)] = 1
        return ids, attention

    def bottom_states(self, sequences: Sequence[Sequence[int]]) -> list[torch.Tensor]:
        """Residual stream after `cut` blocks of each sequence ([len, d] float32, ordinary tensors)."""
        out: list[torch.Tensor | None] = [None] * len(sequences)
        for batch in self.bottom.plan_batches([len(s) for s in sequences]):
            ids, attention = self.pad([sequences[i] for i in batch])
            hidden = self.bottom.hidden_states(ids, attention)
            for row, i in enumerate(batch):
                out[i] = hidden[row, : len(sequences[i])].float().clone()  # leave inference mode
        return out  # type: ignore[return-value]

    @torch.inference_mode()
    def continuation_states(self, prompt: Sequence[int], next_tokens: Sequence[int]) -> torch.Tensor:
        """[k, d] residual after `cut` blocks at each of `next_tokens` appended to `prompt` (one shared prompt pass).

        The bottom is the model's own first `cut` blocks, so its key/value cache is the usual one.
        """
        from transformers import DynamicCache

        captured: list[torch.Tensor] = []

        def hook(_module, _args, output):
            captured.append(output[0] if isinstance(output, tuple) else output)

        handle = self._bottom_layers[-1].register_forward_hook(hook)
        try:
            cache = DynamicCache()
            self.base(input_ids=torch.tensor([list(prompt)]), past_key_values=cache, use_cache=True)
            cache.batch_repeat_interleave(len(next_tokens))
            self.base(input_ids=torch.tensor([[t] for t in next_tokens]), past_key_values=cache, use_cache=True)
        finally:
            handle.remove()
        return captured[-1][:, -1].float().clone()

    @contextmanager
    def _top_layers(self) -> Iterator[None]:
        setattr(self._parent, self._name, self.top)
        try:
            yield
        finally:
            setattr(self._parent, self._name, self._bottom_layers)

    def pad_states(self, states: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """[B, T, d] zero-padded states and the [B, T] attention mask."""
        width = max(s.shape[0] for s in states)
        hidden = torch.zeros((len(states), width, states[0].shape[-1]), dtype=states[0].dtype)
        attention = torch.zeros((len(states), width), dtype=torch.long)
        for row, s in enumerate(states):
            hidden[row, : s.shape[0]] = s
            attention[row, : s.shape[0]] = 1
        return hidden, attention

    def top_states(self, hidden: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        """[B, T, d] output of the top blocks and the final norm, from residual states after `cut` blocks."""
        dtype = next(self.base.parameters()).dtype
        with self._top_layers():
            out = self.base(inputs_embeds=hidden.to(dtype), attention_mask=attention, use_cache=False)
        return out.last_hidden_state.float()

    def logits(self, normed: torch.Tensor) -> torch.Tensor:
        """Next-token logits of final (normed) states, only where asked (the LM head is the costliest layer)."""
        return self.lm_head(normed.to(self.lm_head.weight.dtype)).float()
