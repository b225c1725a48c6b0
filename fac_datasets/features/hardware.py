"""Which device and dtype the backbone runs in: "auto" means what this hardware runs fastest.

bf16 is only fast where the hardware multiplies it natively (CUDA GPUs with bf16 support, x86 CPUs
with avx512_bf16 or AMX). Elsewhere torch emulates it: on an AVX2-only CPU bf16 measured ~4x
*slower* than fp32, so "auto" picks fp32 there. The choice and its reason are recorded with every run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from fac_datasets.errors import FacConfigError

NATIVE_BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
"""/proc/cpuinfo flags of x86 CPUs that multiply bf16 in hardware (torch's oneDNN kernels use them)."""


@dataclass(frozen=True)
class Setup:
    """Where and in what precision features are computed (recorded in provenance, not a merge key).

    Attributes:
        device: "cpu" or "cuda".
        dtype: "float32" or "bfloat16", after resolving "auto".
        dtype_reason: why this dtype: asked for explicitly, or what "auto" found.
    """

    device: str
    dtype: str
    dtype_reason: str

    def to_dict(self) -> dict:
        return asdict(self)


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU feature flags Linux reports (empty where /proc/cpuinfo does not exist)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def resolve_device(device: str) -> str:
    """'auto' -> 'cuda' when torch sees a GPU, else 'cpu'; 'cuda' without a GPU is an error."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise FacConfigError("device 'cuda' was asked for, but torch sees no CUDA GPU; use device 'auto' or 'cpu'.")
    if device not in ("cpu", "cuda"):
        raise FacConfigError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
    return device


def native_bf16(device: str) -> tuple[bool, str]:
    """(does `device` multiply bf16 natively, what was checked)."""
    if device == "cuda":
        import torch

        supported = bool(torch.cuda.is_bf16_supported())
        return supported, f"CUDA {'with' if supported else 'without'} bf16 support"
    found = sorted(set(NATIVE_BF16_CPU_FLAGS) & cpu_flags())
    if found:
        return True, f"CPU with {'/'.join(found)}"
    return False, f"CPU without {'/'.join(NATIVE_BF16_CPU_FLAGS)} (bf16 would be emulated)"


def resolve_setup(dtype: str, device: str) -> Setup:
    """The device and dtype a backbone loads with, for the config values 'auto' | explicit."""
    device = resolve_device(device)
    if dtype != "auto":
        return Setup(device, dtype, "asked for")
    native, reason = native_bf16(device)
    return Setup(device, "bfloat16" if native else "float32", f"auto: {reason}")
