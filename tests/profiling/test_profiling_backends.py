"""Latency backends: sane statistics on the CPU, one-line errors for what is absent here."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from shiftnas.errors import ShiftnasError
from shiftnas.profiling import get_backend, list_backends
from shiftnas.search import get_space

SHAPE = (1, 8, 8, 8)


def block() -> torch.nn.Module:
    space = get_space("mbv3", layers=[{"channels": 8, "stride": 1}], input_size=8, stem_channels=8)
    return space.build_op(0, 4)  # mb_k7_e3 on 8 channels, 8x8


def has_cuda_provider() -> bool:
    if importlib.util.find_spec("onnxruntime") is None:
        return False
    import onnxruntime

    return "CUDAExecutionProvider" in onnxruntime.get_available_providers()


def test_all_backends_are_registered() -> None:
    assert list_backends() == ["ort-cpu", "ort-cuda", "ort-tensorrt", "tensorrt", "torch"]


@pytest.mark.parametrize("name", ["ort-cpu", "torch"])
def test_statistics_are_sane(name: str) -> None:
    backend = get_backend(name, warmup=3, runs=30, batch_size=2)
    result = backend.measure(block(), SHAPE)
    assert result.n == 30 and result.backend == name
    assert 0 < result.min_ms <= result.p10_ms <= result.median_ms <= result.p90_ms
    assert 0 <= result.iqr_ms <= result.p90_ms - result.p10_ms
    assert result.input_shape == (2, 8, 8, 8)  # batch axis from the backend
    assert result.device["host_cpu"]["logical_cores"] >= 1 and result.device["host_cpu"]["cpu"]
    assert "torch" in result.versions and "python" in result.versions
    data = result.to_json()
    assert data["median_ms"] == result.median_ms and data["input_shape"] == [2, 8, 8, 8]
    assert type(result).from_json(data) == result


def test_bigger_block_is_slower() -> None:
    """The timer sees real work: a block with 4x the channels takes clearly longer."""
    backend = get_backend("ort-cpu", warmup=5, runs=50)
    small = get_space("mbv3", layers=[{"channels": 8, "stride": 1}], input_size=16, stem_channels=8)
    big = get_space("mbv3", layers=[{"channels": 64, "stride": 1}], input_size=16, stem_channels=64)
    t_small = backend.measure(small.build_op(0, 10), (1, 8, 16, 16)).min_ms
    t_big = backend.measure(big.build_op(0, 10), (1, 64, 16, 16)).min_ms
    assert t_big > 1.5 * t_small


@pytest.mark.parametrize(
    ("name", "extra"),
    [("ort-cuda", "shiftnas[gpu]"), ("ort-tensorrt", "tensorrt"), ("tensorrt", "tensorrt")],
)
def test_absent_backend_is_one_line_naming_the_extra(name: str, extra: str) -> None:
    try:
        get_backend(name)
    except ShiftnasError as err:
        message = str(err)
        assert "\n" not in message and extra in message and name in message
    else:
        pytest.skip(f"{name} is available on this machine")


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ShiftnasError, match="unknown latency backend 'onnx'"):
        get_backend("onnx")
    with pytest.raises(ShiftnasError, match="precision"):
        get_backend("ort-cpu", precision="fp16")
    with pytest.raises(ShiftnasError, match="runs"):
        get_backend("ort-cpu", runs=0)
    with pytest.raises(ShiftnasError, match=r"\(B, C, H, W\)"):
        get_backend("ort-cpu").measure(block(), (8, 8, 8))  # type: ignore[arg-type]


def test_cli_absent_backend_exits_2_with_one_line() -> None:
    if has_cuda_provider():
        pytest.skip("onnxruntime has the CUDA provider here")
    from cli_helpers import one_line_error, shiftnas

    code, _, err = shiftnas(
        "profile", "latency", "--arch", "0-" * 11 + "0", "--backend", "ort-cuda"
    )
    one_line_error(code, err, "shiftnas[gpu]")


@pytest.mark.gpu
def test_ort_cuda_measures_on_the_gpu() -> None:
    if not has_cuda_provider() or not torch.cuda.is_available():
        pytest.skip("needs onnxruntime-gpu and a CUDA GPU (pip install 'shiftnas[gpu]')")
    result = get_backend("ort-cuda", warmup=5, runs=20).measure(block(), SHAPE)
    assert 0 < result.p10_ms <= result.median_ms <= result.p90_ms
    assert result.device["gpu"]["gpu"] and result.device["gpu"]["driver"]


@pytest.mark.gpu
def test_torch_cuda_uses_cuda_events() -> None:
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    result = get_backend("torch", warmup=5, runs=20, precision="fp16").measure(block(), SHAPE)
    assert 0 < result.p10_ms <= result.median_ms <= result.p90_ms


@pytest.mark.tensorrt
def test_native_tensorrt_fp16() -> None:
    if importlib.util.find_spec("tensorrt") is None or not torch.cuda.is_available():
        pytest.skip("needs TensorRT and a CUDA GPU (pip install 'shiftnas[tensorrt]')")
    result = get_backend("tensorrt", warmup=5, runs=20, precision="fp16").measure(block(), SHAPE)
    assert 0 < result.p10_ms <= result.median_ms <= result.p90_ms
