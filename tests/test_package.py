"""The package's public surface: lazy exports, a light import."""

from __future__ import annotations

import subprocess
import sys


def test_import_is_light_and_exports_resolve():
    code = (
        "import sys, fac_datasets\n"
        "assert 'torch' not in sys.modules, 'import fac_datasets pulled in torch'\n"
        "from fac_datasets import FeatureAnnotator, FeatureCounts, compute_coverage, measure\n"
        "assert FeatureAnnotator.__module__ == 'fac_datasets.features.annotator'\n"
        "print(fac_datasets.__version__)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_unknown_attribute_is_an_attribute_error():
    import pytest

    import fac_datasets

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        fac_datasets.nope  # noqa: B018


def test_every_package_folder_is_listed_for_the_wheel():
    """setuptools gets an explicit package list: a stage folder missing from it is missing from a wheel."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {".".join(init.parent.relative_to(root).parts) for init in (root / "fac_datasets").rglob("__init__.py")}
    assert folders - listed == set()
