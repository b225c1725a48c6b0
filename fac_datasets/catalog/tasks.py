"""Built-in task guidelines (package data, one Markdown file per task) and user-given ones."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fac_datasets.errors import FacConfigError, FacInputError
from fac_datasets.tasks import GUIDELINE_TASKS, find_task

TASKS = GUIDELINE_TASKS


def task_name(task: str) -> str:
    """The name of a built-in task's guideline, or FacConfigError listing the tasks that have one."""
    registered = find_task(task)
    name = registered.guideline if registered is not None else None
    if name is None:
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
