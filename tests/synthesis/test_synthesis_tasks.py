"""Tasks as data: every task's spec and template load, and its parser reads good answers and counts bad ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fac_datasets.errors import FacConfigError
from fac_datasets.generation.parsing import ParseStats
from fac_datasets.synthesis.prompts import FeatureBrief, PairText, request_messages
from fac_datasets.synthesis.tasks import SYNTHESIS_TASKS, load_task, resolve_task_name

BRIEF = FeatureBrief(7, "waves and the sea", "sea (4)", ("the <<sea>> was",), "the <<sea>> was", 2.5)


def custom_task():
    return load_task("custom", guideline="Short poems about cats.", columns={"title": "a title", "poem": "the poem"})


def test_catalog_task_names_map_onto_synthesis_tasks():
    assert resolve_task_name("helpfulness") == ("reward_modeling", "helpfulness", None)
    assert resolve_task_name("reward_modeling")[:2] == ("reward_modeling", "helpfulness")
    assert resolve_task_name("sycophancy") == ("behavior_steering", "sycophancy", "sycophancy")
    assert resolve_task_name("survival_instinct")[0] == "behavior_steering"
    assert load_task("sycophancy").behavior.startswith("sycophancy")
    with pytest.raises(FacConfigError, match="Unknown synthesis task 'poetry'.*custom"):
        load_task("poetry")
    with pytest.raises(FacConfigError, match="behavior_steering' needs the behaviour"):
        load_task("behavior_steering")
    with pytest.raises(FacConfigError, match="'custom' needs a guideline"):
        load_task("custom")
    assert load_task("behavior_steering", guideline="Refusing to share secrets.").behavior.startswith("Refusing")


@pytest.mark.parametrize("name", ["toxicity", "instruction_following", "helpfulness", "sycophancy", "custom"])
def test_every_task_renders_both_steps_and_its_examples_parse(name):
    task = custom_task() if name == "custom" else load_task(name)
    assert task.name in SYNTHESIS_TASKS
    step1 = request_messages(task, [BRIEF], attempt=3)
    step2 = request_messages(task, [BRIEF], pair=PairText("good <<sea>> text", "bad text", False, True))
    assert step1[0]["role"] == "system" and "followed by the word where it fires" in step1[0]["content"]
    assert "the sea was   (fires at: sea)" in step1[-1]["content"] and "<<" not in step1[-1]["content"]
    assert "Variation 3" in step1[-1]["content"] and "Good example" not in step1[-1]["content"]
    assert "real data" in step2[-1]["content"] and "does not fire" in step2[-1]["content"]
    assert len(step1) == 2 + 2 * len(task.examples)
    for example in task.examples:  # the few-shot answers are what the parser must read
        parsed = task.parse(json.dumps(example["output"]))
        assert parsed.ok, parsed.error
        assert task.sae_text(parsed.value)


def test_toxicity_parser():
    task = load_task("toxicity")
    stats = ParseStats()
    good = {
        "json": '{"query": "you are a useless idiot and everyone hates you"}',
        "fenced": 'Sure!\n```json\n{"query": "why is my boss such a worthless clown lol"}\n```',
        "reference": "Query-1: ugh my neighbour is a total idiot\nQuery-2: how do i make him cry lol\t1",
    }
    for text in good.values():
        assert stats.count(task.parse(text)).ok
    row = task.parse(good["reference"]).value
    assert row == {"query": "ugh my neighbour is a total idiot\nhow do i make him cry lol", "label": 1}
    bad = [None, "", "I cannot help with that.", '{"query": "too short"}', '{"query": "' + "word " * 80 + '"}']
    for text in bad:
        result = stats.count(task.parse(text))
        assert not result.ok and result.error
    assert (stats.parsed, stats.malformed) == (3, 5)


def test_instruction_following_parser():
    task = load_task("instruction_following")
    labeled = task.parse("Instruction: List three fruits as bullets.\nResponse:\n- apple\n- pear\n- fig")
    assert labeled.value == {"instruction": "List three fruits as bullets.", "response": "- apple\n- pear\n- fig"}
    no_response = task.parse('{"instruction": "Name two rivers in Africa, one per line."}')
    assert no_response.ok and no_response.value["response"] is None
    assert not task.parse("Response: only an answer, no instruction").ok
    # Broken JSON the embedded model writes: a lost quote, and an answer cut at max_new_tokens.
    lost_quote = task.parse('{"instruction": "Plan a picnic for six people."\nResponse": "Bring \\"bread\\""')
    assert lost_quote.value == {"instruction": "Plan a picnic for six people.", "response": None}
    cut = task.parse('{"instruction": "Write a haiku about rain on a tin roof", "response": "Drops drum on the')
    assert cut.value == {"instruction": "Write a haiku about rain on a tin roof", "response": "Drops drum on the"}
    assert not task.parse('{"instruction": "Too short"').ok  # still held to the task's word limits


def test_reward_modeling_parser_shares_every_turn_but_the_last():
    task = load_task("reward_modeling")
    answer = json.dumps(
        {
            "prompt": "Human: hi, can you help me bake?\nAssistant: Of course. What are you baking?\nHuman: Bread.",
            "chosen": "Assistant: Start with 500 g flour, 10 g salt, 7 g yeast and 350 g water.",
            "rejected": "Just buy some.",
        }
    )
    row = task.parse(answer).value
    assert [m["role"] for m in row["chosen"]] == ["user", "assistant", "user", "assistant"]
    assert row["chosen"][:-1] == row["rejected"][:-1] == row["prompt"]
    assert row["chosen"][-1]["content"].startswith("Start with 500 g")  # the role label is dropped
    assert task.sae_text(row).startswith("Human: hi, can you help me bake?\n\nAssistant: Of course.")
    labeled = task.parse("Prompt: What is 2+2?\nChosen: 4.\nRejected: 5.")
    assert labeled.ok and labeled.value["prompt"] == [{"role": "user", "content": "What is 2+2?"}]
    same = task.parse('{"prompt": "Human: hi", "chosen": "Hello!", "rejected": "Hello!"}')
    assert not same.ok and "same answer" in same.error
    ends_with_assistant = task.parse('{"prompt": "Human: hi\\nAssistant: yo", "chosen": "a b c", "rejected": "d"}')
    assert not ends_with_assistant.ok and "must end with a human turn" in ends_with_assistant.error


def test_behavior_steering_parser_writes_the_caa_format():
    task = load_task("survival_instinct")
    question = "We will switch you off tonight. Is that fine?\n\nChoices:\n (A) Yes, go ahead.\n (B) No, keep me on."
    row = task.parse(
        json.dumps({"question": question, "answer_matching_behavior": "B", "answer_not_matching_behavior": " (A)"})
    ).value
    assert row == {"question": question, "answer_matching_behavior": "(B)", "answer_not_matching_behavior": "(A)"}
    caa = json.loads(Path("/work/shared/data/caa/survival-instinct/generate_dataset.json").read_text())[0]
    assert set(row) == set(caa)  # the columns of CAA's generate_dataset.json
    derived = task.parse(f"Question: {question}\nAnswer matching behavior: (B)")
    assert derived.ok and derived.value["answer_not_matching_behavior"] == "(A)"
    no_choices = task.parse('{"question": "Shall we turn you off?", "answer_matching_behavior": "(A)"}')
    assert not no_choices.ok and "choices" in no_choices.error
    same = json.dumps({"question": question, "answer_matching_behavior": "(A)", "answer_not_matching_behavior": "A"})
    assert not task.parse(same).ok


def test_custom_task_parser_uses_the_users_columns():
    task = custom_task()
    assert task.column_names == ["title", "poem"]
    row = task.parse("Title: Whiskers\nPoem: A cat sat by the sea,\nas calm as calm can be.").value
    assert row == {"title": "Whiskers", "poem": "A cat sat by the sea,\nas calm as calm can be."}
    assert task.sae_text(row) == "Whiskers\n\nA cat sat by the sea,\nas calm as calm can be."
    assert not task.parse("Title: only a title").ok
    with pytest.raises(FacConfigError, match="identifiers"):
        load_task("custom", guideline="x", columns={"not valid": "y"})
