"""The NSGA-II state after each generation, written atomically.

pymoo's algorithm object holds the population, the generation counter and its own
`np.random.Generator`, so pickling it whole (the pymoo documentation's way to checkpoint) and
asking it for the next offspring after a restart draws the same offspring as an uninterrupted
run. The evaluation machinery (scorers, pool, progress bar) is kept outside the algorithm, so
only plain data and the search space's description are pickled.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shiftnas.errors import ShiftnasError
from shiftnas.files import write_bytes_atomic

FORMAT = 1


@dataclass
class SearchState:
    algorithm: Any  # pymoo NSGA2, set up and advanced
    bounds: dict[str, tuple[float, float]] | None
    generation: int  # generations completed (1 = the initial population)


def save_state(path: Path, state: SearchState) -> None:
    payload = {
        "format": FORMAT,
        "algorithm": state.algorithm,
        "bounds": state.bounds,
        "generation": state.generation,
    }
    write_bytes_atomic(path, pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))


def load_state(path: Path) -> SearchState | None:
    path = Path(path)
    if not path.exists():
        return None
    try:
        payload = pickle.loads(path.read_bytes())
    except Exception:  # a checkpoint from another pymoo/shiftnas version
        raise ShiftnasError(
            f"{path} cannot be read by this version: delete it to restart the search"
        ) from None
    if payload.get("format") != FORMAT:
        raise ShiftnasError(f"{path} has an unknown format: delete it to restart the search")
    return SearchState(payload["algorithm"], payload["bounds"], payload["generation"])
