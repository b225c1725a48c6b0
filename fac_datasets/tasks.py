"""The task registry: every task name a user can type, and which guideline, synthesis spec and
downstream evaluator it stands for.

Stages keep their own data (guideline texts in `catalog/guidelines/`, synthesis specs in
`synthesis/tasks/`, evaluators in `downstream/`) and look names up here, so a task is named once.
"""

from __future__ import annotations

from dataclasses import dataclass

from fac_datasets.errors import FacConfigError


@dataclass(frozen=True)
class Task:
    """One task and the stage data it stands for.

    Attributes:
        name: the canonical name.
        guideline: the built-in relevance guideline (`catalog/guidelines/<guideline>.md`), or None
            when the user must give one; a catalog records relevance under this name.
        synthesis: the synthesis spec (`synthesis/tasks/<synthesis>.json`).
        behavior: the steering behaviour the behavior_steering spec describes, if any.
        downstream: the downstream evaluator (`fac eval-downstream --task`), if any.
        aliases: other names users type for it.
    """

    name: str
    guideline: str | None
    synthesis: str
    behavior: str | None = None
    downstream: str | None = None
    aliases: tuple[str, ...] = ()


REGISTRY: tuple[Task, ...] = (
    Task("toxicity", "toxicity", "toxicity", downstream="toxicity", aliases=("user_harmfulness",)),
    Task("helpfulness", "helpfulness", "reward_modeling", downstream="reward_modeling", aliases=("reward_modeling",)),
    Task("instruction_following", "instruction_following", "instruction_following", downstream="instruction_following"),
    Task("sycophancy", "sycophancy", "behavior_steering", behavior="sycophancy", downstream="behavior_steering"),
    Task(
        "survival_instinct",
        "survival_instinct",
        "behavior_steering",
        behavior="survival_instinct",
        downstream="behavior_steering",
        aliases=("survival",),
    ),
    Task("behavior_steering", None, "behavior_steering", downstream="behavior_steering"),
    Task("custom", None, "custom"),
)
_BY_NAME = {name: task for task in REGISTRY for name in (task.name, *task.aliases)}

GUIDELINE_TASKS = tuple(task.name for task in REGISTRY if task.guideline)
"""Tasks with a built-in relevance guideline (the LLM judge's and the review's tasks)."""
SYNTHESIS_TASKS = tuple(dict.fromkeys(task.synthesis for task in REGISTRY))
"""The synthesis specs: what `fac synthesize --task` builds samples for."""
DOWNSTREAM_TASKS = tuple(dict.fromkeys(task.downstream for task in REGISTRY if task.downstream))
"""The downstream evaluators (`fac eval-downstream --task`)."""
STUDY_TASKS = ("toxicity", "reward_modeling")
"""The downstream tasks the validation study runs (the others have no signal at CPU scale)."""


def normalize(name: str) -> str:
    """What users type ('Survival-Instinct') in the registry's spelling ('survival_instinct')."""
    return name.strip().lower().replace("-", "_") if isinstance(name, str) else name


def find_task(name: str) -> Task | None:
    """The registered task of a name or alias, or None."""
    return _BY_NAME.get(normalize(name))


def get_task(name: str, *, what: str = "task") -> Task:
    """The registered task of a name or alias, or a FacConfigError listing the names."""
    task = find_task(name)
    if task is None:
        names = ", ".join(task.name for task in REGISTRY)
        raise FacConfigError(f"Unknown {what} {name!r}; tasks: {names} (aliases: {', '.join(_aliases())}).")
    return task


def _aliases() -> list[str]:
    return [alias for task in REGISTRY for alias in task.aliases]
