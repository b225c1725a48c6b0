"""CLI options whose default and help come from the typed configs (the one home of defaults)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, get_type_hints

import typer

from fac_datasets.config import FacConfig, GeneratorConfig

# GeneratorConfig field -> flag: the limits every command that calls a generator offers.
GENERATOR_LIMITS = {"timeout_seconds": "--timeout", "max_retries": "--max-retries", "deadline_seconds": "--deadline"}


def config_option(config: type[FacConfig], field: str, *flags: str, **kwargs: Any) -> Any:
    """A typer Option for `config.field`: same default, the field's docstring as help."""
    kwargs.setdefault("help", config.model_fields[field].description)
    return typer.Option(config.default_of(field), *flags, **kwargs)


def generator_limits(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command --timeout, --max-retries and --deadline (GeneratorConfig's defaults and help).

    The command declares `limits: GeneratorConfig | None = None` and receives them in it, so each
    generating command gets the same three options from one place, one line in its signature.
    """
    signature = inspect.signature(command, eval_str=True)
    hints = get_type_hints(command)
    params = [p for name, p in signature.parameters.items() if name != "limits"]
    annotations = {name: hints[name] for name in (p.name for p in params) if name in hints}
    for field, flag in GENERATOR_LIMITS.items():
        annotation = GeneratorConfig.model_fields[field].annotation
        default = config_option(GeneratorConfig, field, flag, rich_help_panel="Generator limits")
        params.append(inspect.Parameter(field, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation))
        annotations[field] = annotation

    @functools.wraps(command)
    def with_limits(**kwargs: Any) -> Any:
        limits = GeneratorConfig(**{field: kwargs.pop(field) for field in GENERATOR_LIMITS})
        return command(**kwargs, limits=limits)

    with_limits.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    with_limits.__annotations__ = {**annotations, "return": hints.get("return")}
    return with_limits
