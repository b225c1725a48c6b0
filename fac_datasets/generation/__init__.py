"""Generation: chat conversations in, texts out, for every stage that asks a model something.

`Generator` (generator.py) owns the sqlite cache, call accounting, the deadline and failed calls as
data; the backends (`transformers_generator`, `openai_generator`) import it and only answer;
`parsing` reads structured answers tolerantly. `load_generator` below is the one place that picks
a backend from a spec, so no backend module is imported by the base (no import cycle).
Catalog, synthesis, review and the distilabel pipelines import from here; this stage imports only
the shared modules (and `features.hardware`/`features.model_spec` for a local model).
"""

from __future__ import annotations

from fac_datasets.config import GeneratorConfig
from fac_datasets.errors import FacConfigError
from fac_datasets.generation.generator import ACCEPTED_SPECS, Conversation, Generation, Generator, GeneratorStats

__all__ = ["ACCEPTED_SPECS", "Conversation", "Generation", "Generator", "GeneratorStats", "load_generator"]


def load_generator(spec: str | None = None, config: GeneratorConfig | None = None) -> Generator:
    """The generator for a spec ('default', 'hf:PATH_OR_HUB_ID', 'openai:MODEL@BASE_URL'); None takes config.spec."""
    config = config or GeneratorConfig()
    spec = config.spec if spec is None else spec
    if not isinstance(spec, str):
        raise FacConfigError(f"Generator spec must be a string, got {spec!r}. Accepted forms: {ACCEPTED_SPECS}.")
    spec = spec.strip()
    if spec == "default" or (spec.startswith("hf:") and spec[3:].strip()):
        from fac_datasets.generation.transformers_generator import TransformersGenerator

        return TransformersGenerator("default" if spec == "default" else spec[3:].strip(), config)
    if spec.startswith("openai:"):
        from fac_datasets.generation.openai_generator import OpenAIGenerator, parse_openai_spec

        model, base_url = parse_openai_spec(spec)
        return OpenAIGenerator(model, base_url, config)
    raise FacConfigError(f"Unknown generator spec {spec!r}. Accepted forms: {ACCEPTED_SPECS}.")
