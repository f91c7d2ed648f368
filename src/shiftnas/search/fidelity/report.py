"""One fidelity measurement: an estimate and the MACs/params baselines against a truth, as a
table, a JSON object and a scatter plot."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from shiftnas.files import write_bytes_atomic
from shiftnas.search.fidelity.metrics import RankAgreement, rank_agreement
from shiftnas.search.fidelity.truth import Truth


def agreements(truth: Truth, better: dict[str, dict[str, float]]) -> dict[str, RankAgreement]:
    """`better`: predictor name -> {network: value, higher = predicted better}."""
    return {name: rank_agreement(truth.accuracy, values) for name, values in better.items()}


def payload(
    truth: Truth, estimator: str, scores: dict[str, float], results: dict[str, RankAgreement]
) -> dict[str, Any]:
    """The JSON of `shiftnas fidelity --json`: the figures, and the estimator's scores (lower =
    predicted better, as `shiftnas eval` prints them) so anyone can recompute them."""
    return {
        "truth": {
            "path": str(truth.path),
            "kind": truth.kind,
            "networks": len(truth.accuracy),
            "repeated_rows": truth.repeated,
        },
        "space": truth.space,
        "estimator": estimator,
        "results": {name: r.to_json() for name, r in results.items()},
        "scores": scores,
    }


def scatter_png(
    path: Path, truth: Truth, estimator: str, better: dict[str, float], result: RankAgreement
) -> None:
    """Estimate (higher = predicted better) against measured accuracy, one point a network."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    keys = sorted(set(better) & set(truth.accuracy))
    fig = Figure(figsize=(5.2, 4.2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.scatter([better[k] for k in keys], [truth.accuracy[k] for k in keys], s=6, alpha=0.6)
    ax.set_xlabel(f"{estimator} (higher = predicted better)")
    ax.set_ylabel(f"measured accuracy ({truth.kind})")
    tau = "undefined" if result.kendall_tau is None else f"{result.kendall_tau:.3f}"
    ax.set_title(f"{truth.space}: {len(keys)} networks, Kendall tau {tau}", fontsize=10)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    write_bytes_atomic(path, buffer.getvalue())
