import platform

import pytest
import torch

from shiftnas.device import resolve_device, tune_cpu_allocator
from shiftnas.errors import ShiftnasError


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_allocator_tuning_is_accepted_by_glibc() -> None:
    # mallopt returns 0 for a value glibc rejects (e.g. an mmap threshold above its maximum)
    assert tune_cpu_allocator() is True


def test_cuda_without_gpu_names_the_fix() -> None:
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present")
    with pytest.raises(ShiftnasError, match="set device: cpu"):
        resolve_device("cuda")
    assert resolve_device("auto").type == "cpu"
