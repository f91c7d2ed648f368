"""Score a list of architectures into a CSV (`arch,score,seconds`), resumably.

Each row is appended and flushed as soon as its network is scored, so an interrupted run loses
at most the network in flight; a rerun skips every architecture already in the file.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from shiftnas.arch import Arch
from shiftnas.errors import ShiftnasError
from shiftnas.search.evaluators.base import Evaluator
from shiftnas.search.space import SearchSpace

COLUMNS = ("arch", "score", "seconds")


def read_scores(path: Path) -> dict[str, tuple[float, float]]:
    """Rows already in `path`: arch string -> (score, seconds); empty if the file is absent."""
    if not path.exists() or path.stat().st_size == 0:
        return {}
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ShiftnasError(
                f"{path} exists but its columns are not {','.join(COLUMNS)}: pass another --out"
            )
        return {row["arch"]: (float(row["score"]), float(row["seconds"])) for row in reader}


def score_one(evaluator: Evaluator, arch: Arch) -> tuple[float, float]:
    start = time.perf_counter()
    score = evaluator.evaluate([arch])[0]
    return score, time.perf_counter() - start


def score_to_csv(
    evaluator: Evaluator,
    space: SearchSpace,
    lines: Sequence[str],
    out: Path,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, tuple[float, float]]:
    """Score every architecture (space string form) not yet in `out`; returns all rows."""
    archs = [space.from_string(line) for line in lines]
    done = read_scores(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    todo = [(line, a) for line, a in zip(lines, archs, strict=True) if line not in done]
    new_file = not out.exists() or out.stat().st_size == 0
    with out.open("a", newline="") as f:
        writer = csv.writer(f)
        if new_file:
            writer.writerow(COLUMNS)
        for i, (line, arch) in enumerate(todo):
            score, seconds = score_one(evaluator, arch)
            writer.writerow([line, repr(score), f"{seconds:.4f}"])
            f.flush()
            done[line] = (score, seconds)
            if progress is not None:
                progress(i + 1, len(todo))
    return done
