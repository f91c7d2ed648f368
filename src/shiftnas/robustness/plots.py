"""PNG plots of the robustness report, drawn with matplotlib's Agg backend (no display needed)."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

_COLORS = {"zero": "#1f77b4", "circular": "#ff7f0e"}


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def offset_curves_png(curves: dict[str, dict[str, Any]]) -> bytes:
    """Accuracy against the diagonal offset; `curves[label][fill] = {"offset", "accuracy"}`.
    Solid lines: the network; dashed: its "without" twin (any label containing 'without')."""
    return _png(offset_curves_figure(curves))


def offset_curves_figure(curves: dict[str, dict[str, Any]]) -> Any:
    """The figure of `offset_curves_png`; its legend sits below the axes, clear of the data."""
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for label, fills in curves.items():
        style = "--" if "without" in label else "-"
        for fill, curve in fills.items():
            acc = [100 * a for a in curve["accuracy"]]
            ax.plot(curve["offset"], acc, style, marker="o", ms=3, color=_COLORS.get(fill),
                    label=f"{label}, {fill} fill")  # fmt: skip
    ax.set_xlabel("diagonal shift (pixels, dx = dy)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("Accuracy against input shift")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", ncol=2, bbox_to_anchor=(0.5, -0.18))
    return fig


def ablation_png(cells: dict[str, dict[str, Any]], fill: str) -> bytes:
    """SICNS Table III as grouped bars: clean and shifted accuracy of each cell."""
    names = list(cells)
    clean = [100 * cells[n]["metrics"]["clean_acc"] for n in names]
    shifted = [100 * cells[n]["metrics"]["fills"][fill]["shifted_acc"] for n in names]
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    x = range(len(names))
    ax.bar([i - 0.2 for i in x], clean, 0.4, label="without shift", color="#4c72b0")
    ax.bar([i + 0.2 for i in x], shifted, 0.4, label=f"with shift ({fill} fill)", color="#dd8452")
    for i, (c, s) in enumerate(zip(clean, shifted, strict=True)):
        ax.text(i - 0.2, c, f"{c:.1f}", ha="center", va="bottom", fontsize=7)
        ax.text(i + 0.2, s, f"{s:.1f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(list(x), [n.replace("-", "\n") for n in names], fontsize=8)
    ax.set_ylabel("test accuracy (%)")
    low = min(clean + shifted)
    ax.set_ylim(max(0.0, low - 10), 100)
    ax.set_title("Table III ablation: filter x augmentation")
    ax.legend(fontsize=8, loc="upper center", ncol=2, bbox_to_anchor=(0.5, -0.22))
    return _png(fig)


def training_png(history: list[dict[str, Any]]) -> bytes:
    """Train, validation and test accuracy per epoch of the retrained network."""
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    epochs = [r["epoch"] + 1 for r in history]
    for key, label in (("train_acc", "train"), ("val_acc", "validation"), ("test_acc", "test")):
        if history and key in history[0]:
            ax.plot(epochs, [100 * r[key] for r in history], marker="o", ms=3, label=label)
    ax.set_xlabel("epoch")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel("accuracy (%)")
    ax.set_title("Retraining curves")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _png(fig)
