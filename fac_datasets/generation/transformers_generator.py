"""`TransformersGenerator`: a local transformers chat model (the embedded default, a folder or a Hub id).

Prompts are sorted by length into batches (little padding), left-padded, and generated under
`torch.inference_mode` with the seed reset per batch, so a rerun of the same call is identical.
The deadline is checked between batches: batches after it are not generated but counted as failed.
Asked with a schema, decoding is grammar-constrained (`constrained`, llguidance), so the answer is
JSON of that shape unless it runs out of new tokens first.
"""

from __future__ import annotations

from typing import Any

from fac_datasets.config import GenerationParams, GeneratorConfig
from fac_datasets.errors import FacModelError
from fac_datasets.features.hardware import resolve_device
from fac_datasets.generation.generator import Conversation, DoneCallback, Generation, Generator
from fac_datasets.generation.schema import AnswerSchema


class TransformersGenerator(Generator):
    """Batched `model.generate` on a causal LM whose tokenizer has a chat template."""

    def __init__(self, model: str = "default", config: GeneratorConfig | None = None) -> None:
        from fac_datasets.constants import EMBEDDED_MODEL_GGUF
        from fac_datasets.features.model_spec import load_causal_lm, resolve_model

        config = config or GeneratorConfig()
        device = resolve_device(config.device)
        resolved = resolve_model(model)
        tokenizer, lm = load_causal_lm(resolved, "float32")
        if not getattr(tokenizer, "chat_template", None):
            raise FacModelError(
                f"Model {resolved.model_id!r} has no chat template, so chat messages cannot be turned into a "
                "prompt. Use an instruct/chat model (its tokenizer_config.json or chat_template.jinja defines "
                "one), e.g. 'default'."
            )
        # The embedded model is a dequantized GGUF: it answers differently from the Hub original,
        # so the two must not share cached answers.
        source = f"@{EMBEDDED_MODEL_GGUF}" if model == "default" else ""
        super().__init__(f"transformers:{resolved.model_id}{source}", config)
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "left"
        self.tokenizer = tokenizer
        self.model = lm.to(device)
        self.device = device
        eos = lm.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if tokenizer.eos_token_id is not None:
            eos_ids.add(tokenizer.eos_token_id)
        self.eos_ids = sorted(eos_ids)
        self._constraint: Any = None

    @property
    def constraint(self) -> Any:
        """The `SchemaConstraint` of this tokenizer (built on first use: llguidance reads the whole vocabulary)."""
        if self._constraint is None:
            from fac_datasets.generation.constrained import SchemaConstraint

            self._constraint = SchemaConstraint(self.tokenizer, self.model.config.vocab_size, self.eos_ids)
        return self._constraint

    def check_schema(self, schema: AnswerSchema) -> None:
        self.constraint.grammar(schema)  # compiled once; one FacConfigError line when it cannot be constrained

    def _run(
        self,
        conversations: list[Conversation],
        params: GenerationParams,
        done: DoneCallback,
        schema: AnswerSchema | None = None,
    ) -> None:
        prompts: list[tuple[int, list[int]]] = []
        for index, conversation in enumerate(conversations):
            try:
                text = self.tokenizer.apply_chat_template(
                    conversation,
                    tokenize=False,
                    add_generation_prompt=not params.continue_final_message,
                    continue_final_message=params.continue_final_message,
                )
            except Exception as exc:  # templates raise what they like (e.g. roles must alternate)
                done(index, Generation(None, error=f"chat template of {self.generator_id} failed: {exc}"))
                continue
            prompts.append((index, self.tokenizer(text, add_special_tokens=False)["input_ids"]))
        prompts.sort(key=lambda item: len(item[1]))
        size = self.config.batch_size
        for start in range(0, len(prompts), size):
            batch = prompts[start : start + size]
            if self.deadline_passed():  # checked between batches: a running batch is not cut
                for index, _ in batch:
                    done(index, self.not_sent())
                continue
            try:
                generations = self._generate_batch([ids for _, ids in batch], params, schema)
            except RuntimeError as exc:  # e.g. out of memory: this batch fails, finished ones stay cached
                generations = [Generation(None, error=f"{self.generator_id}: {exc}")] * len(batch)
            for (index, _), generation in zip(batch, generations, strict=True):
                done(index, generation)

    def _generate_batch(
        self, prompts: list[list[int]], params: GenerationParams, schema: AnswerSchema | None = None
    ) -> list[Generation]:
        import torch

        pad = self.tokenizer.pad_token_id
        width = max(len(ids) for ids in prompts)
        input_ids = torch.full((len(prompts), width), pad, dtype=torch.long)
        attention_mask = torch.zeros_like(input_ids)
        for row, ids in enumerate(prompts):
            input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            attention_mask[row, width - len(ids) :] = 1
        kwargs: dict[str, Any] = {
            "max_new_tokens": params.max_new_tokens,
            "do_sample": params.temperature > 0,
            "pad_token_id": pad,
            "eos_token_id": self.eos_ids,
        }
        if schema is not None:  # the mask goes before temperature and top-p: they come in its list
            processors = self.constraint.processors(schema, len(prompts), params.temperature, params.top_p)
            kwargs.update(temperature=None, top_p=None, top_k=None, logits_processor=processors)
        elif params.temperature > 0:
            kwargs.update(temperature=params.temperature, top_p=params.top_p)
        else:  # greedy: the model's sampling defaults would only raise warnings
            kwargs.update(temperature=None, top_p=None, top_k=None)
        if params.stop:
            kwargs.update(stop_strings=list(params.stop), tokenizer=self.tokenizer)
        torch.manual_seed(params.seed)
        with torch.inference_mode():
            output = self.model.generate(
                input_ids=input_ids.to(self.device), attention_mask=attention_mask.to(self.device), **kwargs
            )
        generations = []
        for row, new in enumerate(output[:, width:].tolist()):
            # generation ends at end-of-turn; rows stopped early (stop strings, shorter answers) are padded
            end = next((i for i, token in enumerate(new) if token in self.eos_ids or token == pad), None)
            kept = new if end is None else new[:end]
            text = self.tokenizer.decode(kept, skip_special_tokens=True)
            generations.append(
                Generation(
                    cut_at_stop(text, params.stop), False, len(prompts[row]), len(new) if end is None else end + 1
                )
            )
        return generations


def cut_at_stop(text: str, stop: tuple[str, ...] | None) -> str:
    """Text up to the first stop string, as OpenAI-compatible servers return it."""
    for s in stop or ():
        position = text.find(s)
        if position >= 0:
            text = text[:position]
    return text
