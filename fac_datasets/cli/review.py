"""`fac argilla up|down|status` (the local Argilla stack) and `fac review push|pull` (human review in Argilla)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fac_datasets.cli.options import config_option
from fac_datasets.config import ArgillaConfig
from fac_datasets.constants import (
    ARGILLA_API_KEY_ENV,
    ARGILLA_API_URL_ENV,
    REVIEW_KINDS,
    REVIEW_RELEVANCE,
    REVIEW_SAMPLES,
)
from fac_datasets.errors import FacConfigError, FacInputError

argilla_app = typer.Typer(
    no_args_is_help=True,
    help="The local Argilla server (argilla-server 2.8 + SQLite, redis, in-memory search), started by pid.",
)
review_app = typer.Typer(
    no_args_is_help=True, help="Human review in Argilla: push review datasets, pull the responses back."
)

_KINDS = f"{REVIEW_SAMPLES} (synthesized samples) or {REVIEW_RELEVANCE} (catalog features vs a task)"


def _state_dir_option():
    return config_option(ArgillaConfig, "state_dir", "--state-dir")


def _url_option():
    return typer.Option(
        None,
        "--url",
        envvar=ARGILLA_API_URL_ENV,
        help="Argilla server to use (default: the local stack from `fac argilla up`).",
    )


def _api_key_option():
    return typer.Option(None, "--api-key", envvar=ARGILLA_API_KEY_ENV, help="API key of a user on that server.")


# ------------------------------------------------------------------ fac argilla
@argilla_app.command("up")
def up(
    port: int = config_option(ArgillaConfig, "port", "--port"),
    search_port: int = config_option(ArgillaConfig, "search_port", "--search-port"),
    redis_port: int = config_option(ArgillaConfig, "redis_port", "--redis-port"),
    host: str = config_option(ArgillaConfig, "host", "--host"),
    state_dir: str | None = _state_dir_option(),
    fresh: bool = config_option(ArgillaConfig, "fresh", "--fresh"),
    start_timeout: float = config_option(ArgillaConfig, "start_timeout", "--start-timeout"),
    workers: int = config_option(ArgillaConfig, "workers", "--workers"),
    allow_remote: bool = config_option(ArgillaConfig, "allow_remote", "--allow-remote"),
) -> None:
    """Start the local Argilla stack (installs argilla-server into its own cached venv on first use)."""
    from fac_datasets.review.stack import ArgillaStack

    config = ArgillaConfig(
        port=port,
        search_port=search_port,
        redis_port=redis_port,
        host=host,
        state_dir=state_dir,
        fresh=fresh,
        start_timeout=start_timeout,
        workers=workers,
        allow_remote=allow_remote,
    )
    status = ArgillaStack(config, progress=typer.echo).up()
    where = f" --state-dir {state_dir}" if state_dir else ""
    typer.echo(f"{ARGILLA_API_URL_ENV}={status.url}")
    typer.echo(f"{ARGILLA_API_KEY_ENV}: `fac argilla status --show-key{where}` prints it (fac review finds it itself)")
    typer.echo(f"logs: {status.state_dir / 'run'}   stop: fac argilla down")


@argilla_app.command("down")
def down(state_dir: str | None = _state_dir_option()) -> None:
    """Stop every process of the local stack by its pid (the database is kept)."""
    from fac_datasets.review.stack import ArgillaStack

    stopped = ArgillaStack(ArgillaConfig(state_dir=state_dir), progress=typer.echo).down()
    typer.echo(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@argilla_app.command("status")
def status(
    state_dir: str | None = _state_dir_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the status as JSON."),
    show_key: bool = typer.Option(False, "--show-key", help="Print only the owner's API key (for $(...))."),
) -> None:
    """Each component's pid, health and log; exit code 1 unless the whole stack is up."""
    from fac_datasets.review.credentials import credentials_path
    from fac_datasets.review.stack import ArgillaStack

    found = ArgillaStack(ArgillaConfig(state_dir=state_dir)).status()
    if show_key:
        if not found.api_key:
            raise FacConfigError(f"No local Argilla owner in {found.state_dir} yet: start it with `fac argilla up`.")
        typer.echo(found.api_key)
        return
    if as_json:
        typer.echo(json.dumps(found.to_dict(), indent=2))
    else:
        for c in found.components:
            state = "healthy" if c.healthy else "running, not answering" if c.running else "stopped"
            typer.echo(f"{c.title:32} {state:24} pid {c.pid or '-':<8} {c.address or '':22} {c.log}")
        key = f"API key: --show-key, or {credentials_path(found.state_dir)}"
        typer.echo(f"{'up' if found.up else 'down'}: {found.url} ({key})")
    if not found.up:
        raise typer.Exit(code=1)


