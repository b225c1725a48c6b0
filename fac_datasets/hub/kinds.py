"""What a folder holds, read from its files alone: `fac push` takes one folder and must know what it is."""

from __future__ import annotations

from pathlib import Path

from fac_datasets.constants import (
    CATALOG_SIDECAR,
    HUB_KIND_CATALOG,
    HUB_KIND_SAE,
    HUB_KIND_SYNTHESIZED,
    SAE_CFG_FILENAME,
    SAE_WEIGHTS_FILENAME,
)
from fac_datasets.constants import SYNTHESIS_DATASET_DIR as DATASET_DIR
from fac_datasets.constants import SYNTHESIS_REPORT_JSON as REPORT_JSON
from fac_datasets.errors import FacInputError
from fac_datasets.synthesis.checkpoint import STATE_FILE

_WHAT = (
    f"a `fac synthesize` output ({REPORT_JSON} + {DATASET_DIR}/), a feature catalog ({CATALOG_SIDECAR}) "
    f"or an SAE folder ({SAE_CFG_FILENAME} + {SAE_WEIGHTS_FILENAME})"
)


def _markers(folder: Path) -> dict[str, bool]:
    return {
        HUB_KIND_SYNTHESIZED: (folder / REPORT_JSON).is_file() and (folder / DATASET_DIR).is_dir(),
        HUB_KIND_CATALOG: (folder / CATALOG_SIDECAR).is_file(),
        HUB_KIND_SAE: (folder / SAE_CFG_FILENAME).is_file() and (folder / SAE_WEIGHTS_FILENAME).is_file(),
    }


def detect_kind(folder: str | Path) -> str:
    """synthesized-dataset, feature-catalog or sae; anything else is a FacInputError saying what was expected."""
    folder = Path(folder)
    if not folder.exists():
        raise FacInputError(f"{folder}: no such folder. Pass {_WHAT}.")
    if not folder.is_dir():
        raise FacInputError(f"{folder} is a file; pass a folder: {_WHAT}.")
    found = [kind for kind, present in _markers(folder).items() if present]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise FacInputError(f"{folder} looks like several things at once ({', '.join(found)}); push one per folder.")
    if (folder / STATE_FILE).is_file():
        raise FacInputError(
            f"{folder} holds an unfinished synthesis run (no {REPORT_JSON}): finish it with "
            "`fac synthesize ... --resume` before pushing it."
        )
    raise FacInputError(f"{folder} is none of what `fac push` publishes; pass {_WHAT}.")
