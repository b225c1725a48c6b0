"""`fac cache info|prune`: what the cache dir holds, and freeing what the current install does not use."""

from __future__ import annotations

import json

import typer

cache_app = typer.Typer(no_args_is_help=True, help="The fac-datasets cache dir: what it holds, and pruning it.")


@cache_app.command("info")
def info(as_json: bool = typer.Option(False, "--json", help="Print the listing as JSON.")) -> None:
    """List what is in the cache dir with sizes (FAC_DATASETS_CACHE moves it)."""
    from fac_datasets.cache_admin import cache_info, human_bytes

    report = cache_info()
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    for e in report.entries:
        use = {True: "in use", False: "unused", None: ""}[e.in_use]
        typer.echo(f"{human_bytes(e.bytes):>10}  {e.kind:18} {use:7} {e.path}")
    shared = f" ({human_bytes(report.disk_bytes)} on disk: some copies share files)" if report.disk_bytes else ""
    typer.echo(f"{human_bytes(report.bytes)} in {report.root}" + (shared if report.disk_bytes != report.bytes else ""))


@cache_app.command("prune")
def prune(
    generations: bool = typer.Option(
        False, "--generations", help="Also remove the generation caches (LLM answers are asked for again)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only say what would be removed."),
) -> None:
    """Remove dequantized models the current install does not use and interrupted writes; say what was freed."""
    from fac_datasets.cache_admin import human_bytes, prune_cache

    removed = prune_cache(generations=generations, dry_run=dry_run)
    for e in removed.entries:
        typer.echo(f"{'would remove' if dry_run else 'removed'} {e.kind} {e.path} ({human_bytes(e.bytes)})")
    verb = "would free" if dry_run else "freed"
    typer.echo(f"{verb} {human_bytes(removed.bytes)} in {removed.root}" if removed.entries else "nothing to prune")
