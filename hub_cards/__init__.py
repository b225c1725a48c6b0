"""Dataset-card and SAE-card templates (Jinja2), shipped as package data."""

from __future__ import annotations

from typing import Any

from fac_datasets.templating import render_template


def render(template_name: str, **values: Any) -> str:
    """Render one of the templates in this folder with `values`."""
    return render_template(__name__, template_name, **values)