# ------------------------------------------------------------------ fac review
def _kind(kind: str) -> str:
    if kind not in REVIEW_KINDS:
        raise FacConfigError(f"--kind {kind!r}: use {_KINDS}.")
    return kind


def _relevance_features(catalog, task: str, spec: str) -> list[int]:
    """'relevant' (what the catalog calls relevant to the task now), or interpret's 'all' / 'top:N' / ids."""
    from fac_datasets.catalog.selection import parse_feature_selection
    from fac_datasets.relevance.rule import catalog_relevant

    if spec != "relevant":
        return parse_feature_selection(spec, catalog)
    ids = catalog_relevant(catalog, task)
    if not ids:
        raise FacInputError(
            f"The catalog calls no feature relevant to {task}: pass --features all, top:N or ids to review others."
        )
    return ids


@review_app.command("push")
def push(
    kind: str = typer.Option(..., help=f"What to review: {_KINDS}."),
    data: Path | None = typer.Option(None, help="samples: a `fac synthesize` output folder (or its dataset)."),
    catalog: Path | None = typer.Option(
        None, help="The feature catalog: required for relevance; for samples it adds each feature's top spans."
    ),
    task: str | None = typer.Option(None, help="relevance: the task; samples: default from the run's report."),
    features: str = typer.Option(
        "relevant", help="relevance: 'relevant' (the catalog's current verdict), 'all', 'top:N' or ids '1,2'."
    ),
    rows: str = config_option(ArgillaConfig, "rows", "--rows"),
    dataset: str | None = typer.Option(None, help="Argilla dataset name (default: fac-KIND-TASK)."),
    workspace: str = config_option(ArgillaConfig, "workspace", "--workspace"),
    if_exists: str = config_option(ArgillaConfig, "if_exists", "--if-exists"),
    min_submitted: int = config_option(ArgillaConfig, "min_submitted", "--min-submitted"),
    spans: int = config_option(ArgillaConfig, "spans", "--spans"),
    batch_size: int = config_option(ArgillaConfig, "batch_size", "--batch-size"),
    url: str | None = _url_option(),
    api_key: str | None = _api_key_option(),
) -> None:
    """Create or update a review dataset in Argilla; pushing again updates the same records."""
    from fac_datasets.catalog.catalog import FeatureCatalog
    from fac_datasets.review.connection import connect
    from fac_datasets.review.push import push_records
    from fac_datasets.review.records import open_synthesized, relevance_records, sample_records
    from fac_datasets.review.schemas import relevance_schema, samples_schema

    config = ArgillaConfig(
        workspace=workspace,
        if_exists=if_exists,
        min_submitted=min_submitted,
        spans=spans,
        rows=rows,
        batch_size=batch_size,
    )
    loaded = FeatureCatalog.load(catalog) if catalog is not None else None
    if _kind(kind) == REVIEW_SAMPLES:
        if data is None:
            raise FacConfigError("--kind samples needs --data: a `fac synthesize` output folder or its dataset.")
        samples = open_synthesized(data, task)
        records = sample_records(samples, loaded, rows=config.rows, spans=spans)
        schema = samples_schema(samples.task)
    else:
        if loaded is None or task is None:
            raise FacConfigError("--kind relevance needs --catalog and --task.")
        from fac_datasets.catalog.tasks import TASKS, load_guideline

        records = relevance_records(loaded, task, _relevance_features(loaded, task, features), spans=spans)
        schema = relevance_schema(task, load_guideline(task) if task in TASKS else None)
    client = connect(url, api_key, config)  # after every local check: a bad input never reaches the server
    result = push_records(client, schema, records, dataset or f"fac-{schema.kind}-{schema.task}", config)
    action = "created" if result.created_dataset else "updated"
    typer.echo(
        f"{action} {result.workspace}/{result.dataset}: {result.records} records ({result.new} new, "
        f"{result.updated} updated)\nannotate: {result.annotation_url}"
    )


