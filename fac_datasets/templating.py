"""Render the Jinja2 templates shipped as package data (reports, dataset and SAE cards)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache(maxsize=32)
def _template(package: str, name: str):
    import jinja2

    text = (resources.files(package) / name).read_text(encoding="utf-8")
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined,  # a missing value is an error, never an empty cell
        autoescape=name.endswith((".html", ".html.j2")),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.from_string(text)


def render_template(package: str, name: str, **values: Any) -> str:
    """Render `name` from the package (or package folder) `package` with `values`; HTML is autoescaped."""
    return _template(package, name).render(**values)
