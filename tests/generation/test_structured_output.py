"""Structured output: a schema constrains a local model, rides along to a server, keys the cache, and
answers that do not follow it are counted by cause, never raised."""

from __future__ import annotations

import json
from typing import Annotated

import pytest
from pydantic import BaseModel, ConfigDict, Field

from fac_datasets.config import GenerationParams, GeneratorConfig, SynthesisConfig
from fac_datasets.errors import FacConfigError
from fac_datasets.generation import load_generator
from fac_datasets.generation.generator import cache_key
from fac_datasets.generation.parsing import parse_json_object
from fac_datasets.generation.schema import as_schema
from fac_datasets.synthesis.schema import answer_model, answer_schema
from fac_datasets.synthesis.tasks import load_task

PARAMS = GenerationParams(max_new_tokens=16, temperature=0.0, seed=1)


class Pet(BaseModel):
    model_config = ConfigDict(extra="forbid")  # else JSON schema allows any further keys, and a random model adds them

    name: str = Field(min_length=1, max_length=6)
    legs: int = Field(ge=0, le=8)
    tags: list[Annotated[str, Field(max_length=6)]] = Field(max_length=2)


def conversation(i: int) -> list[dict]:
    return [{"role": "user", "content": f"question {i}"}]


def test_a_schemaless_key_is_unchanged_and_a_schema_changes_the_key():
    conv = [{"role": "user", "content": "question 0"}]
    generator_id = "openai:tiny-chat@http://127.0.0.1:1/v1"
    before = "4eacc1be3a4a634ebc478db94885d2d419c9d62a21eae90ad4b3891668bda699"  # computed before schemas existed
    assert cache_key(generator_id, conv, PARAMS) == before
    assert cache_key(generator_id, conv, PARAMS, None) == before
    with_pet = cache_key(generator_id, conv, PARAMS, as_schema(Pet))
    with_dict = cache_key(generator_id, conv, PARAMS, as_schema({"type": "object"}))
    assert len({before, with_pet, with_dict}) == 3


def test_the_transformers_backend_makes_a_random_model_write_valid_json(tiny_model_dir, tmp_path):
    generator = load_generator(f"hf:{tiny_model_dir}", GeneratorConfig(cache_dir=tmp_path, batch_size=2))
    params = GenerationParams(max_new_tokens=80, temperature=0.8, seed=3)
    free = generator.generate([conversation(i) for i in range(3)], params)
    assert not any(_is_pet(g.text) for g in free)  # a random model alone writes no JSON
    out = generator.generate([conversation(i) for i in range(3)], params, schema=Pet)
    assert all(g.ok and g.malformed is None for g in out), out
    assert all(_is_pet(g.text) for g in out)
    assert not any(key.startswith("malformed_") for key in generator.stats.to_dict())
    greedy = generator.generate([conversation(9)], PARAMS.model_copy(update={"max_new_tokens": 80}), schema=Pet)
    assert _is_pet(greedy[0].text)
    rerun = generator.generate([conversation(i) for i in range(3)], params, schema=Pet)
    assert [g.text for g in rerun] == [g.text for g in out] and all(g.cached for g in rerun)


def _is_pet(text: str | None) -> bool:
    try:
        Pet.model_validate_json(text or "")
    except ValueError:
        return False
    return True


def test_an_answer_cut_by_max_new_tokens_is_counted_as_truncated(tiny_model_dir, tmp_path):
    generator = load_generator(f"hf:{tiny_model_dir}", GeneratorConfig(cache_dir=tmp_path))
    (out,) = generator.generate([conversation(0)], PARAMS.model_copy(update={"max_new_tokens": 4}), schema=Pet)
    assert out.ok and out.text.startswith("{") and out.malformed == "truncated"
    assert generator.stats.to_dict()["malformed_truncated"] == 1


def test_a_schema_the_local_model_cannot_constrain_is_one_clear_line(tiny_model_dir, tmp_path):
    generator = load_generator(f"hf:{tiny_model_dir}", GeneratorConfig(cache_dir=tmp_path))
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "if": {"required": ["a"]}, "then": {}}
    with pytest.raises(FacConfigError) as info:
        generator.generate([conversation(0)], PARAMS, schema=schema)
    message = str(info.value)
    assert "\n" not in message and "cannot be constrained" in message
    assert 'Unimplemented keys: ["if", "then"]' in message
    assert generator.stats.calls == 0
    with pytest.raises(FacConfigError, match="not a valid JSON schema"):
        generator.generate([conversation(0)], PARAMS, schema={"type": "no-such-type"})
    with pytest.raises(FacConfigError, match="pydantic model class or a JSON-schema dict"):
        generator.generate([conversation(0)], PARAMS, schema="Pet")


