"""What a run's data is: classes and their counts, imbalance, mean/std, the input recipe and the
files skipped, as a dict (written to the run folder) and one printed line."""

from __future__ import annotations

from typing import Any

import torch

from shiftnas.data.dataset import DataSplits


def _counts(labels: torch.Tensor, classes: tuple[str, ...]) -> dict[str, int]:
    counts = torch.bincount(labels, minlength=len(classes)).tolist()
    return dict(zip(classes, counts, strict=True))


def data_report(splits: DataSplits) -> dict[str, Any]:
    """Counts per class of each split; imbalance = largest / smallest training class (with
    validation); mean/std in [0, 1] units of the training split."""
    classes = splits.train.classes
    full = torch.cat([splits.train.labels, splits.val.labels])
    train_counts = _counts(full, classes)
    smallest = min(train_counts.values())
    c, h, w = splits.image_shape
    return {
        "dataset": splits.name,
        "image_shape": [c, h, w],
        "classes": list(classes),
        "counts": {"train+val": train_counts, "test": _counts(splits.test.labels, classes)},
        "sizes": {"train": len(splits.train), "val": len(splits.val), "test": len(splits.test)},
        "imbalance": round(max(train_counts.values()) / smallest, 3) if smallest else None,
        "mean": [round(m, 4) for m in splits.mean],
        "std": [round(s, 4) for s in splits.std],
        "recipe": splits.recipe,
        "skipped": {"count": len(splits.skipped or []), "files": (splits.skipped or [])[:100]},
    }


def report_line(report: dict[str, Any]) -> str:
    """One line: `data: N classes (a 10, b 12, ...), imbalance 1.2, ... mean (...) std (...)`."""
    counts = report["counts"]["train+val"]
    shown = ", ".join(f"{k} {v}" for k, v in list(counts.items())[:10])
    more = f", +{len(counts) - 10} more" if len(counts) > 10 else ""
    sizes, (c, h, w) = report["sizes"], report["image_shape"]
    skipped = report["skipped"]["count"]
    return (
        f"data: {report['dataset']}, {len(counts)} classes ({shown}{more}), imbalance "
        f"{report['imbalance']}; {sizes['train']} train / {sizes['val']} val / {sizes['test']} "
        f"test images of {c}x{h}x{w}; mean {tuple(report['mean'])}, std {tuple(report['std'])}"
        + (f"; {skipped} unreadable files skipped (listed in data.json)" if skipped else "")
    )
