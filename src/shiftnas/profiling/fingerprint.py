"""Device fingerprints and library versions: what a latency figure is only true for.

A lookup table carries these so that a table built on a user's 2080Ti or server CPU says which
device it describes wherever it is loaded. pynvml is imported only when a GPU backend asks.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
from typing import Any

_GPU_BACKENDS = ("ort-cuda", "ort-tensorrt", "tensorrt")
_PACKAGES = ("shiftnas", "torch", "numpy", "onnx", "onnxruntime", "onnxruntime-gpu", "tensorrt")


def cpu_fingerprint() -> dict[str, Any]:
    """CPU model, logical and physical cores, cores this process may use, ISA flags that matter."""
    import psutil

    model, flags = platform.processor() or "", set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and not model:
                    model = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "kind": "cpu",
        "cpu": model or platform.machine(),
        "machine": platform.machine(),
        "system": platform.system(),
        "logical_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "usable_cores": affinity,
        "isa": sorted(
            f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_tile") if f in flags
        ),
    }


def gpu_fingerprint(index: int = 0) -> dict[str, Any]:
    """GPU name, driver, CUDA version, clocks and temperature, read through pynvml (NVML)."""
    try:
        import pynvml
    except ImportError:
        from shiftnas.errors import ShiftnasError

        raise ShiftnasError(
            "reading the GPU fingerprint needs pynvml: pip install 'shiftnas[gpu]'"
        ) from None
    pynvml.nvmlInit()
    try:
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        cuda = pynvml.nvmlSystemGetCudaDriverVersion()

        def text(value: Any) -> str:
            return value.decode() if isinstance(value, bytes) else str(value)

        return {
            "kind": "gpu",
            "gpu": text(pynvml.nvmlDeviceGetName(handle)),
            "index": index,
            "driver": text(pynvml.nvmlSystemGetDriverVersion()),
            "cuda_driver": f"{cuda // 1000}.{cuda % 1000 // 10}",
            "sm_clock_mhz": pynvml.nvmlDeviceGetClockInfo(handle, pynvml.NVML_CLOCK_SM),
            "mem_clock_mhz": pynvml.nvmlDeviceGetClockInfo(handle, pynvml.NVML_CLOCK_MEM),
            "max_sm_clock_mhz": pynvml.nvmlDeviceGetMaxClockInfo(handle, pynvml.NVML_CLOCK_SM),
            "temperature_c": pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU),
            "power_limit_w": pynvml.nvmlDeviceGetPowerManagementLimit(handle) / 1000.0,
            "memory_gb": round(pynvml.nvmlDeviceGetMemoryInfo(handle).total / 2**30, 1),
        }
    finally:
        pynvml.nvmlShutdown()


def device_fingerprint(backend_name: str) -> dict[str, Any]:
    """The device a backend runs on: the CPU always, plus the GPU for CUDA/TensorRT backends."""
    info = {"host_cpu": cpu_fingerprint()}
    if backend_name in _GPU_BACKENDS or (backend_name == "torch" and _torch_cuda()):
        info["gpu"] = gpu_fingerprint()
    return info


def device_identity(fingerprint: dict[str, Any]) -> dict[str, Any]:
    """A fingerprint without the readings that drift while a device runs (clocks, temperature)."""
    volatile = ("sm_clock_mhz", "mem_clock_mhz", "temperature_c")
    return {
        part: {k: v for k, v in info.items() if k not in volatile}
        if isinstance(info, dict)
        else info
        for part, info in fingerprint.items()
    }


def _torch_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def library_versions(packages: tuple[str, ...] = _PACKAGES) -> dict[str, str]:
    """Versions of Python and of the installed `packages` (default: those that shape a latency
    figure); packages that are not installed are left out."""
    versions = {"python": platform.python_version()}
    for package in packages:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def load_average() -> tuple[float, float, float]:
    """1, 5 and 15 minute load averages: how busy the machine was while timing."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return (0.0, 0.0, 0.0)
    return (round(one, 2), round(five, 2), round(fifteen, 2))