def test_a_server_request_carries_response_format_and_the_guided_fields(chat_server, tmp_path):
    chat_server.reply_text = lambda body, question: json.dumps({"name": "Rex", "legs": 4, "tags": []})
    generator = load_generator(f"openai:tiny-chat@{chat_server.base_url}", GeneratorConfig(cache_dir=tmp_path))
    out = generator.generate([conversation(0), conversation(1)], PARAMS, schema=Pet)
    assert all(g.ok and g.malformed is None and _is_pet(g.text) for g in out)
    sent = chat_server.requests[0]
    schema = Pet.model_json_schema()
    assert sent["response_format"] == {"type": "json_schema", "json_schema": {"name": "Pet", "schema": schema}}
    assert sent["guided_json"] == schema and sent["structured_outputs"] == {"json": schema}
    assert sent["json_schema"] == schema
    generator.generate([conversation(2)], PARAMS)
    assert not {"response_format", "guided_json", "json_schema"} & set(chat_server.requests[-1])


def test_a_server_that_ignores_the_schema_falls_back_to_parsing_counted_by_cause(chat_server, tmp_path):
    answers = {
        "question 0": 'Sure! Here it is: {"name": "Rex", "legs": 4, "tags": []} Hope that helps.',
        "question 1": json.dumps({"name": "Rex"}),
        "question 2": "",
        "question 3": '{"name": "Rex", "legs":',
    }
    chat_server.reply_text = lambda body, question: answers[question]
    chat_server.script = lambda question, seen: 400 if question == "question 4" else "ok"
    generator = load_generator(f"openai:tiny-chat@{chat_server.base_url}", GeneratorConfig(cache_dir=tmp_path))
    out = generator.generate([conversation(i) for i in range(5)], PARAMS, schema=Pet)
    assert [g.malformed for g in out] == ["invalid_json", "schema_mismatch", "empty", "truncated", "backend_error"]
    assert parse_json_object(out[0].text, ["name", "legs"]).value == {"name": "Rex", "legs": 4, "tags": []}
    stats = generator.stats.to_dict()
    assert [stats[f"malformed_{c}"] for c in ("invalid_json", "schema_mismatch", "empty", "truncated")] == [1] * 4
    assert stats["malformed_backend_error"] == 1 and stats["errors"] == 1


def test_a_server_that_refuses_the_guided_fields_is_asked_again_with_less_and_remembers(chat_server, tmp_path):
    def refuse_unknown_fields(question, seen):
        body = chat_server.requests[-1]
        return 400 if {"guided_json", "structured_outputs", "json_schema"} & set(body) else "ok"

    chat_server.script = refuse_unknown_fields
    chat_server.reply_text = lambda body, question: json.dumps({"name": "Rex", "legs": 4, "tags": ["a"]})
    config = GeneratorConfig(cache_dir=tmp_path, concurrency=1)
    generator = load_generator(f"openai:tiny-chat@{chat_server.base_url}", config)
    (first,) = generator.generate([conversation(0)], PARAMS, schema=Pet)
    assert first.ok and first.malformed is None
    assert [("guided_json" in r, "response_format" in r) for r in chat_server.requests] == [(True, True), (False, True)]
    assert generator.schema_level == 1 and generator.stats.retries == 1
    generator.generate([conversation(1)], PARAMS, schema=Pet)
    assert len(chat_server.requests) == 3 and "guided_json" not in chat_server.requests[-1]


def test_samples_per_call_below_one_is_one_clear_line():
    task = load_task("toxicity")
    for bad in (0, -2):
        with pytest.raises(FacConfigError) as info:
            answer_model(task, bad)
        assert "\n" not in str(info.value) and "samples_per_call" in str(info.value)
    with pytest.raises(FacConfigError, match="samples_per_call"):
        SynthesisConfig(samples_per_call=0)
    assert SynthesisConfig().samples_per_call == 1


def test_a_task_schema_holds_its_generated_columns_and_k_samples():
    task = load_task("reward_modeling")
    one = answer_schema(task).json_schema
    assert one["required"] == ["prompt", "chosen", "rejected"] and one["additionalProperties"] is False
    assert all(p["type"] == "string" for p in one["properties"].values())
    toxicity = answer_schema(load_task("toxicity"))
    assert list(toxicity.json_schema["properties"]) == ["query"]  # the fixed label is not generated
    three = answer_schema(task, 3)
    sample = {"prompt": "Human: hi", "chosen": "Hello!", "rejected": "Go away."}
    assert three.malformed(json.dumps({"samples": [sample] * 3})) is None
    assert three.malformed(json.dumps({"samples": [sample] * 2})) == "schema_mismatch"
    custom = load_task("custom", guideline="Short jokes.", columns={"json": "the joke", "copy": "its topic"})
    assert list(answer_schema(custom).json_schema["properties"]) == ["json", "copy"]
