"""`--dtype auto` / `--device auto`: bf16 only where the hardware multiplies it natively."""

from __future__ import annotations

import pytest
import torch

from fac_datasets.config import AnnotatorConfig, BackboneConfig, DownstreamConfig
from fac_datasets.errors import FacConfigError
from fac_datasets.features import hardware


@pytest.mark.parametrize(
    ("flags", "dtype"),
    [
        ({"avx2", "fma"}, "float32"),  # the project's AVX2-only EPYC: bf16 would be emulated (~4x slower)
        ({"avx2", "avx512f", "avx512_bf16"}, "bfloat16"),
        ({"avx2", "amx_tile", "amx_bf16"}, "bfloat16"),
        (set(), "float32"),  # no /proc/cpuinfo (macOS, Windows)
    ],
)
def test_auto_picks_bf16_only_on_cpus_with_native_bf16(monkeypatch, flags, dtype):
    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset(flags))
    setup = hardware.resolve_setup("auto", "cpu")
    assert (setup.device, setup.dtype) == ("cpu", dtype)
    assert setup.dtype_reason.startswith("auto: CPU")


def test_an_explicit_dtype_is_kept_and_said_so(monkeypatch):
    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    assert hardware.resolve_setup("float32", "cpu").to_dict() == {
        "device": "cpu",
        "dtype": "float32",
        "dtype_reason": "asked for",
    }


def test_auto_device_and_cuda_without_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert hardware.resolve_device("auto") == "cpu"
    with pytest.raises(FacConfigError, match="torch sees no CUDA GPU"):
        hardware.resolve_device("cuda")


def test_auto_on_cuda_follows_bf16_support(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert hardware.resolve_setup("auto", "auto").to_dict()["dtype"] == "bfloat16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    assert hardware.resolve_setup("auto", "cuda").dtype == "float32"


def test_config_defaults_and_aliases():
    assert (BackboneConfig().dtype, BackboneConfig().device) == ("auto", "auto")
    assert AnnotatorConfig(dtype="bf16").dtype == "bfloat16"
    assert DownstreamConfig().dtype == "float32"  # the downstream harness keeps its explicit fp32
    with pytest.raises(FacConfigError, match="dtype"):
        BackboneConfig(dtype="float16")


def test_backbone_records_its_setup(tiny_model_dir):
    from fac_datasets.features.backbone import Backbone

    backbone = Backbone.load(str(tiny_model_dir), layer=2, dtype="float32")
    assert backbone.setup.to_dict() == {"device": "cpu", "dtype": "float32", "dtype_reason": "asked for"}


@pytest.mark.parametrize(("native", "sae_dtype"), [(True, torch.bfloat16), (False, torch.float32)])
def test_bf16_backbones_encode_in_bf16_only_where_native(monkeypatch, tiny_model_dir, tiny_sae_dir, native, sae_dtype):
    from fac_datasets.features import extractor as extractor_module

    monkeypatch.setattr(extractor_module, "native_bf16", lambda device: (native, "test"))
    extractor = extractor_module.load_extractor(model=str(tiny_model_dir), sae=str(tiny_sae_dir), dtype="bfloat16")
    assert extractor.encoder.W_enc.dtype == sae_dtype
    assert extractor.sae.W_enc.dtype == torch.float32  # what catalog and synthesis encode with, unchanged
    assert extractor.extract(["Write a poem about the sea."])[0].features
