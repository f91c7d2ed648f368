"""`search/pareto.json` and `search/pareto.png`: the front, readable by people and stages."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np

from shiftnas.files import write_bytes_atomic, write_json_atomic


def write_pareto_json(path: Path, payload: dict[str, Any]) -> None:
    write_json_atomic(path, payload)


def plot_pareto(
    path: Path, names: list[str], archive: np.ndarray, feasible: np.ndarray, front: np.ndarray
) -> None:
    """Pairwise scatter of the objectives: every evaluated network (grey, infeasible as red
    crosses) and the final front (highlighted). `archive` is `(N, n_obj)`, `front` `(K, n_obj)`."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    pairs = list(itertools.combinations(range(len(names)), 2)) or [(0, 0)]
    cols = min(3, len(pairs))
    rows = (len(pairs) + cols - 1) // cols
    fig = Figure(figsize=(4.2 * cols, 3.6 * rows), dpi=100)
    FigureCanvasAgg(fig)
    finite = np.all(np.isfinite(archive), axis=1) if len(archive) else np.zeros(0, bool)
    for k, (a, b) in enumerate(pairs):
        ax = fig.add_subplot(rows, cols, k + 1)
        ok, bad = finite & feasible, finite & ~feasible
        ax.scatter(archive[ok, a], archive[ok, b], s=10, c="0.65", label="evaluated")
        if bad.any():
            ax.scatter(
                archive[bad, a], archive[bad, b], s=12, c="tab:red", marker="x", label="over budget"
            )
        if len(front):
            ax.scatter(
                front[:, a],
                front[:, b],
                s=30,
                c="tab:blue",
                edgecolors="k",
                label="front",
                zorder=3,
            )
        ax.set_xlabel(names[a])
        ax.set_ylabel(names[b])
        if k == 0:
            ax.legend(fontsize=7)
    fig.suptitle("NSGA-II: evaluated networks and the final front")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    write_bytes_atomic(path, buffer.getvalue())
