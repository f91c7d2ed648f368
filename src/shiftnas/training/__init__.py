"""One training loop (optimiser, schedule, checkpoint/resume, AMP on CUDA) for every model."""

from shiftnas.training.checkpoint import load_checkpoint, save_checkpoint
from shiftnas.training.loop import (
    StepFn,
    StepResult,
    TrainContext,
    TrainResult,
    single_path_step,
    step_seed,
    train,
)
from shiftnas.training.progress import make_progress
from shiftnas.training.schedule import lr_factor, make_optimizer, make_scheduler

__all__ = [
    "StepFn",
    "StepResult",
    "TrainContext",
    "TrainResult",
    "load_checkpoint",
    "lr_factor",
    "make_optimizer",
    "make_progress",
    "make_scheduler",
    "save_checkpoint",
    "single_path_step",
    "step_seed",
    "train",
]
