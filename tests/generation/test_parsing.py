"""Tolerant parsers: what small models really write parses; malformed answers are counted, never raised."""

from __future__ import annotations

import pytest

from fac_datasets.generation.parsing import (
    Parsed,
    ParseStats,
    parse_choice,
    parse_json_object,
    parse_list_of_indices,
    parse_number,
)

JUDGE = ["yes", "probably", "maybe", "no"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"label": "poetry", "score": 3}', {"label": "poetry", "score": 3}),
        ('Sure! Here it is:\n```json\n{"label": "poetry",\n "score": 3,}\n```\nHope it helps.', None),
        ("{'label': 'poetry', 'score': 3}", None),
        ("{'label': 'don\\'t stop', 'score': 3}", {"label": "don't stop", "score": 3}),
        ('Here\'s my answer: {"label": "a } brace", "score": 3} and {"other": 1}', {"label": "a } brace", "score": 3}),
        ('{"note": "no label"} then {"label": "poetry", "score": [1, 2,],}', {"label": "poetry", "score": [1, 2]}),
    ],
)
def test_json_object_good(text, expected):
    result = parse_json_object(text, required_keys=("label", "score"))
    assert result.ok and result.error is None
    assert result.value == (expected or {"label": "poetry", "score": 3})


@pytest.mark.parametrize(
    ("text", "error_part"),
    [
        ("I think the feature is about poetry.", "no JSON object"),
        ('{"label": "poetry"', "no JSON object"),
        ('{"label": "poetry"}', "lacks required keys ['score']"),
        ("[1, 2, 3]", "no JSON object"),
        (None, "no text"),
    ],
)
def test_json_object_malformed(text, error_part):
    result = parse_json_object(text, required_keys=("label", "score"))
    assert not result.ok and result.value is None
    assert error_part in result.error


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yes", "yes"),
        ("Answer: PROBABLY, since the text rhymes.", "probably"),
        ("no.", "no"),
        ("Maybe; yes if counted loosely", "maybe"),
        ("**Yes** - no doubt", "yes"),
    ],
)
def test_choice_good(text, expected):
    assert parse_choice(text, JUDGE) == Parsed(True, expected, None)


def test_choice_prefers_the_longest_choice_at_the_same_place():
    assert parse_choice("Probably not.", ["probably", "probably not", "no"]).value == "probably not"


@pytest.mark.parametrize("text", ["Nobody knows", "I cannot tell.", "yesterday", "", None])
def test_choice_malformed(text):
    result = parse_choice(text, JUDGE)
    assert not result.ok and result.error


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7", 7), ("Score: 8/10", 8), ("I'd rate it 3.5 out of 5", 3.5), ("-1", -1), ("Rating:10.", 10)],
)
def test_number_good(text, expected):
    result = parse_number(text, -1, 10)
    assert result.ok and result.value == expected and type(result.value) is type(expected)


@pytest.mark.parametrize(
    ("text", "error_part"),
    [("eleven", "no number"), ("Score: 12", "outside [-1, 10]"), ("v2 model", "no number"), (None, "no text")],
)
def test_number_malformed(text, error_part):
    result = parse_number(text, -1, 10)
    assert not result.ok and error_part in result.error


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1, 3, 4", [1, 3, 4]),
        ("[3,1]", [1, 3]),
        ("Relevant: 4 and 2, and again 4.", [2, 4]),
        ("Texts 2, 9 and 5", [2, 5]),  # 9 is out of range and dropped
        ("None of them.", []),
        ("[]", []),
    ],
)
def test_indices_good(text, expected):
    assert parse_list_of_indices(text, 5) == Parsed(True, expected, None)


@pytest.mark.parametrize(
    ("text", "error_part"), [("the second one", "no indices"), ("7, 8", "all outside 1..5"), (None, "no text")]
)
def test_indices_malformed(text, error_part):
    result = parse_list_of_indices(text, 5)
    assert not result.ok and error_part in result.error


def test_parse_stats_counts_good_and_malformed_answers():
    stats = ParseStats()
    answers = ["yes", "nope", "Maybe.", None, '{"x": 1}']
    values = [stats.count(parse_choice(a, JUDGE)).value for a in answers]
    assert values == ["yes", None, "maybe", None, None]
    assert stats.to_dict() == {"parsed": 2, "malformed": 3}
    assert stats.total == 5
