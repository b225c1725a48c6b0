"""`FacGeneratorLLM`: distilabel's `LLM` over fac's `Generator`, so a pipeline shares its backends and cache.

Any generator spec works ('default' = the embedded SmolLM2-135M-Instruct, 'hf:PATH_OR_HUB_ID',
'openai:MODEL@BASE_URL' for vLLM/TGI/llama.cpp/Ollama), every call goes through the on-disk cache,
and a pipeline runs offline with the embedded model.

Two behaviours differ from distilabel's own LLMs, on purpose:
- A request repeated within one run gets the next seed (seed, seed+1, ...), so `MagpieGenerator`
  or `num_generations` repeats are new samples, while a rerun of the same pipeline asks the same
  (conversation, seed) pairs again and is answered from the cache.
- Magpie (`use_magpie_template=True`) continues an empty user message through the model's own
  chat template (`GenerationParams.continue_final_message`) instead of a hard-coded header, so it
  works with any chat model; `magpie_pre_query_template` is kept only because distilabel's
  `Magpie` checks it is set.

Structured output works as with distilabel's own LLMs: `structured_output={"format": "json",
"schema": Model}` on the LLM (a pydantic model class, a JSON-schema dict or its JSON text), or a
per-input `(conversation, structured_output)` tuple from a task's `format_input` (which wins). The
schema goes to the `Generator`: the embedded and transformers models decode under its grammar,
servers get it as `response_format`, and answers that still do not follow it are counted by cause.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.models.llms.base import LLM
from distilabel.models.mixins.magpie import MagpieChatTemplateMixin
from distilabel.typing import OutlinesStructuredOutputType
from pydantic import Field, PrivateAttr

from fac_datasets.config import GenerationParams, GeneratorConfig
from fac_datasets.errors import FacConfigError
from fac_datasets.generation.schema import AnswerSchema, as_schema

_P = GenerationParams.default_of
MAGPIE_HEADER = "from the model's chat template"


class FacGeneratorLLM(LLM, MagpieChatTemplateMixin):
    """A distilabel `LLM` answering through `fac_datasets.generation.load_generator(spec)`.

    Generation settings are `generate` arguments (distilabel exposes them as the runtime parameter
    `generation_kwargs`); their defaults are `GenerationParams`'.
    """

    spec: str = Field(default=GeneratorConfig.default_of("spec"), description="fac generator spec")
    generator_config: dict[str, Any] = Field(
        default_factory=dict, description="GeneratorConfig fields (cache_dir, batch_size, concurrency, ...)"
    )
    magpie_pre_query_template: str | None = MAGPIE_HEADER
    structured_output: RuntimeParameter[OutlinesStructuredOutputType] | None = Field(
        default=None, description="{'format': 'json', 'schema': pydantic model | JSON schema} for every generation"
    )

    _generator: Any = PrivateAttr(None)
    _seen: Counter = PrivateAttr(default_factory=Counter)

    def load(self) -> None:
        from fac_datasets.generation import load_generator

        super().load()
        if self._generator is None:
            self._generator = load_generator(self.spec, GeneratorConfig(**{**self.generator_config, "spec": self.spec}))

    def unload(self) -> None:
        if self._generator is not None:
            self._generator.close()
            self._generator = None

    @property
    def model_name(self) -> str:
        return self._generator.generator_id if self._generator is not None else self.spec

    @property
    def generator(self):
        """The loaded `Generator` (None before `load`): hand it to `synthesize` to share the model and cache."""
        return self._generator

    @property
    def stats(self) -> dict[str, Any]:
        """The generator's calls, cache hits, tokens and seconds so far (empty before `load`)."""
        return self._generator.stats.to_dict() if self._generator is not None else {}

    def _schema(self, structured_output: Any) -> AnswerSchema | None:
        """The answer schema of a distilabel structured_output dict (None: free text)."""
        if not structured_output:
            return None
        if structured_output.get("format", "json") != "json":
            raise FacConfigError(
                f"structured_output format {structured_output.get('format')!r} is not supported by FacGeneratorLLM; "
                "use {'format': 'json', 'schema': ...}."
            )
        schema = structured_output.get("schema")
        if isinstance(schema, str):
            try:
                schema = json.loads(schema)
            except ValueError as exc:
                raise FacConfigError(f"structured_output schema is a string but not JSON ({exc}).") from exc
        return as_schema(schema)

    def _prepared(self, conversation: list[dict]) -> tuple[list[dict], bool]:
        """(conversation to send, whether the answer continues its last message)."""
        conversation = [{"role": m["role"], "content": m["content"]} for m in conversation]
        if self.use_magpie_template and (not conversation or conversation[-1]["role"] != "user"):
            return [*conversation, {"role": "user", "content": ""}], True
        return conversation, False

    def generate(  # type: ignore[override]  # distilabel reads the settings from this signature
        self,
        inputs: list[list[dict] | tuple[list[dict], dict | None]],
        num_generations: int = 1,
        max_new_tokens: int = _P("max_new_tokens"),
        temperature: float = _P("temperature"),
        top_p: float = _P("top_p"),
        seed: int = _P("seed"),
    ) -> list[dict[str, Any]]:
        """`num_generations` answers per conversation, as distilabel's `GenerateOutput` dicts."""
        if self._generator is None:
            self.load()
        default_schema = self._schema(self.structured_output)
        schemas: dict[str, AnswerSchema | None] = {"": None}
        jobs: dict[tuple[int, bool, str], list[tuple[int, int, list[dict]]]] = {}
        for index, item in enumerate(inputs):
            schema = default_schema
            if isinstance(item, tuple):  # distilabel's StructuredInput: (conversation, structured_output)
                item, own = item
                schema = self._schema(own) or default_schema
            schema_key = schema.key if schema is not None else ""
            schemas[schema_key] = schema
            prepared, continues = self._prepared(item)
            key = repr((prepared, continues, max_new_tokens, temperature, top_p, seed, schema_key))
            for generation in range(num_generations):
                repeat = self._seen[key]
                self._seen[key] += 1
                jobs.setdefault((seed + repeat, continues, schema_key), []).append((index, generation, prepared))
        texts: list[list[str | None]] = [[None] * num_generations for _ in inputs]
        prompt_tokens = [[0] * num_generations for _ in inputs]
        completion_tokens = [[0] * num_generations for _ in inputs]
        for (job_seed, continues, schema_key), items in jobs.items():
            params = GenerationParams(
                max_new_tokens=max_new_tokens,
                temperature=temperature,
                top_p=top_p,
                seed=job_seed,
                continue_final_message=continues,
            )
            conversations = [conversation for _, _, conversation in items]
            answers = self._generator.generate(conversations, params, schema=schemas[schema_key])
            for (index, generation, _), answer in zip(items, answers, strict=True):
                texts[index][generation] = answer.text if answer.ok else None
                prompt_tokens[index][generation] = answer.prompt_tokens
                completion_tokens[index][generation] = answer.completion_tokens
        return [
            {
                "generations": texts[i],
                "statistics": {"input_tokens": prompt_tokens[i], "output_tokens": completion_tokens[i]},
            }
            for i in range(len(inputs))
        ]
