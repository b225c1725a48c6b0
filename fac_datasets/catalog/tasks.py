"""Built-in task guidelines (package data, one Markdown file per task) and user-given ones."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fac_datasets.errors import FacConfigError, FacInputError

TASKS = ("toxicity", "helpfulness", "instruction_following", "sycophancy", "survival_instinct")
TASK_ALIASES = {"user_harmfulness": "toxicity", "reward_modeling": "helpfulness", "survival": "survival_instinct"}


def task_name(task: str) -> str:
    """The canonical name of a built-in task, or FacConfigError listing them."""
    name = TASK_ALIASES.get(task, task)
    if name not in TASKS:
        raise FacConfigError(
            f"Unknown task {task!r}; built-in tasks: {', '.join(TASKS)}. "
            "For another task, pass its guideline as a text file (--guideline FILE)."
        )
    return name


def load_guideline(task: str, guideline_file: str | Path | None = None) -> str:
    """The guideline text of `task`: the user's file if given (any task name), else the built-in one."""
    if guideline_file is not None:
        path = Path(guideline_file)
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise FacInputError(f"Cannot read the guideline file {path}: {exc}") from exc
        if not text:
            raise FacInputError(f"The guideline file {path} is empty: describe what makes a feature relevant.")
        return text
    name = task_name(task)
    return (resources.files("fac_datasets.catalog") / "guidelines" / f"{name}.md").read_text(encoding="utf-8").strip()
