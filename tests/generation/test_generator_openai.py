"""OpenAIGenerator against a real local HTTP server: order, concurrency, usage, retries, errors, cache, resume."""

from __future__ import annotations

import pytest

from fac_datasets.config import GenerationParams, GeneratorConfig
from fac_datasets.errors import FacInputError
from fac_datasets.generation import load_generator
from fac_datasets.generation.openai_generator import OpenAIGenerator

PARAMS = GenerationParams(max_new_tokens=16, temperature=0.0, seed=1)


def conversation(i: int) -> list[dict]:
    return [{"role": "system", "content": "Be brief."}, {"role": "user", "content": f"question {i}"}]


@pytest.fixture()
def server(chat_server):
    return chat_server


@pytest.fixture()
def config(tmp_path):
    return GeneratorConfig(cache_dir=tmp_path, concurrency=4, max_retries=4, backoff_seconds=0.01, timeout_seconds=5)


def make(server, config: GeneratorConfig) -> OpenAIGenerator:
    generator = load_generator(f"openai:tiny-chat@{server.base_url}", config)
    assert isinstance(generator, OpenAIGenerator)
    return generator


def test_answers_come_back_in_order_with_bounded_concurrency_and_usage(server, config, monkeypatch):
    monkeypatch.delenv("FAC_OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server.delay = lambda q: 0.2 - 0.02 * int(q.split()[-1])  # later questions finish first
    generator = make(server, config)
    assert generator.generator_id == f"openai:tiny-chat@{server.base_url}"
    out = generator.generate([conversation(i) for i in range(8)], PARAMS)
    assert [g.text for g in out] == [f"answer to question {i}" for i in range(8)]
    assert all(g.ok and not g.cached and g.prompt_tokens == 4 and g.completion_tokens == 3 for g in out)
    assert 2 <= server.max_in_flight <= 4
    assert generator.stats.to_dict() | {"seconds": 0} == {
        "calls": 8,
        "cache_hits": 0,
        "prompt_tokens": 32,
        "completion_tokens": 24,
        "errors": 0,
        "not_sent": 0,
        "retries": 0,
        "seconds": 0,
    }
    sent = server.requests[0]
    assert sent["model"] == "tiny-chat" and sent["max_tokens"] == 16 and sent["seed"] == 1
    assert sent["temperature"] == 0.0 and "stop" not in sent
    assert all("authorization" not in {k.lower() for k in h} for h in server.headers)


@pytest.mark.parametrize("failure", [500, 503, 429, "drop"])
def test_transient_failures_are_retried_until_success(server, config, failure):
    server.script = lambda question, seen: failure if seen < 2 else "ok"
    generator = make(server, config)
    (out,) = generator.generate([conversation(0)], PARAMS)
    assert out.ok and out.text == "answer to question 0"
    assert len(server.requests) == 3
    assert (generator.stats.retries, generator.stats.errors, generator.stats.calls) == (2, 0, 1)


def test_persistent_500_gives_errors_after_max_retries_and_is_not_cached(server, tmp_path):
    server.script = lambda question, seen: 500
    config = GeneratorConfig(cache_dir=tmp_path, max_retries=2, backoff_seconds=0.01)
    generator = make(server, config)
    out = generator.generate([conversation(0), conversation(1)], PARAMS)
    assert all(g.text is None and "failed after 3 attempts" in g.error and "HTTP 500" in g.error for g in out)
    assert len(server.requests) == 6
    assert (generator.stats.errors, generator.stats.retries, generator.stats.calls) == (2, 4, 2)
    server.script = lambda question, seen: "ok"
    again = generator.generate([conversation(0), conversation(1)], PARAMS)
    assert all(g.ok and not g.cached for g in again)
    assert len(server.requests) == 8


def test_timeouts_are_retried_then_reported(server, tmp_path):
    server.delay = lambda question: 1.0
    config = GeneratorConfig(cache_dir=tmp_path, max_retries=1, backoff_seconds=0.01, timeout_seconds=0.2)
    generator = make(server, config)
    (out,) = generator.generate([conversation(0)], PARAMS)
    assert not out.ok and "timed out after 0.2s" in out.error
    assert generator.stats.retries == 1 and generator.stats.errors == 1


def test_401_is_not_retried_and_names_the_key_variable(server, config, monkeypatch):
    monkeypatch.setenv("FAC_OPENAI_API_KEY", "sk-wrong")
    server.script = lambda question, seen: 401
    generator = make(server, config)
    (out,) = generator.generate([conversation(0)], PARAMS)
    assert out.text is None and "FAC_OPENAI_API_KEY" in out.error and "401" in out.error
    assert len(server.requests) == 1 and generator.stats.retries == 0 and generator.stats.errors == 1
    assert server.headers[0]["Authorization"] == "Bearer sk-wrong"


def test_openai_api_key_is_the_fallback(server, config, monkeypatch):
    monkeypatch.delenv("FAC_OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fallback")
    make(server, config).generate([conversation(0)], PARAMS)
    assert server.headers[0]["Authorization"] == "Bearer sk-fallback"


def test_other_4xx_is_not_retried(server, config):
    server.script = lambda question, seen: 400
    generator = make(server, config)
    (out,) = generator.generate([conversation(0)], PARAMS)
    assert "HTTP 400" in out.error and "not retried" in out.error and len(server.requests) == 1


def test_wrong_path_404_points_at_the_base_url(server, config):
    generator = load_generator(f"openai:tiny-chat@{server.base_url.removesuffix('/v1')}", config)
    (out,) = generator.generate([conversation(0)], PARAMS)
    assert "HTTP 404" in out.error and "/v1" in out.error and len(server.requests) == 1


def test_cache_makes_a_rerun_send_zero_requests(server, config):
    conversations = [conversation(i) for i in range(5)]
    first = make(server, config).generate(conversations, PARAMS)
    assert len(server.requests) == 5
    rerun_gen = make(server, config)
    rerun = rerun_gen.generate(conversations, PARAMS, progress=True)
    assert len(server.requests) == 5
    assert [g.text for g in rerun] == [g.text for g in first] and all(g.cached for g in rerun)
    assert rerun_gen.stats.calls == 0 and rerun_gen.stats.cache_hits == 5
    rerun_gen.generate(conversations[:1], GenerationParams(max_new_tokens=16, temperature=0.0, seed=2))
    assert len(server.requests) == 6


def test_interrupted_run_keeps_finished_answers_and_resumes_with_the_missing_one(server, tmp_path):
    conversations = [conversation(i) for i in range(4)]
    config = GeneratorConfig(cache_dir=tmp_path, max_retries=1, backoff_seconds=0.01)
    server.script = lambda question, seen: "drop" if question == "question 2" else "ok"
    first_gen = make(server, config)
    first = first_gen.generate(conversations, PARAMS)
    assert [g.ok for g in first] == [True, True, False, True]
    assert "connection failed" in first[2].error
    assert server.count("question 2") == 2 and len(server.requests) == 5

    server.script = lambda question, seen: "ok"
    rerun_gen = make(server, config)
    rerun = rerun_gen.generate(conversations, PARAMS)
    assert [g.text for g in rerun] == [f"answer to question {i}" for i in range(4)]
    assert [g.cached for g in rerun] == [True, True, False, True]
    assert len(server.requests) == 6 and server.count("question 2") == 3
    assert rerun_gen.stats.calls == 1 and rerun_gen.stats.cache_hits == 3


def test_bad_json_answer_is_an_error_not_a_crash(server, config):
    server.answer = lambda body, question: {"choices": []}
    (out,) = make(server, config).generate([conversation(0)], PARAMS)
    assert out.text is None and "choices[0].message.content" in out.error


def test_stop_strings_are_sent(server, config):
    make(server, config).generate([conversation(0)], GenerationParams(stop=["\n\n", "END"]))
    assert server.requests[0]["stop"] == ["\n\n", "END"]


def test_input_errors_send_nothing(server, config):
    generator = make(server, config)
    with pytest.raises(FacInputError, match="Conversation 0"):
        generator.generate(["just a string"], PARAMS)
    assert generator.generate([], PARAMS) == []
    assert server.requests == []
