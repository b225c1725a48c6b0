"""What is in the cache dir, and pruning what the current install no longer uses (`fac cache info|prune`).

The cache grows by dequantized GGUF copies (hundreds of MB each: one per GGUF content, plus copies
made by older versions under a per-venv key) and by generation caches (LLM answers). `prune`
removes dequantized copies other than the current install's default model, half-written folders
of interrupted conversions, and, only when asked, the generation caches (later runs then ask the
generator again).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from fac_datasets.cache import cache_root
from fac_datasets.constants import (
    CACHE_GENERATIONS_DIR,
    CACHE_MODELS_DIR,
    GGUF_HASHES_FILENAME,
    GGUF_SOURCE_FILENAME,
)
from fac_datasets.errors import FacModelError


@dataclass(frozen=True)
class CacheEntry:
    """One folder or file of the cache dir.

    Attributes:
        path: where it is.
        kind: dequantized-model, model, partial (an interrupted write), generations, or the top folder's name.
        bytes: its size on disk.
        in_use: a dequantized model the current install loads (`--model default`); None when that does not apply.
        source: the GGUF a dequantized model came from, when it recorded it.
    """

    path: str
    kind: str
    bytes: int
    in_use: bool | None = None
    source: str | None = None


@dataclass
class CacheReport:
    """What `info` found, or what `prune` removed (`entries`), and their total size."""

    root: str
    entries: list[CacheEntry] = field(default_factory=list)
    disk_bytes: int | None = None
    """Bytes on disk, each hard-linked file once (a copy adopted from an old key shares its files)."""

    @property
    def bytes(self) -> int:
        return sum(e.bytes for e in self.entries)

    def to_dict(self) -> dict:
        return {
            "root": self.root,
            "bytes": self.bytes,
            "disk_bytes": self.disk_bytes,
            "entries": [asdict(e) for e in self.entries],
        }


def _size(path: Path, *, freed: bool = False) -> int:
    """Bytes under `path`; `freed`: only files with no other hard link (what removing `path` frees)."""
    files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file() and not f.is_symlink()]
    stats = [f.stat() for f in files]
    return sum(st.st_size for st in stats if not freed or st.st_nlink == 1)


def current_model_copy() -> Path | None:
    """The dequantized copy of the installed default model, if it is in the cache (None if not installed)."""
    from fac_datasets.features.model_spec import dequantized_copy, embedded_gguf_path

    try:
        return dequantized_copy(embedded_gguf_path())
    except FacModelError:
        return None


def _model_entries(models: Path, in_use: Path | None) -> list[CacheEntry]:
    entries = []
    for path in sorted(models.iterdir()):
        if path.name.startswith("."):
            kind, used, source = "partial", False, None
        elif path.is_dir() and (path / GGUF_SOURCE_FILENAME).is_file():
            try:
                source = json.loads((path / GGUF_SOURCE_FILENAME).read_text()).get("gguf")
            except (OSError, ValueError):
                source = None
            kind, used = "dequantized-model", in_use is not None and path == in_use
        else:
            kind, used, source = ("gguf-hashes" if path.name == GGUF_HASHES_FILENAME else "model"), None, None
        entries.append(CacheEntry(str(path), kind, _size(path), used, source))
    return entries


def cache_info() -> CacheReport:
    """Every top-level folder of the cache with its size; the models and generation caches one by one."""
    root = cache_root()
    report = CacheReport(str(root))
    if not root.is_dir():
        return report
    in_use = current_model_copy() if (root / CACHE_MODELS_DIR).is_dir() else None
    for path in sorted(root.iterdir()):
        if path.name == CACHE_MODELS_DIR and path.is_dir():
            report.entries.extend(_model_entries(path, in_use))
        elif path.name == CACHE_GENERATIONS_DIR and path.is_dir():
            report.entries.extend(
                CacheEntry(str(p), "generations", _size(p)) for p in sorted(path.iterdir()) if not p.is_file()
            )
        else:
            report.entries.append(CacheEntry(str(path), path.name, _size(path)))
    inodes = {}
    for f in root.rglob("*"):
        if f.is_file() and not f.is_symlink():
            st = f.stat()
            inodes[(st.st_dev, st.st_ino)] = st.st_size
    report.disk_bytes = sum(inodes.values())
    return report


def prune_cache(*, generations: bool = False, dry_run: bool = False) -> CacheReport:
    """Remove dequantized models the current install does not use, interrupted writes, and (if asked) generations.

    Returns what was removed (or, with `dry_run`, what would be). A removed model is converted again
    from its GGUF when it is next used.
    """
    removable = {"partial", "dequantized-model"} | ({"generations"} if generations else set())
    info = cache_info()
    removed = CacheReport(info.root)
    for entry in info.entries:
        if entry.kind not in removable or entry.in_use:
            continue
        path = Path(entry.path)
        entry = replace(entry, bytes=_size(path, freed=True))  # a hard-linked copy frees nothing
        if not dry_run:
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
        removed.entries.append(entry)
    return removed


def human_bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover
