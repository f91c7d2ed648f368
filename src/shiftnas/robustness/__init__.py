"""Shift robustness: metrics, the SICNS Table III ablation, and the Markdown/HTML report.

The run-folder side (`shiftnas robustness`: read `retrain/<arch-id>/`, write `robustness/`) is
`shiftnas.pipeline.networks.robustness_in_run`; this package knows no run folders.
"""

import lazy_loader

# Submodules load on first use: importing the package (as loading a config does for its
# settings) stays light and does not import torch.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "ablation": ["CONDITIONS", "Condition", "run_ablation"],
        "evaluate": ["shift_metrics"],
        "metrics": [
            "Classifier",
            "accuracy_vs_offset",
            "clean_accuracy",
            "consistency",
            "shifted_accuracy",
        ],
        "report": ["write_report"],
    },
)
