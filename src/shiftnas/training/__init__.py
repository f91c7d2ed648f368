"""One training loop (optimiser, schedule, checkpoint/resume, AMP on CUDA) for every model:
supernet training (fair sampling or SPOS), retraining, and torchrun data parallelism."""

import lazy_loader

# Submodules load on first use: importing the package (as loading a config does for its
# settings) stays light and does not import torch.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "checkpoint": ["load_checkpoint", "save_checkpoint"],
        "loop": [
            "StepFn",
            "StepResult",
            "TrainContext",
            "TrainResult",
            "single_path_step",
            "step_seed",
            "train",
        ],
        "schedule": ["lr_factor", "make_optimizer", "make_scheduler"],
    },
)
