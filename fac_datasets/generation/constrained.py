"""Grammar-constrained decoding for local transformers models, with llguidance.

At each step the grammar's matcher says which tokens may come next, and every other token's logit
is set to -inf, so even a random model writes JSON of the schema's shape. llguidance was picked
by measurement (BENCHMARKS.md, "Structured output"): no throughput loss we could measure on the
embedded model (its mask is ~1.5% of a step; xgrammar's kernel is cheaper per step), the fastest
schema compile, a 7 MB wheel with no dependencies (xgrammar brings a gigabyte of triton), and the
widest JSON-schema support, naming the keywords it lacks.

`SchemaConstraint` compiles a schema once per tokenizer (cached); `processors` returns the list
to hand to `model.generate` for one batch: the grammar mask first, then temperature and top-p,
so sampling renormalises over the allowed tokens only (transformers would apply a custom
processor after its own warpers, and a top-p that kept no allowed token would break sampling).
"""

from __future__ import annotations

from typing import Any

from fac_datasets.errors import FacConfigError
from fac_datasets.generation.schema import AnswerSchema

# Compact JSON with the separators of json.dumps (what the few-shot answers show): no runs of
# whitespace a small model could loop in until max_new_tokens.
JSON_OPTIONS = {"item_separator": ", ", "key_separator": ": ", "whitespace_flexible": False}


class SchemaConstraint:
    """JSON-schema grammars for one tokenizer; builds the logits processors of a batch."""

    def __init__(self, tokenizer: Any, vocab_size: int, eos_ids: list[int]) -> None:
        import copy

        import llguidance

        backend = copy.copy(tokenizer.backend_tokenizer)  # llguidance reads the fast tokenizer's JSON
        backend.no_padding()
        backend.no_truncation()
        self.tokenizer = llguidance.LLTokenizer(backend.to_str(), n_vocab=vocab_size, eos_token=eos_ids)
        self.vocab_size = vocab_size
        self._grammars: dict[str, str] = {}

    def grammar(self, schema: AnswerSchema) -> str:
        """The llguidance grammar of a schema; one clear line when llguidance cannot constrain it."""
        from llguidance import LLMatcher

        if schema.key not in self._grammars:
            try:
                grammar = LLMatcher.grammar_from_json_schema(schema.json_schema, defaults=JSON_OPTIONS)
            except ValueError as exc:
                raise FacConfigError(f"The answer schema {schema.name!r} is not a JSON object: {exc}.") from exc
            is_error, messages = LLMatcher.validate_grammar_with_warnings(grammar, self.tokenizer)
            if is_error:
                reason = " ".join(messages[0].split())[:300]
                raise FacConfigError(
                    f"The answer schema {schema.name!r} cannot be constrained on a local model ({reason}); "
                    "remove or simplify that part of the schema."
                )
            self._grammars[schema.key] = grammar
        return self._grammars[schema.key]

    def processors(self, schema: AnswerSchema, batch_size: int, temperature: float, top_p: float) -> list[Any]:
        """Logits processors for one `generate` call: the mask, then the sampling warpers (none when greedy)."""
        from transformers import TemperatureLogitsWarper, TopPLogitsWarper

        processors: list[Any] = [_MaskProcessor(self.tokenizer, self.grammar(schema), batch_size, self.vocab_size)]
        if temperature > 0:
            if temperature != 1.0:
                processors.append(TemperatureLogitsWarper(temperature))
            if top_p < 1.0:
                processors.append(TopPLogitsWarper(top_p))
        return processors


class _MaskProcessor:
    """One llguidance matcher per row; tokens the grammar forbids get -inf. Used for one `generate` call."""

    def __init__(self, tokenizer: Any, grammar: str, batch_size: int, vocab_size: int) -> None:
        import llguidance
        import torch

        self.matchers = [llguidance.LLMatcher(tokenizer, grammar, log_level=0) for _ in range(batch_size)]
        self.bitmask = torch.full((batch_size, (vocab_size + 31) // 32), -1, dtype=torch.int32)
        self.shifts = torch.arange(32, dtype=torch.int32)
        self.eos_mask = torch.zeros(self.bitmask.shape[1], dtype=torch.int32)
        for token in tokenizer.eos_tokens:
            self.eos_mask[token // 32] |= 1 << (token % 32)
        self.started = False

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import llguidance.torch

        if self.started:  # the token sampled last step: advance each row's matcher
            for row, matcher in enumerate(self.matchers):
                if not (matcher.is_stopped() or matcher.is_error()):
                    matcher.consume_token(int(input_ids[row, -1]))
        self.started = True
        for row, matcher in enumerate(self.matchers):
            if matcher.is_stopped() or matcher.is_error():  # the answer is complete (or cannot go on): end it
                self.bitmask[row] = self.eos_mask
            else:
                llguidance.torch.fill_next_token_bitmask(matcher, self.bitmask, row)
        allowed = ((self.bitmask.unsqueeze(-1) >> self.shifts) & 1).view(len(self.matchers), -1)
        allowed = allowed[:, : scores.shape[-1]].to(scores.device).bool()
        return scores.masked_fill(~allowed, float("-inf"))
