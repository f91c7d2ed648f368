"""Shift robustness: metrics, the SICNS Table III ablation, and the Markdown/HTML report.

`shiftnas.robustness.stage.robustness_in_run` is the run-directory stage behind
`shiftnas robustness`: it reads `retrain/<arch-id>/` and writes `robustness/`.
"""

from shiftnas.robustness.ablation import CELLS, Cell, run_ablation
from shiftnas.robustness.evaluate import shift_metrics
from shiftnas.robustness.metrics import (
    Classifier,
    accuracy_vs_offset,
    clean_accuracy,
    consistency,
    shifted_accuracy,
)
from shiftnas.robustness.report import write_report

__all__ = [
    "CELLS",
    "Cell",
    "Classifier",
    "accuracy_vs_offset",
    "clean_accuracy",
    "consistency",
    "run_ablation",
    "shift_metrics",
    "shifted_accuracy",
    "write_report",
]
