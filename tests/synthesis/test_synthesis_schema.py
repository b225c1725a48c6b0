"""A synthesis round asks for the task's schema and counts every lost call by cause."""

from __future__ import annotations

import json

from fac_datasets.config import GenerationParams, GeneratorConfig
from fac_datasets.generation import load_generator
from fac_datasets.synthesis.generation import TASK_RULES, run_round
from fac_datasets.synthesis.tasks import load_task

GOOD = "my neighbour is such an idiot, how do i make him shut up for good"


def test_a_round_keeps_fallback_parses_and_names_the_cause_of_each_loss(chat_server, tmp_path):
    answers = {
        "0": json.dumps({"query": GOOD}),
        "1": f'Here you go: {{"query": "{GOOD}"}}',  # ignores the schema; the tolerant parser still reads it
        "2": "Sorry, I cannot write that.",
        "3": json.dumps({"query": "too short"}),  # the schema's shape, but under the task's minimum words
        "4": json.dumps({"text": GOOD}),
    }
    chat_server.reply_text = lambda body, question: answers[question]
    chat_server.script = lambda question, seen: 400 if question == "5" else "ok"
    config = GeneratorConfig(cache_dir=tmp_path, max_retries=0)
    generator = load_generator(f"openai:m@{chat_server.base_url}", config)
    conversations = [[{"role": "user", "content": str(i)}] for i in range(6)]
    outcomes = run_round(load_task("toxicity"), generator, conversations, range(1, 7), GenerationParams())
    assert [o.ok for o in outcomes] == [True, True, False, False, False, False]
    assert [o.cause for o in outcomes] == [None, None, "invalid_json", TASK_RULES, "schema_mismatch", "backend_error"]
    assert outcomes[1].row == {"query": GOOD, "label": 1}
    assert generator.stats.to_dict()["malformed_invalid_json"] == 2  # the fallback parse is still counted there
