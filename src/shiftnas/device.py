"""Choosing the torch device from the config; a clear message when CUDA is asked for but absent."""

from __future__ import annotations

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
