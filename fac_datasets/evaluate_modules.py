"""Make the packaged `metrics/<name>/<name>.py` modules loadable as `evaluate.load("<name>")`.

evaluate 0.4.6 has no plugin hook. For a bare name it tries `./<name>/<name>.py` under the
cwd, then the Hub (it ignores HF_HUB_OFFLINE), then its modules cache. We wrap
`evaluate.loading.evaluation_module_factory`, the one function every `evaluate.load` goes
through, so that a bare name matching a packaged module folder is turned into that folder's
path before evaluate looks anywhere else. Everything else is left to evaluate: a module in the
cwd still wins (evaluate's own precedence), other names still go to the Hub, the copy into
HF_MODULES_CACHE and the import happen as for any local module. No network, no disk writes at
import, works from any cwd, with or without HF_EVALUATE_OFFLINE, from a checkout or a wheel.

`import fac_datasets` calls `install()`. It does not import evaluate (slow): if evaluate is not
imported yet, a one-shot import hook applies the wrap right after `evaluate.loading` executes.
A new module is picked up by dropping `metrics/<name>/<name>.py` in; nothing is registered.

The hook is narrow: it rewrites only bare names of this package's own modules (`available_modules()`)
and passes every other argument to evaluate untouched. Without it, `evaluate.load(metric_path("fac"))`
loads the same module by path.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

_TARGET = "evaluate.loading"
_MARK = "__fac_datasets_wrapped__"


def metrics_dir() -> Path:
    """The folder holding the module folders: `fac_datasets.metrics` when installed, else the checkout's."""
    spec = importlib.util.find_spec("fac_datasets.metrics")
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return Path(__file__).resolve().parent.parent / "metrics"


def available_modules() -> dict[str, Path]:
    """Name -> script path of every packaged evaluate module (a folder `<name>` with `<name>.py`)."""
    root = metrics_dir()
    if not root.is_dir():
        return {}
    return {p.name: p / f"{p.name}.py" for p in sorted(root.iterdir()) if (p / f"{p.name}.py").is_file()}


def module_path(name: str) -> Path | None:
    """The packaged script for a bare module name, or None if `name` is not ours."""
    if not name or "/" in name or os.sep in name or name.endswith(".py") or name.startswith("."):
        return None
    script = metrics_dir() / name / f"{name}.py"
    return script if script.is_file() else None


def metric_path(name: str) -> str:
    """The script of a packaged evaluate module, for an explicit `evaluate.load(metric_path("fac"))`.

    This works without the bare-name hook (e.g. after another library replaced evaluate's loader).
    """
    script = module_path(name)
    if script is None:
        from fac_datasets.errors import FacInputError

        raise FacInputError(f"No packaged evaluate module {name!r}; available: {', '.join(available_modules())}.")
    return str(script)


def _resolve(path: Any) -> Any:
    """Map a bare name to our script unless evaluate would find a local module for it first."""
    if not isinstance(path, str):
        return path
    script = module_path(path)
    if script is None or os.path.isfile(os.path.join(path, f"{path}.py")):
        return path
    return str(script)


def _wrap(loading: ModuleType) -> None:
    original: Callable[..., Any] = loading.evaluation_module_factory
    if getattr(original, _MARK, False):
        return

    @functools.wraps(original)
    def evaluation_module_factory(path: str, *args: Any, **kwargs: Any) -> Any:
        return original(_resolve(path), *args, **kwargs)

    setattr(evaluation_module_factory, _MARK, True)
    loading.evaluation_module_factory = evaluation_module_factory


class _WrapAfterExec(importlib.abc.Loader):
    """Delegates to evaluate's own loader, then wraps the factory once the module exists."""

    def __init__(self, inner: importlib.abc.Loader) -> None:
        self._inner = inner

    def create_module(self, spec):  # noqa: ANN001 - importlib protocol
        return self._inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._inner.exec_module(module)
        _wrap(module)

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename, ... for inspect & co
        return getattr(self._inner, name)


class _PostImportHook(importlib.abc.MetaPathFinder):
    """Finds `evaluate.loading` with the other finders and swaps in the wrapping loader."""

    def find_spec(self, fullname, path, target=None):  # noqa: ANN001 - importlib protocol
        if fullname != _TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _WrapAfterExec(spec.loader)
                return spec
        return None


def install() -> None:
    """Idempotent; cheap enough for `import fac_datasets` (no evaluate import, no I/O)."""
    loading = sys.modules.get(_TARGET)
    if loading is not None and hasattr(loading, "evaluation_module_factory"):
        _wrap(loading)
        return
    if not any(isinstance(finder, _PostImportHook) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PostImportHook())
