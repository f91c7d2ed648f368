"""Training checkpoints: everything needed to continue bit-identically, written atomically."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from shiftnas.files import torch_load, torch_save_atomic


def rng_states() -> dict[str, Any]:
    return {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_states(states: dict[str, Any]) -> None:
    torch.set_rng_state(states["torch"])
    np.random.set_state(states["numpy"])
    random.setstate(states["python"])
    if states.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    torch_save_atomic(path, {**state, "rng": rng_states()})


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> dict[str, Any] | None:
    """The saved state, or None when there is none.

    Raises `ShiftnasError` naming the file when it cannot be read as a checkpoint (truncated,
    overwritten, or not a `torch.save` dictionary): a damaged file is reported, not ignored.
    """
    path = Path(path)
    return torch_load(path, device) if path.exists() else None
