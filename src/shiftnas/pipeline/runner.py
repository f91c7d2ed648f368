"""`run_pipeline`: run the configured stages in order; a finished stage is never run again.

Each stage runs inside its own nested MLflow run. A stage's status goes to `state.json` before
and after it runs, so `shiftnas status` can tell what is done, what was cut off and what waits.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.console import Console

from shiftnas.config import Config
from shiftnas.device import resolve_device
from shiftnas.pipeline.rundir import RunDir
from shiftnas.pipeline.stages import STAGES, StageContext
from shiftnas.tracking import open_tracker


def run_pipeline(
    config: Config, run_dir: Path, progress: bool = True, console: Console | None = None
) -> RunDir:
    console = console or Console()
    if config.search.executor == "ray" and "search" in config.stages:
        from shiftnas.search.nsga.ray_executor import require_ray

        require_ray()  # now, not after hours of supernet training
    device = resolve_device(config.device)
    run = RunDir(Path(run_dir))
    ctx = StageContext(config, run, device, console=console, progress=progress)
    _ = ctx.data  # bad data is reported before a run folder is made
    run.bind(config)
    tracker = open_tracker(run.root, config.tracking, config.name, config.model_dump(mode="json"))
    ctx.tracker = tracker
    try:
        for stage in config.stages:
            state = run.state()["stages"].get(stage, {})
            if state.get("status") == "done":
                console.print(f"[green]✓[/] {stage}: done earlier")
                continue
            resumed = state.get("status") in ("running", "interrupted", "failed")
            console.print(f"[bold]▶ {stage}[/]" + (" (resuming)" if resumed else ""))
            run.set_stage_state(stage, "running", started=state.get("started", time.time()))
            try:
                with tracker.start_stage(stage):
                    summary = STAGES[stage](ctx)
            except KeyboardInterrupt:
                run.set_stage_state(stage, "interrupted")
                raise
            except Exception as err:
                run.set_stage_state(stage, "failed", error=str(err).splitlines()[0][:300])
                raise
            run.set_stage_state(stage, "done", finished=time.time(), summary=_jsonable(summary))
            console.print(f"[green]✓[/] {stage}")
    except BaseException:
        tracker.close("KILLED")
        raise
    tracker.close("FINISHED")
    return run


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value
    return str(value)
