"""Choosing the torch device from the config; a clear message when CUDA is asked for but absent."""

from __future__ import annotations

import ctypes
import functools
import platform

import torch

from shiftnas.errors import ShiftnasError


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ShiftnasError(
            "device: cuda was asked for but torch sees no CUDA GPU; set device: cpu (or auto)"
        )
    if name not in ("cpu", "cuda"):
        raise ShiftnasError(f"device: '{name}' is not one of auto, cpu, cuda")
    return torch.device(name)


# glibc mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


@functools.cache
def tune_cpu_allocator() -> bool:
    """Keep freed activation memory in the process instead of handing it back to the kernel.

    By default glibc serves large blocks with mmap and returns freed memory at once, so every
    training step faults fresh pages in again. A fair supernet step, which holds the gradients
    of all 13 paths at once, suffered most: it ran 1.13-1.23x slower than the same 13 paths as
    standalone networks, with 1m45s of kernel time in a 4m40s benchmark; with these two settings
    the ratio fell to about 1.0 and kernel time to 8 s (benchmarks/supernet_throughput.py). The
    cost is that RSS stays at its peak. Returns False where the C library is not glibc.
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)
    largest_mmap_threshold = 32 * 1024 * 1024  # glibc's maximum on 64-bit
    return bool(
        libc.mallopt(_M_MMAP_THRESHOLD, largest_mmap_threshold)
        and libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)
    )
