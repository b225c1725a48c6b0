"""The distilabel pipeline end to end, offline: planted SAE on the tiny model, a scripted local chat server.

distilabel runs each step in its own process, so this also checks that the steps load their models
from specs and that the LLM adapter reaches a real HTTP endpoint.
"""

# ruff: noqa: F811 - the planted-setup fixtures are imported from synth_setup by name

from __future__ import annotations

import json

import pytest
from synth_setup import (  # noqa: F401
    ANCHOR,
    CURRENT,
    MAX_LENGTH,
    PLANTED_TOKENS,
    neutral_text,
    planted,
    planted_catalog,
    planted_extractor,
    targets_in,
)

from fac_datasets.config import SynthesisConfig
from fac_datasets.features.extractor import load_extractor
from fac_datasets.pipelines import steps as S
from fac_datasets.pipelines.builders import missing_feature_rows, synthesis_pipeline
from fac_datasets.pipelines.llm import FacGeneratorLLM

pytestmark = pytest.mark.slow  # distilabel starts a process per step

CONFIG = SynthesisConfig(candidates=3, samples_per_feature=2)


def scripted(body: dict, question: str) -> str:
    """Step 1: only the candidate with seed 1 (the second) fires; step 2: 'dog' requests never fire,
    'shore' requests answer garbage on seed 0; everything else fires."""
    (word,) = targets_in(question)
    step, seed = (2 if "Good example" in question else 1), body["seed"]
    if step == 2 and word == "shore" and seed == 0:
        return "Sorry, I cannot write that."
    fires = seed == 1 if step == 1 else word != "dog"
    salt = sum(map(ord, word)) * 100 + step * 10 + seed
    return json.dumps({"query": neutral_text(salt, insert=word if fires else None)})


def test_pipeline_runs_offline_and_every_accepted_sample_fires_its_target(
    chat_server, tmp_path, monkeypatch, planted, planted_extractor, planted_catalog
):
    monkeypatch.setenv("DISTILABEL_CACHE_DIR", str(tmp_path / "distilabel"))
    chat_server.reply_text = scripted
    rows, missing = missing_feature_rows(
        ANCHOR, CURRENT, "toxicity", extractor=planted_extractor, catalog=planted_catalog, work_dir=tmp_path / "w"
    )
    ids = planted.ids
    assert sorted(r[S.FEATURE_ID] for r in rows) == sorted(missing) == sorted(ids.values())
    extractor = {"model": str(planted.model_dir), "sae": str(planted.sae_dir), "max_length": MAX_LENGTH}
    pipeline = synthesis_pipeline(
        rows,
        "toxicity",
        extractor=extractor,
        missing=missing,
        reference_texts=ANCHOR + CURRENT,
        generator=f"openai:scripted@{chat_server.base_url}",
        generator_config={"cache_dir": str(tmp_path / "cache"), "max_retries": 0},
        config=CONFIG,
        cache_dir=tmp_path / "distilabel",
    )
    data = pipeline.run(use_cache=False)["default"]["train"]

    # 3 candidates + 2 samples per feature; no row dropped: one output row per step-2 generation.
    assert len(chat_server.requests) == 3 * 5
    assert all(r["response_format"]["json_schema"]["schema"]["required"] == ["query"] for r in chat_server.requests)
    assert len(data) == 3 * 2
    by_word = {word: [r for r in data if r[S.FEATURE_ID] == f] for word, f in ids.items()}
    for word, produced in by_word.items():
        pair = produced[0][S.PAIR]
        assert pair["fallback"] is False and pair["bad_fires"] is False
        assert f"<<{PLANTED_TOKENS[word].strip()}>>" in pair["good_marked"]
    assert [r[S.ACCEPTED] for r in by_word["sea"]] == [True, True]
    assert [r[S.ACCEPTED] for r in by_word["dog"]] == [False, False]  # the SAE filter marks, never drops
    assert all(not r[S.SAE_ACCEPTED] for r in by_word["dog"])
    shore = sorted(by_word["shore"], key=lambda r: r[S.SAE_TEXT] is None)
    assert shore[1][S.SAMPLE] is None and shore[1][S.PARSE_ERROR] and not shore[1][S.ACCEPTED]
    assert shore[0][S.ACCEPTED]

    # Independent re-check with a freshly loaded extractor.
    fresh = load_extractor(**extractor)
    accepted = [r for r in data if r[S.ACCEPTED]]
    assert len(accepted) == 3
    for row, sample in zip(accepted, fresh.extract([r[S.SAE_TEXT] for r in accepted]), strict=True):
        assert row[S.FEATURE_ID] in sample.features
        assert sample.activations[sample.features.index(row[S.FEATURE_ID])] == pytest.approx(row[S.ACTIVATION])


def test_llm_adapter_gives_repeats_new_seeds_and_a_rerun_hits_the_cache(chat_server, tmp_path):
    chat_server.reply_text = lambda body, question: f"{question} #{body['seed']}"
    conversation = [{"role": "user", "content": "Write a question."}]
    config = {"cache_dir": str(tmp_path / "cache"), "max_retries": 0}
    llm = FacGeneratorLLM(spec=f"openai:m@{chat_server.base_url}", generator_config=config)
    llm.load()
    first = llm.generate([conversation, conversation], num_generations=2, seed=5)
    assert [o["generations"] for o in first] == [
        ["Write a question. #5", "Write a question. #6"],
        ["Write a question. #7", "Write a question. #8"],
    ]
    assert first[0]["statistics"]["output_tokens"] == [3, 3]
    llm.unload()
    again = FacGeneratorLLM(spec=f"openai:m@{chat_server.base_url}", generator_config=config)
    again.load()
    assert again.generate([conversation, conversation], num_generations=2, seed=5) == [
        {**o, "statistics": o["statistics"]} for o in first
    ]
    assert len(chat_server.requests) == 4 and again.stats["cache_hits"] == 4


def test_magpie_continues_an_empty_user_turn(chat_server, tmp_path):
    from distilabel.steps.tasks import Magpie

    chat_server.reply_text = lambda body, question: "How do tides work?"
    llm = FacGeneratorLLM(
        spec=f"openai:m@{chat_server.base_url}",
        generator_config={"cache_dir": str(tmp_path / "cache")},
        use_magpie_template=True,
    )
    task = Magpie(llm=llm, only_instruction=True)
    task.load()
    (rows,) = list(task.process([{"system_prompt": "You write questions about the sea."}]))
    assert rows[0]["instruction"] == "How do tides work?"
    body = chat_server.requests[0]
    assert body["messages"][-1] == {"role": "user", "content": ""}
    assert body["continue_final_message"] is True and body["add_generation_prompt"] is False
