"""Everything one push uploads, built locally before any network call: data files, side files, the card's facts.

The user's folder is only read: parquet shards and the plot are written into a staging folder,
and filters run in memory, so no cache file ever lands in the folder being published.
"""

from __future__ import annotations

import base64
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from fac_datasets.config import HubPushConfig
from fac_datasets.constants import (
    CATALOG_SIDECAR,
    COVERAGE_PNG,
    HUB_ALL_ROWS_DIR,
    HUB_DATA_DIR,
    HUB_KIND_CATALOG,
    HUB_KIND_SAE,
    HUB_KIND_SYNTHESIZED,
    HUB_SHARD_PATTERN,
    HUB_SPLIT,
    SAE_CFG_FILENAME,
    SAE_WEIGHTS_FILENAME,
)
from fac_datasets.errors import FacInputError
from fac_datasets.hub.card_data import CardPlan, catalog_card, sae_card, synthesized_card

_PNG_IN_HTML = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")


@dataclass
class Bundle:
    """Attributes:
    files: path in the repo -> local file (staged, or the user's own file, never modified).
    managed: repo folders this kind owns: on update, files there that this push does not write are deleted.
    card: what the card says (rendered once the licences are known).
    """

    files: dict[str, Path]
    managed: tuple[str, ...]
    card: CardPlan

    @property
    def kind(self) -> str:
        return self.card.kind

    @property
    def repo_type(self) -> str:
        return self.card.repo_type


def write_shards(dataset, staging: Path, folder: str, max_shard_mb: int) -> dict[str, Path]:
    """Parquet shards `folder/train-0000i-of-0000n.parquet` of at most about `max_shard_mb` each."""
    count = max(1, math.ceil(dataset.data.nbytes / (max_shard_mb * 1024 * 1024)))
    files = {}
    for index in range(count):
        name = f"{folder}/{HUB_SHARD_PATTERN.format(split=HUB_SPLIT, index=index, count=count)}"
        path = staging / name
        path.parent.mkdir(parents=True, exist_ok=True)
        dataset.shard(count, index, contiguous=True, keep_in_memory=True).to_parquet(str(path))
        files[name] = path
    return files


def coverage_png(folder: Path) -> bytes | None:
    """The run's coverage plot: coverage.png if present, else the one embedded in report.html."""
    from fac_datasets.constants import SYNTHESIS_REPORT_HTML as REPORT_HTML

    if (folder / COVERAGE_PNG).is_file():
        return (folder / COVERAGE_PNG).read_bytes()
    if (folder / REPORT_HTML).is_file():
        match = _PNG_IN_HTML.search((folder / REPORT_HTML).read_text(encoding="utf-8", errors="replace"))
        if match:
            return base64.b64decode(match.group(1))
    return None


def _load_saved_dataset(folder: Path):
    from datasets import load_from_disk

    try:
        return load_from_disk(str(folder))
    except Exception as exc:  # datasets raises several types for damaged folders
        raise FacInputError(f"Cannot read the saved dataset in {folder}: {exc}. Rerun `fac synthesize`.") from exc


def synthesized_bundle(folder: Path, staging: Path, config: HubPushConfig) -> Bundle:
    from fac_datasets.constants import SYNTHESIS_DATASET_DIR as DATASET_DIR
    from fac_datasets.constants import SYNTHESIS_REPORT_HTML as REPORT_HTML
    from fac_datasets.constants import SYNTHESIS_REPORT_JSON as REPORT_JSON
    from fac_datasets.synthesis.records import ACCEPTED

    try:
        report = json.loads((folder / REPORT_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FacInputError(f"{folder / REPORT_JSON} is not valid JSON ({exc}); rerun `fac synthesize`.") from exc
    dataset = _load_saved_dataset(folder / DATASET_DIR)
    if ACCEPTED not in dataset.column_names:
        raise FacInputError(f"{folder / DATASET_DIR} has no '{ACCEPTED}' column: it is not a synthesis output.")
    accepted = dataset.filter(lambda keep: bool(keep), input_columns=[ACCEPTED], keep_in_memory=True)
    if not len(accepted):
        raise FacInputError(
            f"{folder} has no accepted sample ({len(dataset)} generated, all rejected): nothing worth publishing. "
            "See report.html for why, and rerun with more calls or a better generator."
        )
    files = write_shards(accepted, staging, HUB_DATA_DIR, config.max_shard_mb)
    files |= write_shards(dataset, staging, HUB_ALL_ROWS_DIR, config.max_shard_mb)
    for name in (REPORT_JSON, REPORT_HTML):
        if (folder / name).is_file():
            files[name] = folder / name
    png = coverage_png(folder)
    if png is not None:
        files[COVERAGE_PNG] = staging / COVERAGE_PNG
        files[COVERAGE_PNG].write_bytes(png)
    plan = synthesized_card(report, len(accepted), len(dataset), COVERAGE_PNG if png else None, config)
    return Bundle(files, (HUB_DATA_DIR, HUB_ALL_ROWS_DIR), plan)


def catalog_bundle(folder: Path, staging: Path, config: HubPushConfig) -> Bundle:
    from fac_datasets.catalog.catalog import FeatureCatalog

    catalog = FeatureCatalog.load(folder)
    files = write_shards(catalog.dataset, staging, HUB_DATA_DIR, config.max_shard_mb)
    files[CATALOG_SIDECAR] = folder / CATALOG_SIDECAR
    return Bundle(files, (HUB_DATA_DIR,), catalog_card(catalog, config))


def sae_bundle(folder: Path, staging: Path, config: HubPushConfig) -> Bundle:
    """The sae-lens files as they are (plus the reference stats when present) and the SAE card."""
    from fac_datasets.features.reference import REFERENCE_FILENAME
    from fac_datasets.sae.card import TRAINING_RECORD_KEYS, write_sae_card
    from fac_datasets.sae.io import content_hash, load_sae

    sae = load_sae(folder)  # checks shapes and values before anything is published
    files = {name: folder / name for name in (SAE_CFG_FILENAME, SAE_WEIGHTS_FILENAME, REFERENCE_FILENAME)}
    files = {name: path for name, path in files.items() if path.is_file()}
    body = None
    if all(key in (sae.cfg.training or {}) for key in TRAINING_RECORD_KEYS):
        card_dir = staging / "sae-card"
        card_dir.mkdir()
        body = write_sae_card(sae, card_dir).read_text(encoding="utf-8")
    plan = sae_card(sae, content_hash(sae), body, config)
    return Bundle(files, (), plan)


BUILDERS = {HUB_KIND_SYNTHESIZED: synthesized_bundle, HUB_KIND_CATALOG: catalog_bundle, HUB_KIND_SAE: sae_bundle}


def build_bundle(kind: str, folder: Path, staging: Path, config: HubPushConfig) -> Bundle:
    """The bundle of a folder of `kind` (see kinds.detect_kind); the card is rendered later, never copied."""
    return BUILDERS[kind](folder, staging, config)
