"""A span's <<peak>> mark never reaches a generator, never passes as a sample, and shows in Argilla (issue 17.3)."""

# ruff: noqa: F811 - the planted-setup fixtures are imported from synth_setup by name

from __future__ import annotations

import json

import pytest
from synth_setup import ANCHOR, CURRENT, ScriptedModel, planted, planted_catalog, planted_extractor  # noqa: F401

from fac_datasets.catalog.spans import has_peak_mark, split_peak, strip_peak_marks
from fac_datasets.config import GeneratorConfig, SynthesisConfig
from fac_datasets.constants import PEAK_MARK_CLOSE, PEAK_MARK_OPEN
from fac_datasets.generation import load_generator
from fac_datasets.review.records import markdown_spans
from fac_datasets.synthesis.prompts import FeatureBrief, PairText, request_messages
from fac_datasets.synthesis.sae_filter import MARK_COPIED
from fac_datasets.synthesis.tasks import SYNTHESIS_TASKS, load_task


def test_marks_are_found_split_and_stripped():
    assert (PEAK_MARK_OPEN, PEAK_MARK_CLOSE) == ("<<", ">>")
    assert split_peak("jlLkz<<b>>HYOy") == ("jlLkz", "b", "HYOy")
    assert split_peak("f(x) = 4x<<^>>3 - 9") == ("f(x) = 4x", "^", "3 - 9")
    assert strip_peak_marks("f(x) = 4x<<^>>3 - 9") == "f(x) = 4x^3 - 9"
    assert has_peak_mark("a <<z>> b") and has_peak_mark("x<<ea>>")
    assert not has_peak_mark("cout << x >> y;") and strip_peak_marks("a << b >> c") == "a << b >> c"


@pytest.mark.parametrize("name", [t for t in SYNTHESIS_TASKS if t != "custom"])
def test_no_generator_prompt_shows_a_mark(name):
    task = load_task(name, guideline="Agreeing with the user.") if name == "behavior_steering" else load_task(name)
    brief = FeatureBrief(7, None, "^ (3)", ("f(x) = 4x<<^>>3 - 9", "jlLkz<<b>>HYOy"), "f(x) = 4x<<^>>3 - 9", 2.5)
    pair = PairText("f(x) = 4x<<^>>3 - 9", "f(x) = 4x + 9", False, True)
    for messages in (request_messages(task, [brief]), request_messages(task, [brief], pair=pair)):
        for message in messages:
            assert not has_peak_mark(message["content"]), message["content"]
    asked = messages[-1]["content"]
    assert "f(x) = 4x^3 - 9   (fires at: ^)" in asked and "jlLkz<b>HYOy" not in asked
    assert "jlLkzbHYOy   (fires at: b)" in asked and 'fires strongly at "^"' in asked


class CopiesTheMark(ScriptedModel):
    """Answers like the small generator of `make demo`: it copies the mark it saw in an example."""

    def __call__(self, body: dict, question: str) -> str:
        answer = json.loads(super().__call__(body, question))
        words = answer["query"].rstrip(".").split()
        answer["query"] = " ".join(words[:-1] + [f"<<{words[-1]}>>"]) + "."
        return json.dumps(answer)


def test_a_sample_with_a_copied_mark_is_rejected_and_counted(
    chat_server, tmp_path, planted, planted_extractor, planted_catalog
):  # fmt: skip
    from datasets import load_from_disk

    from fac_datasets.synthesis.api import synthesize

    chat_server.reply_text = CopiesTheMark()
    config = SynthesisConfig(samples_per_feature=1, candidates=2, calls_per_feature=4, patience=4)
    generator_config = GeneratorConfig(cache_dir=str(tmp_path / "cache"), max_retries=0, backoff_seconds=0.01)
    with load_generator(f"openai:scripted@{chat_server.base_url}", generator_config) as generator:
        result = synthesize(
            ANCHOR, CURRENT, "toxicity", extractor=planted_extractor, generator=generator, catalog=planted_catalog,
            config=config, out_dir=tmp_path / "out", progress=False,
        )  # fmt: skip
    rows = load_from_disk(str(tmp_path / "out" / "dataset"))
    marked = [i for i, text in enumerate(rows["query"]) if has_peak_mark(text)]
    assert marked and len(marked) == len(rows)
    assert not any(rows["accepted"][i] for i in marked)
    assert {rows["reject_reason"][i] for i in marked} == {MARK_COPIED}
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["samples"]["rejected"][MARK_COPIED] == len(marked), report["samples"]
    assert result.after.n_covered == result.before.n_covered  # nothing marked counted toward coverage


def test_spans_render_as_escaped_markdown_with_the_peak_in_code():
    shown = markdown_spans("1. jlLkz<<b>>HYOy\n2. a *bold* [link](x) <<ea>> & <i>\n3. no mark <here>")
    lines = shown.splitlines()
    assert lines[0] == "1. jlLkz`<<b>>`HYOy"
    assert lines[1] == r"2. a \*bold\* \[link\]\(x\) `<<ea>>` \& \<i\>"
    assert lines[2] == r"3. no mark \<here\>"
    assert markdown_spans("1. a <<`>> b") == "1. a ``<<`>>`` b"  # a backtick token gets a longer fence