@review_app.command("pull")
def pull(
    kind: str = typer.Option(..., help=f"What was reviewed: {_KINDS}."),
    data: Path | None = typer.Option(None, help="samples: the folder or dataset that was pushed."),
    out: Path | None = typer.Option(
        None,
        help="samples: folder for reviewed/, accepted/ and agreement.json; relevance: catalog to write "
        "(default: update --catalog in place).",
    ),
    catalog: Path | None = typer.Option(None, help="relevance: the catalog to update with the human labels."),
    task: str | None = typer.Option(None, help="relevance: the task; samples: default from the run's report."),
    dataset: str | None = typer.Option(None, help="Argilla dataset name (default: fac-KIND-TASK)."),
    workspace: str = config_option(ArgillaConfig, "workspace", "--workspace"),
    min_quality: int = config_option(ArgillaConfig, "min_quality", "--min-quality"),
    min_submitted: int = config_option(ArgillaConfig, "min_submitted", "--min-submitted"),
    report: Path | None = typer.Option(None, help="Also write the agreement report (JSON) here."),
    url: str | None = _url_option(),
    api_key: str | None = _api_key_option(),
) -> None:
    """Bring the responses back: review columns + keep marks, or human relevance labels in the catalog."""
    from fac_datasets.catalog.catalog import FeatureCatalog
    from fac_datasets.review.agreement import format_agreement
    from fac_datasets.review.connection import connect
    from fac_datasets.review.pull import pull_relevance, pull_samples
    from fac_datasets.review.records import open_synthesized

    config = ArgillaConfig(workspace=workspace, min_quality=min_quality, min_submitted=min_submitted)
    if _kind(kind) == REVIEW_SAMPLES:
        if data is None or out is None:
            raise FacConfigError("--kind samples needs --data (what was pushed) and --out (where to write).")
        samples = open_synthesized(data, task)
        client = connect(url, api_key, config)
        result = pull_samples(client, samples, dataset or f"fac-{REVIEW_SAMPLES}-{samples.task}", out, config)
        reasons = ", ".join(f"{n} {reason}" for reason, n in result.reasons.items()) or "none"
        typer.echo(f"{result.kept}/{result.rows} rows kept; not kept: {reasons}")
        typer.echo(f"wrote {', '.join(result.paths.values())}")
    else:
        if catalog is None or task is None:
            raise FacConfigError("--kind relevance needs --catalog and --task.")
        loaded = FeatureCatalog.load(catalog)
        client = connect(url, api_key, config)
        updated, result = pull_relevance(client, loaded, task, dataset or f"fac-{REVIEW_RELEVANCE}-{task}", config)
        target = out or catalog
        updated.save(target)
        typer.echo(
            f"human labels for {len(result.labelled)} features recorded in {target}"
            + (f"; reviewers tied on {result.ties}" if result.ties else "")
        )
    if result.unmatched:
        typer.echo(f"warning: {len(result.unmatched)} server records match no local row or feature (changed since?)")
    if report is not None:
        report.write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    typer.echo(format_agreement(result.agreement))
