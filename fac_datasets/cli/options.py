"""CLI options whose default and help come from the typed configs (the one home of defaults), and bundles.

A bundle is a group of options several commands share (relevance, coverage variants, the feature
setup): `@bundled(relevance=RELEVANCE)` adds its options to the command's signature and hands the
command one built object, so `fac coverage`, `fac synthesize` and `fac demo` take the same
relevance options and every command stays a short parse-and-call.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_type_hints

import typer

from fac_datasets.config import (
    CoverageConfig,
    ExtractorConfig,
    FacConfig,
    GeneratorConfig,
    RelevanceConfig,
    SynthesisConfig,
)

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


@dataclass(frozen=True)
class OptionBundle:
    """Options (name -> (type, typer Option)) and how their values become one object."""

    options: dict[str, tuple[Any, Any]]
    build: Callable[..., Any]


def _cli_type(annotation: Any) -> Any:
    """typer has no Literal: a Literal field is a str option (pydantic checks the value); a tuple a list."""
    if typing.get_origin(annotation) is typing.Literal:
        return str
    if typing.get_origin(annotation) is tuple:  # a repeatable option
        return list[typing.get_args(annotation)[0]]
    return annotation


def config_bundle(config: type[FacConfig], flags: dict[str, str], **overrides: Any) -> OptionBundle:
    """A bundle of `config`'s fields (field -> flag) that builds the config; `overrides` change defaults."""
    options = {}
    for field, flag in flags.items():
        option = config_option(config, field, flag)
        if field in overrides:
            option.default = overrides[field]
        options[field] = (_cli_type(config.model_fields[field].annotation), option)

    def build(**values: Any) -> FacConfig:
        return config(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})

    return OptionBundle(options, build)


def bundled(**bundles: OptionBundle) -> Callable:
    """Replace each named parameter of a command by its bundle's options; the command gets the built object."""

    def decorate(command: Callable) -> Callable:
        signature = inspect.signature(command, eval_str=True)
        params = [p for p in signature.parameters.values() if p.name not in bundles]
        for bundle in bundles.values():
            kind = inspect.Parameter.KEYWORD_ONLY
            params += [inspect.Parameter(n, kind, default=o, annotation=t) for n, (t, o) in bundle.options.items()]

        def wrapper(**values: Any) -> Any:
            for name, bundle in bundles.items():
                values[name] = bundle.build(**{key: values.pop(key) for key in bundle.options})
            return command(**values)

        wrapper.__name__, wrapper.__doc__, wrapper.__module__ = command.__name__, command.__doc__, command.__module__
        wrapper.__signature__ = signature.replace(parameters=params)
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        return wrapper

    return decorate


@dataclass(frozen=True)
class RelevanceOptions:
    """The relevance options of a command: the config plus the sources named on the command line."""

    config: RelevanceConfig
    relevant_features: Path | None
    catalog: Path | None
    contrast: str | None

    def ids(self) -> list[int] | None:
        from fac_datasets.inputs import read_feature_ids

        return read_feature_ids(self.relevant_features) if self.relevant_features is not None else None

    def load_catalog(self):
        from fac_datasets.catalog.catalog import FeatureCatalog

        return FeatureCatalog.load(self.catalog) if self.catalog is not None else None

    def for_synthesis(self):
        """The synthesis stage's `RelevanceChoice` (ids read, the contrast set named)."""
        from fac_datasets.inputs import dataset_name
        from fac_datasets.synthesis.api import RelevanceChoice

        name = f"contrast set {dataset_name(self.contrast)}" if self.contrast is not None else "contrast set"
        return RelevanceChoice(self.config, self.ids(), self.contrast, name)


def relevance_bundle(method: str = RelevanceConfig.default_of("method")) -> OptionBundle:
    """--relevance (default `method`), --relevant-features, --catalog, --contrast, --reference, --min-z,
    --enrichment-min-support, --top-k: one bundle for every command that chooses relevance."""
    config = config_bundle(
        RelevanceConfig,
        {
            "method": "--relevance",
            "reference": "--reference",
            "min_z": "--min-z",
            "min_support": "--enrichment-min-support",
            "top_k": "--top-k",
        },
        method=method,
    )
    sources = {
        "relevant_features": (Path | None, typer.Option(None, help="JSON list of relevant feature ids.")),
        "catalog": (
            Path | None,
            typer.Option(
                None,
                help="Feature catalog of this SAE (`fac interpret`, `fac relevance`): its verdicts for --task decide "
                "relevance (human > LLM judge > enrichment) and it explains each missing feature.",
            ),
        ),
        "contrast": (
            str | None,
            typer.Option(
                None,
                help="Enrich against this set instead of the general reference: the same genre without the task, "
                "or the anchor's negative labels (data or a feature-counts file). Avoids genre features.",
            ),
        ),
    }

    def build(relevant_features=None, catalog=None, contrast=None, **fields: Any) -> RelevanceOptions:
        return RelevanceOptions(config.build(**fields), relevant_features, catalog, contrast)

    return OptionBundle({**config.options, **sources}, build)


RELEVANCE = relevance_bundle()
SYNTHESIS = config_bundle(
    SynthesisConfig,
    {
        "budget": "--budget",
        "target_fac": "--target-fac",
        "max_features": "--max-features",
        "samples_per_feature": "--samples-per-feature",
        "candidates": "--candidates",
        "calls_per_feature": "--calls-per-feature",
        "patience": "--patience",
        "co_targets": "--co-targets",
        "filter_threshold": "--filter-threshold",
        "novelty": "--novelty",
        "temperature": "--temperature",
    },
)
COVERAGE = config_bundle(
    CoverageConfig,
    {
        "anchor_min_support": "--anchor-min-support",
        "current_min_support": "--current-min-support",
        "soft_support": "--soft-support",
        "token_budget": "--token-budget",
        "budget_seeds": "--budget-seeds",
        "activation_rule": "--activation-rule",
        "activation_quantile": "--activation-quantile",
        "activation_fraction": "--activation-fraction",
        "mmd": "--mmd/--no-mmd",
    },
)
EXTRACTOR = config_bundle(
    ExtractorConfig,
    {"model": "--model", "sae": "--sae", "threshold": "--threshold", "max_length": "--max-length"},
)
