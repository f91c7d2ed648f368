"""The staged pipeline: run directory, stages, resume."""

from shiftnas.pipeline.rundir import RunDir
from shiftnas.pipeline.runner import run_pipeline

__all__ = ["RunDir", "run_pipeline"]
