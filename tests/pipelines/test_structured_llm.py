"""distilabel's structured output through our LLM adapter and the synthesis steps: the schema reaches the Generator."""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field

from fac_datasets.pipelines import steps as S
from fac_datasets.pipelines.llm import FacGeneratorLLM
from fac_datasets.synthesis.prompts import FeatureBrief
from fac_datasets.synthesis.schema import sample_model
from fac_datasets.synthesis.tasks import load_task


class City(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=8)
    rank: int = Field(ge=1, le=99)


def test_distilabel_structured_output_on_our_llm_yields_validated_json(tiny_model_dir, tmp_path):
    from distilabel.steps.tasks import TextGeneration

    llm = FacGeneratorLLM(
        spec=f"hf:{tiny_model_dir}",
        generator_config={"cache_dir": str(tmp_path / "cache")},
        structured_output={"format": "json", "schema": City},
    )
    task = TextGeneration(llm=llm)
    task.load()
    (rows,) = list(task.process([{"instruction": "Name a city."}, {"instruction": "Another city."}]))
    assert len(rows) == 2
    for row in rows:  # a random model: only the grammar makes these valid
        city = City.model_validate_json(row["generation"])
        assert 1 <= city.rank <= 99
    assert not any(key.startswith("malformed_") for key in llm.stats)
    # A per-input schema (distilabel's StructuredInput) wins over the LLM's own; a JSON-text schema works too.
    (out,) = llm.generate([([{"role": "user", "content": "Rank?"}], {"schema": json.dumps(RANK)})])
    assert json.loads(out["generations"][0]).keys() == {"rank"}


RANK = {
    "type": "object",
    "properties": {"rank": {"type": "integer", "minimum": 1, "maximum": 9}},
    "required": ["rank"],
    "additionalProperties": False,
}


def test_the_synthesis_steps_send_the_task_schema_through_the_adapter(chat_server, tmp_path):
    chat_server.reply_text = lambda body, question: json.dumps({"query": "why is my idiot neighbour so loud lol"})
    llm = FacGeneratorLLM(
        spec=f"openai:m@{chat_server.base_url}", generator_config={"cache_dir": str(tmp_path / "cache")}
    )
    step = S.FeatureCandidates(llm=llm, task="toxicity", num_generations=1)
    step.load()
    brief = FeatureBrief(7, "insults", "idiot (3)", ("a total <<idiot>>",), None, 0.0).to_dict()
    (rows,) = list(step.process([{S.FEATURE_ID: 7, S.BRIEF: brief}]))
    assert rows[0][S.CANDIDATES] == ["why is my idiot neighbour so loud lol"]
    sent = chat_server.requests[0]["response_format"]["json_schema"]["schema"]
    assert sent == sample_model(load_task("toxicity")).model_json_schema()
