"""Text -> residual stream at layer L, on a truncated model, with a forward hook.

Layer L means the residual stream after the first L decoder blocks: `hidden_states[L]` of
transformers, `blocks.{L-1}.hook_resid_post` in TransformerLens/sae-lens names. The blocks
above L and the vocabulary projection are never run.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from fac_datasets.config import BackboneConfig
from fac_datasets.errors import FacConfigError, FacInputError, FacModelError
from fac_datasets.features.hardware import Setup, resolve_setup
from fac_datasets.features.model_spec import ResolvedModel, load_causal_lm, resolve_model
from fac_datasets.inputs import TextInput, check_text

_DEFAULTS = BackboneConfig()


class TruncationWarning(UserWarning):
    """Some texts were cut at max_length tokens; `n_truncated` and `max_length` say how many and where."""

    def __init__(self, message: str, n_truncated: int = 0, max_length: int = 0) -> None:
        super().__init__(message)
        self.n_truncated, self.max_length = n_truncated, max_length


@dataclass
class TokenizedText:
    """One input as token ids and a mask of which positions are content (count for features)."""

    input_ids: list[int]
    content_mask: list[bool]
    truncated: bool = False


@dataclass
class ActivationBatch:
    """Residual activations of the content tokens of a batch of inputs.

    Attributes:
        indices: position of each input of the batch in the caller's sequence.
        hidden: [n_kept_tokens, d_model] activations in the backbone's dtype, content tokens only, outliers dropped.
        sample_ids: [n_kept_tokens] row of `indices` each token belongs to.
        n_content_tokens: content tokens per input (after truncation, before outlier dropping).
        token_ids: [n_kept_tokens] token id of each kept token (so spans can be shown as text).
        positions: [n_kept_tokens] index of each kept token in its input's token sequence.
    """

    indices: list[int]
    hidden: torch.Tensor
    sample_ids: torch.Tensor
    n_content_tokens: list[int]
    token_ids: torch.Tensor = field(default_factory=lambda: torch.zeros(0, dtype=torch.long))
    positions: torch.Tensor = field(default_factory=lambda: torch.zeros(0, dtype=torch.long))


@dataclass
class BackboneStats:
    """What happened to the inputs: counted, so nothing is dropped silently."""

    n_texts: int = 0
    n_empty: int = 0
    n_truncated: int = 0
    n_content_tokens: int = 0
    n_outlier_tokens: int = 0
    kept_norm_sum: float = field(default=0.0, repr=False)

    def report(self) -> str:
        return (
            f"{self.n_texts} texts, {self.n_content_tokens} content tokens; "
            f"{self.n_empty} empty, {self.n_truncated} truncated, "
            f"{self.n_outlier_tokens} outlier-norm tokens dropped"
        )


def find_decoder_layers(base: nn.Module, n_layers: int) -> tuple[nn.Module, str, nn.ModuleList]:
    """Find the ModuleList of decoder blocks inside a transformers base model."""
    for parent in base.modules():
        for name, child in parent.named_children():
            if isinstance(child, nn.ModuleList) and len(child) == n_layers:
                return parent, name, child
    raise FacModelError(f"Cannot find the {n_layers} decoder blocks in {type(base).__name__}.")


class Backbone:
    """A causal LM cut after block L that returns content-token residual activations."""

    def __init__(
        self,
        tokenizer,
        model,
        layer: int,
        *,
        model_id: str = "custom",
        max_length: int = _DEFAULTS.max_length,
        batch_tokens: int = _DEFAULTS.batch_tokens,
        max_batch_size: int = _DEFAULTS.max_batch_size,
        outlier_norm_factor: float | None = _DEFAULTS.outlier_norm_factor,
    ) -> None:
        config = model.config
        self.n_layers = int(config.num_hidden_layers)
        if not 1 <= layer <= self.n_layers:
            raise FacModelError(f"layer must be in 1..{self.n_layers} for {model_id}, got {layer}")
        if max_length < 2:
            raise FacConfigError(f"max_length must be at least 2, got {max_length}")
        self.tokenizer = tokenizer
        self.model_id = model_id
        self.layer = layer
        self.d_model = int(config.hidden_size)
        self.max_length = max_length
        self.batch_tokens = batch_tokens
        self.max_batch_size = max_batch_size
        self.outlier_norm_factor = outlier_norm_factor
        self.dtype = next(model.parameters()).dtype
        self.device = next(model.parameters()).device
        self.setup = Setup(self.device.type, str(self.dtype).removeprefix("torch."), "as loaded by the caller")
        self.stats = BackboneStats()
        self._base = getattr(model, model.base_model_prefix, model)
        parent, name, layers = find_decoder_layers(self._base, self.n_layers)
        setattr(parent, name, layers[:layer])  # blocks above L are never run, and are freed
        self._hooked_block = layers[layer - 1]
        self._sink_id = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        self._pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    @classmethod
    def load(
        cls,
        model: str = _DEFAULTS.model,
        layer: int | None = None,
        dtype: str = _DEFAULTS.dtype,
        device: str = "cpu",
        **kwargs,
    ) -> Backbone:
        """Load from a spec: 'default', a Hub id, a local folder or a .gguf file.

        dtype and device may be 'auto' (see `features.hardware`); the choice is kept in `setup`.
        Direct callers get the CPU unless they ask (their code may not expect CUDA tensors);
        `from_config` passes the config's device, 'auto' by default.
        """
        if layer is None:
            raise FacConfigError("Backbone.load needs a layer (the residual stream after that many blocks).")
        resolved: ResolvedModel = resolve_model(model)
        setup = resolve_setup(dtype, device)
        tokenizer, lm = load_causal_lm(resolved, setup.dtype)
        backbone = cls(tokenizer, lm.to(setup.device), layer, model_id=resolved.model_id, **kwargs)
        backbone.setup = setup
        return backbone

    @classmethod
    def from_config(cls, config: BackboneConfig, layer: int | None = None) -> Backbone:
        """Load what `config` describes; `layer` fills in a config whose layer is None."""
        return cls.load(
            config.model,
            config.layer or layer,
            config.dtype,
            config.device,
            max_length=config.max_length,
            batch_tokens=config.batch_tokens,
            max_batch_size=config.max_batch_size,
            outlier_norm_factor=config.outlier_norm_factor,
        )

    # ---------------------------------------------------------------- tokenization
    def tokenize(self, item: TextInput) -> TokenizedText:
        """Token ids with a content mask; a sink token leads so position 0 is never content."""
        if isinstance(item, str):
            return self._plain(self.tokenizer(item, add_special_tokens=False)["input_ids"])
        return self._truncate(*self._tokenize_chat(item))

    def tokenize_many(self, items: Sequence[TextInput]) -> list[TokenizedText]:
        """`tokenize` of each item, with all plain strings in one tokenizer call (short texts are
        dominated by per-call costs otherwise)."""
        plain = [i for i, item in enumerate(items) if isinstance(item, str)]
        encoded = self.tokenizer([items[i] for i in plain], add_special_tokens=False)["input_ids"] if plain else []
        out: list[TokenizedText | None] = [None] * len(items)
        for i, ids in zip(plain, encoded, strict=True):
            out[i] = self._plain(ids)
        for i, item in enumerate(items):
            if out[i] is None:
                out[i] = self.tokenize(item)
        return out  # type: ignore[return-value]

    def _plain(self, ids: list[int]) -> TokenizedText:
        return self._truncate([self._sink_id, *ids], [False] + [True] * len(ids))

    def _truncate(self, ids: list[int], mask: list[bool]) -> TokenizedText:
        truncated = len(ids) > self.max_length
        if truncated:
            ids, mask = ids[: self.max_length], mask[: self.max_length]
        return TokenizedText(ids, mask, truncated)

    def _tokenize_chat(self, messages: Sequence[dict]) -> tuple[list[int], list[bool]]:
        """Render with the chat template; only tokens inside message contents are content."""
        rendered = self.tokenizer.apply_chat_template(list(messages), tokenize=False)
        spans, cursor = [], 0
        for message in messages:
            start = rendered.find(message["content"], cursor)
            if start < 0:
                raise FacInputError("The chat template changed a message's text; cannot locate its content.")
            spans.append((start, start + len(message["content"])))
            cursor = start + len(message["content"])
        enc = self.tokenizer(rendered, add_special_tokens=False, return_offsets_mapping=True)
        ids = list(enc["input_ids"])
        mask = [end > begin and any(s <= begin and end <= e for s, e in spans) for begin, end in enc["offset_mapping"]]
        if not ids or ids[0] != self._sink_id:
            ids, mask = [self._sink_id, *ids], [False, *mask]
        mask[0] = False
        return ids, mask

    # ---------------------------------------------------------------- forward
    @torch.inference_mode()
    def hidden_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """[B, T, d] residual stream after block L, captured by a forward hook."""
        captured: list[torch.Tensor] = []

        def hook(_module, _args, output):
            captured.append(output[0] if isinstance(output, tuple) else output)

        handle = self._hooked_block.register_forward_hook(hook)
        try:
            self._base(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
        finally:
            handle.remove()
        return captured[0]

    def plan_batches(self, lengths: Sequence[int]) -> list[list[int]]:
        """Group indices by length so padding stays small and each batch fits the token budget."""
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        batches: list[list[int]] = []
        current: list[int] = []
        for i in order:
            longest = lengths[i]  # ascending order: the newest is the longest
            if current and (longest * (len(current) + 1) > self.batch_tokens or len(current) >= self.max_batch_size):
                batches.append(current)
                current = []
            current.append(i)
        if current:
            batches.append(current)
        return batches

    def iter_activations(
        self, items: Sequence[TextInput], *, reference_norm: float | None = None, progress: bool = False
    ) -> Iterator[ActivationBatch]:
        """Yield content-token activations batch by batch, in length order (see `indices`).

        `reference_norm` is the median token norm the outlier rule is relative to (an SAE
        records the one it was trained with); without it the batch median is used.
        """
        tokenized = self.tokenize_many([check_text(item, i) for i, item in enumerate(items)])
        n_content = [sum(t.content_mask) for t in tokenized]
        self.stats.n_texts += len(items)
        self.stats.n_empty += sum(1 for n in n_content if n == 0)
        n_truncated = sum(t.truncated for t in tokenized)
        self.stats.n_truncated += n_truncated
        if n_truncated:
            warnings.warn(
                TruncationWarning(
                    f"{n_truncated} of {len(items)} texts were longer than max_length={self.max_length} "
                    "tokens and were truncated.",
                    n_truncated,
                    self.max_length,
                ),
                stacklevel=2,
            )
        runnable = [i for i, n in enumerate(n_content) if n > 0]
        batches = self.plan_batches([len(tokenized[i].input_ids) for i in runnable])
        if progress:
            from tqdm.auto import tqdm

            batches = tqdm(batches, desc=f"Activations (layer {self.layer})", unit="batch")
        empty = [i for i, n in enumerate(n_content) if n == 0]
        if empty:
            yield ActivationBatch(
                empty,
                torch.zeros(0, self.d_model, device=self.device),
                torch.zeros(0, dtype=torch.long, device=self.device),
                [0] * len(empty),
            )
        for batch in batches:
            yield self._run_batch([runnable[j] for j in batch], tokenized, reference_norm)

    def _run_batch(
        self, indices: list[int], tokenized: list[TokenizedText], reference_norm: float | None
    ) -> ActivationBatch:
        # Padded [rows, width] tensors filled in one step each (row-major order of the mask is
        # each row's prefix in turn), not row by row.
        lengths = torch.tensor([len(tokenized[i].input_ids) for i in indices])
        width = int(lengths.max())
        attention = torch.arange(width).unsqueeze(0) < lengths.unsqueeze(1)
        ids = torch.full((len(indices), width), self._pad_id, dtype=torch.long)
        ids[attention] = torch.tensor([t for i in indices for t in tokenized[i].input_ids], dtype=torch.long)
        content = torch.zeros((len(indices), width), dtype=torch.bool)
        content[attention] = torch.tensor([m for i in indices for m in tokenized[i].content_mask], dtype=torch.bool)
        ids, attention, content = ids.to(self.device), attention.to(self.device), content.to(self.device)
        hidden = self.hidden_states(ids, attention.long())
        n_content = content.sum(dim=1).tolist()
        rows = torch.arange(len(indices), device=self.device).unsqueeze(1).expand(-1, width)[content]
        positions = torch.arange(width, device=self.device).unsqueeze(0).expand(len(indices), -1)[content]
        token_ids = ids[content]
        tokens = hidden[content]
        norms = torch.linalg.vector_norm(tokens, dim=-1, dtype=torch.float32)
        self.stats.n_content_tokens += int(tokens.shape[0])
        if self.outlier_norm_factor is not None and tokens.shape[0]:
            ref = reference_norm if reference_norm is not None else float(norms.median())
            keep = norms <= self.outlier_norm_factor * ref
            self.stats.n_outlier_tokens += int((~keep).sum())
            tokens, rows, norms = tokens[keep], rows[keep], norms[keep]
            token_ids, positions = token_ids[keep], positions[keep]
        self.stats.kept_norm_sum += float(norms.sum())
        return ActivationBatch(indices, tokens, rows, n_content, token_ids, positions)
