"""The shared Generator on a local transformers model: batching, seeding, the disk cache, spec errors."""

from __future__ import annotations

import json
import shutil

import pytest

from fac_datasets.cache import cache_root
from fac_datasets.config import GenerationParams, GeneratorConfig
from fac_datasets.constants import DEFAULT_MODEL_ID, EMBEDDED_MODEL_GGUF
from fac_datasets.errors import FacConfigError, FacInputError, FacModelError, FacOfflineError
from fac_datasets.generation import load_generator
from fac_datasets.generation.generator import Generation, cache_file
from fac_datasets.generation.transformers_generator import TransformersGenerator

CONVERSATIONS = [
    [{"role": "user", "content": "How do I reverse a list in Python?"}],
    [
        {"role": "system", "content": "Answer in one line."},
        {"role": "user", "content": "Write a short poem about the ocean at night."},
    ],
    [{"role": "user", "content": "Hi"}],
]
PARAMS = GenerationParams(max_new_tokens=6, temperature=0.9, seed=3)


@pytest.fixture()
def cache_env(tmp_path, monkeypatch):
    monkeypatch.setenv("FAC_DATASETS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_generate_then_a_new_generator_reruns_from_cache_only(tiny_model_dir, cache_env):
    spec = f"hf:{tiny_model_dir}"
    first_gen = load_generator(spec, GeneratorConfig(batch_size=2))
    assert isinstance(first_gen, TransformersGenerator)
    assert first_gen.generator_id == f"transformers:{tiny_model_dir.resolve()}"
    first = first_gen.generate(CONVERSATIONS, PARAMS)
    assert len(first) == 3
    assert all(isinstance(g, Generation) and g.ok and isinstance(g.text, str) and not g.cached for g in first)
    assert all(1 <= g.completion_tokens <= PARAMS.max_new_tokens and g.prompt_tokens > 0 for g in first)
    # the system message makes the second prompt the longest
    assert first[1].prompt_tokens > first[0].prompt_tokens > first[2].prompt_tokens
    stats = first_gen.stats
    assert (stats.calls, stats.cache_hits, stats.errors) == (3, 0, 0)
    assert stats.prompt_tokens == sum(g.prompt_tokens for g in first)
    assert stats.completion_tokens == sum(g.completion_tokens for g in first)
    first_gen.close()
    assert cache_file(first_gen.generator_id).is_relative_to(cache_root() / "generations")
    assert cache_file(first_gen.generator_id).is_file()

    rerun_gen = load_generator(spec, GeneratorConfig(batch_size=2))
    rerun = rerun_gen.generate(CONVERSATIONS, PARAMS)
    assert rerun_gen.stats.calls == 0 and rerun_gen.stats.cache_hits == 3
    assert [g.text for g in rerun] == [g.text for g in first]
    assert all(g.cached for g in rerun)
    assert [(g.prompt_tokens, g.completion_tokens) for g in rerun] == [
        (g.prompt_tokens, g.completion_tokens) for g in first
    ]

    rerun_gen.generate(CONVERSATIONS, GenerationParams(max_new_tokens=6, temperature=0.9, seed=4))
    assert rerun_gen.stats.calls == 3 and rerun_gen.stats.cache_hits == 3
    rerun_gen.generate(CONVERSATIONS[:1], GenerationParams(max_new_tokens=5, temperature=0.9, seed=3))
    assert rerun_gen.stats.calls == 4


def test_seeded_sampling_reproduces_without_the_cache(tiny_model_dir, tmp_path):
    texts = []
    for name in ("a", "b"):
        generator = load_generator(f"hf:{tiny_model_dir}", GeneratorConfig(cache_dir=tmp_path / name, batch_size=2))
        texts.append([g.text for g in generator.generate(CONVERSATIONS, PARAMS)])
        assert generator.stats.calls == 3 and generator.stats.cache_hits == 0
    assert texts[0] == texts[1]


def test_left_padded_batches_give_the_same_greedy_answers_as_single_prompts(tiny_model_dir, tmp_path):
    greedy = GenerationParams(max_new_tokens=8, temperature=0)
    batched = load_generator(f"hf:{tiny_model_dir}", GeneratorConfig(cache_dir=tmp_path / "b", batch_size=3))
    single = load_generator(f"hf:{tiny_model_dir}", GeneratorConfig(cache_dir=tmp_path / "s", batch_size=1))
    together = batched.generate(CONVERSATIONS, greedy)
    alone = single.generate(CONVERSATIONS, greedy)
    assert [g.text for g in together] == [g.text for g in alone]
    assert [g.completion_tokens for g in together] == [g.completion_tokens for g in alone]


def test_duplicate_conversations_are_generated_once(tiny_model_dir, tmp_path):
    generator = load_generator(f"hf:{tiny_model_dir}", GeneratorConfig(cache_dir=tmp_path))
    out = generator.generate([CONVERSATIONS[0], CONVERSATIONS[2], CONVERSATIONS[0]], PARAMS)
    assert out[0].text == out[2].text
    assert generator.stats.calls == 2


def test_bad_conversations_are_input_errors(tiny_model_dir, tmp_path):
    generator = load_generator(f"hf:{tiny_model_dir}", GeneratorConfig(cache_dir=tmp_path))
    with pytest.raises(FacInputError, match="list of conversations"):
        generator.generate(CONVERSATIONS[0], PARAMS)  # one conversation, not a list of them
    with pytest.raises(FacInputError, match="Conversation 1"):
        generator.generate([CONVERSATIONS[0], [{"role": "user"}]], PARAMS)
    assert generator.stats.calls == 0


def test_model_without_chat_template_is_a_model_error(tiny_model_dir, tmp_path):
    folder = tmp_path / "no-template"
    shutil.copytree(tiny_model_dir, folder)
    (folder / "chat_template.jinja").unlink(missing_ok=True)
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config.pop("chat_template", None)
    config_path.write_text(json.dumps(config))
    with pytest.raises(FacModelError, match="no chat template") as info:
        load_generator(f"hf:{folder}", GeneratorConfig(cache_dir=tmp_path / "cache"))
    assert str(folder.resolve()) in str(info.value)


@pytest.mark.parametrize(
    "spec", ["", "gpt-4o", "hf:", "openai:", "openai:llama3", "openai:@http://localhost:8000/v1", "openai:m@localhost"]
)
def test_bad_specs_list_the_accepted_forms(spec):
    with pytest.raises(FacConfigError) as info:
        load_generator(spec)
    message = str(info.value)
    assert repr(spec) in message
    for form in ("'default'", "'hf:PATH_OR_HUB_ID'", "'openai:MODEL@BASE_URL'"):
        assert form in message


def test_config_spec_is_used_when_no_spec_is_given():
    with pytest.raises(FacConfigError, match="'nonsense'"):
        load_generator(config=GeneratorConfig(spec="nonsense"))


def test_offline_hub_id_is_one_offline_error(tmp_path):
    with pytest.raises(FacOfflineError, match="nobody-fac/not-a-model"):
        load_generator("hf:nobody-fac/not-a-model", GeneratorConfig(cache_dir=tmp_path))


def test_bad_generation_params_are_config_errors():
    with pytest.raises(FacConfigError, match="temperature"):
        GenerationParams(temperature=-1)
    with pytest.raises(FacConfigError, match="stop"):
        GenerationParams(stop=[""])
    with pytest.raises(FacConfigError, match="device"):
        GeneratorConfig(device="tpu")


@pytest.mark.slow
def test_default_embedded_model_answers_and_caches(tmp_path):
    conversations = [
        [{"role": "user", "content": "What is the capital of France? Answer in one word."}],
        [{"role": "user", "content": "Name a colour."}],
    ]
    params = GenerationParams(max_new_tokens=16, temperature=0)
    config = GeneratorConfig(cache_dir=tmp_path)
    generator = load_generator("default", config)
    assert generator.generator_id == f"transformers:{DEFAULT_MODEL_ID}@{EMBEDDED_MODEL_GGUF}"
    first = generator.generate(conversations, params)
    assert all(g.ok and g.text.strip() for g in first), first
    assert generator.stats.calls == 2 and generator.stats.completion_tokens > 0
    rerun = load_generator("default", config)
    second = rerun.generate(conversations, params)
    assert [g.text for g in second] == [g.text for g in first]
    assert rerun.stats.calls == 0 and rerun.stats.cache_hits == 2
