"""The prompts of the catalog's LLM stages, written for this project, each with a version tag.

A prompt's version goes into the catalog's provenance and into every cache key (the prompt text
is part of the conversation), so changing a prompt never serves stale cached answers under the
new name. Spans show the peak token as <<token>>: the model sees where the feature fired.
"""

from __future__ import annotations

from collections.abc import Sequence

EXPLAIN_VERSION = "explain-v1"
DETECT_VERSION = "detect-v1"
JUDGE_VERSION = "judge-v1"

EXPLAIN_SYSTEM = """\
You study one feature of a language model. The feature fires on certain tokens. You are shown text
excerpts where it fired most strongly; the token where it fired is marked like <<this>>.
Say in one short phrase what the feature detects: a word or spelling pattern, a topic, a tone, an
intent or a kind of request. Look closely at the marked tokens and the words just before them.
Do not list the examples. If the excerpts have nothing in common, answer "Cannot tell".
Answer with one line: Explanation: <phrase>"""

# Few-shot pairs: (top tokens, spans) -> explanation. Invented for this project.
EXPLAIN_EXAMPLES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "please (5), kindly (2)",
        (
            "Could you <<please>> send me the report",
            "I would like you to <<kindly>> explain how",
            "Can you <<please>> write a poem about",
        ),
        "Explanation: polite request words (please, kindly) in a user's request",
    ),
    (
        "kill (3), shoot (2)",
        (
            "I want to <<kill>> my neighbour's dog because",
            "how can I <<shoot>> someone without getting",
            "threatened to <<kill>> him if he",
        ),
        "Explanation: violent verbs describing harm to people or animals",
    ),
    (
        "def (4), return (1)",
        (
            "python code:\n<<def>> add(a, b):",
            "    <<return>> a + b",
            "class Node:\n    <<def>> __init__(self",
        ),
        "Explanation: Python function definitions and code syntax",
    ),
)

DETECT_SYSTEM = """\
You check a description of a language-model feature. You get the description and numbered text
excerpts. Some excerpts match the description, others do not. List the numbers of the excerpts
that match the description.
Answer with one line: Matching: <numbers separated by commas, or none>"""

JUDGE_SYSTEM = """\
You are an expert in evaluating data for training language models. You get a feature of a language
model (a description and text excerpts where it fires, the firing token marked like <<this>>) and a
task guideline. Decide whether the feature is relevant to the task described by the guideline.
Be objective and not too strict: the feature does not need to match every rule.
First write one or two sentences of analysis. Then end with exactly one line:
Final decision: yes | probably | maybe | no"""


def span_lines(spans: Sequence[str], limit: int) -> str:
    return "\n".join(f"{i}. {text}" for i, text in enumerate(spans[:limit], 1))


def explain_messages(spans: Sequence[str], top_tokens: str, limit: int) -> list[dict]:
    """System prompt, few-shot pairs, then this feature's excerpts."""
    messages = [{"role": "system", "content": EXPLAIN_SYSTEM}]
    for tokens, examples, answer in EXPLAIN_EXAMPLES:
        messages.append({"role": "user", "content": _explain_user(examples, tokens, limit)})
        messages.append({"role": "assistant", "content": answer})
    messages.append({"role": "user", "content": _explain_user(spans, top_tokens, limit)})
    return messages


def _explain_user(spans: Sequence[str], top_tokens: str, limit: int) -> str:
    return f"Most frequent marked tokens: {top_tokens}\nExcerpts:\n{span_lines(spans, limit)}"


def detect_messages(explanation: str, excerpts: Sequence[str]) -> list[dict]:
    user = f"Description: {explanation}\nExcerpts:\n{span_lines(excerpts, len(excerpts))}"
    return [{"role": "system", "content": DETECT_SYSTEM}, {"role": "user", "content": user}]


def judge_messages(explanation: str | None, spans: Sequence[str], guideline: str, limit: int) -> list[dict]:
    described = explanation or "(no description: judge from the excerpts)"
    user = f"Guideline:\n{guideline}\n\nFeature description: {described}\nExcerpts:\n{span_lines(spans, limit)}"
    return [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]
