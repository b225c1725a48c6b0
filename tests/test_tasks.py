"""The task registry: every name resolves the same way in every stage, and its stage data exists."""

from __future__ import annotations

from importlib import resources

import pytest

from fac_datasets.catalog.tasks import load_guideline, task_name
from fac_datasets.downstream.run import downstream_task
from fac_datasets.errors import FacConfigError
from fac_datasets.synthesis.tasks import load_task, resolve_task_name
from fac_datasets.tasks import REGISTRY, find_task, get_task


@pytest.mark.parametrize("task", REGISTRY, ids=lambda t: t.name)
def test_every_registered_task_has_its_stage_data(task):
    spec = resources.files("fac_datasets.synthesis") / "tasks" / f"{task.synthesis}.json"
    assert spec.is_file()
    if task.guideline:
        assert load_guideline(task.name)
    if task.downstream:
        assert downstream_task(task.name) == task.downstream


@pytest.mark.parametrize("name", [name for task in REGISTRY for name in (task.name, *task.aliases)])
def test_names_and_aliases_resolve_alike_in_every_stage(name):
    task = get_task(name)
    synthesis, relevance, behavior = resolve_task_name(name)
    assert (synthesis, behavior) == (task.synthesis, task.behavior)
    assert relevance == (task.guideline or task.name)
    if task.guideline:
        assert task_name(name) == task.guideline
    else:
        with pytest.raises(FacConfigError, match="--guideline FILE"):
            task_name(name)


def test_spelling_is_forgiven_and_unknown_names_list_the_tasks():
    assert find_task("Survival-Instinct").name == "survival_instinct"
    assert load_task("Reward-Modeling").relevance_task == "helpfulness"
    with pytest.raises(FacConfigError, match=r"Unknown task 'poetry'; tasks: toxicity, .*aliases: user_harmfulness"):
        get_task("poetry")
    with pytest.raises(FacConfigError, match="Unknown task 'custom'"):
        downstream_task("custom")
