"""Dataset-card and SAE-card templates (Jinja2), shipped as package data."""

from __future__ import annotations

from importlib import resources


def render(template_name: str, **values) -> str:
    """Render one of the templates in this folder with `values`."""
    import jinja2  # a dependency of transformers and huggingface_hub cards

    text = (resources.files(__name__) / template_name).read_text(encoding="utf-8")
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.from_string(text).render(**values)
