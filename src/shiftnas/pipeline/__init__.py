"""The staged pipeline: run directory, stages, selection, resume."""

from shiftnas.pipeline.rundir import RunDir
from shiftnas.pipeline.runner import run_pipeline
from shiftnas.pipeline.select import knee_index, select_from_front
from shiftnas.pipeline.stages import STAGES, StageContext

__all__ = ["STAGES", "RunDir", "StageContext", "knee_index", "run_pipeline", "select_from_front"]
