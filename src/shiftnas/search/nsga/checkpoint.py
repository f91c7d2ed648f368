"""The NSGA-II state after each generation, written atomically, and the run folder's fingerprint.

pymoo's algorithm object holds the population, the generation counter and its own
`np.random.Generator`, so pickling it whole (the pymoo documentation's way to checkpoint) and
asking it for the next offspring after a restart draws the same offspring as an uninterrupted
run. The evaluation machinery (scorers, pool, progress bar) is kept outside the algorithm, so
only plain data and the search space's description are pickled.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shiftnas.errors import ShiftnasError
from shiftnas.files import read_json, write_bytes_atomic, write_json_atomic
from shiftnas.search.nsga.objectives import Budget
from shiftnas.search.settings import SearchConfig
from shiftnas.search.space import SearchSpace

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


def bind_run_folder(
    path: Path,
    space: SearchSpace,
    names: list[str],
    budgets: Sequence[Budget],
    settings: SearchConfig,
    seed: int,
) -> None:
    """Write the search's fingerprint to `path`, or check it against the one there.

    Raises:
        ShiftnasError: the folder holds a search with other settings (it would not resume).
    """
    fingerprint = json.loads(
        json.dumps(
            {
                "space": space.describe(),
                "objectives": names,
                "seed": seed,
                "budgets": {b.measure.name: b.limit for b in budgets},
                "algorithm": settings.model_dump(
                    mode="json",
                    include={
                        "population",
                        "crossover_prob",
                        "mutation_eta",
                        "mutation_prob",
                        "skip_infeasible",
                    }
                    | _set_only_when_changed(settings),
                ),
                # where the values come from: cached values of another evaluator are no cache
                "sources": settings.model_dump(
                    mode="json", include={"evaluator", "latency", "shift_error"}
                ),
            },
            default=str,
        )
    )
    if path.exists():
        if read_json(path) != fingerprint:
            raise ShiftnasError(
                f"{path.parent} holds a search with other settings (see {path.name}): pass "
                "another run folder, or delete that folder to start over"
            )
        return
    write_json_atomic(path, fingerprint)


def _set_only_when_changed(settings: SearchConfig) -> set[str]:
    """Settings added later enter the fingerprint only when not at their default, so folders
    written before they existed still resume."""
    changed = {"novel_offspring"} if settings.novel_offspring else set()
    return changed | ({"initial_population"} if settings.initial_population != "random" else set())
