"""`run_pipeline`: run the configured stages in order; a finished stage is never run again.

Each stage runs inside its own nested MLflow run. A stage's status goes to `state.json` before
and after it runs, so `shiftnas status` can tell what is done, what was cut off and what waits.
A finished stage's files are checked against their recorded checksums before anything runs
(`pipeline.integrity`): a damaged one makes that stage, and only it, run again.
"""

from __future__ import annotations

import json
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

from rich.console import Console

from shiftnas.data.checks import check_fits_space
from shiftnas.device import resolve_device
from shiftnas.errors import ShiftnasError
from shiftnas.files import read_json, write_json_atomic
from shiftnas.pipeline.checks import check_config
from shiftnas.pipeline.config import Config
from shiftnas.pipeline.context import RunContext
from shiftnas.pipeline.integrity import (
    RESUME_HINT,
    check_run_folder,
    nothing_to_do,
    record_outputs,
    recover_damaged,
)  # fmt: skip
from shiftnas.pipeline.paths import record_paths, resolve_paths
from shiftnas.pipeline.rundir import RunDir
from shiftnas.pipeline.stages import STAGES
from shiftnas.tracking import open_tracker


def run_pipeline(
    config: Config,
    run_dir: Path,
    progress: bool = True,
    console: Console | None = None,
    source: str = "config",
) -> RunDir:
    """Run `config.stages` in `run_dir`; every input is checked before any stage runs.

    In order: the config against the name tables (`pipeline.checks`, one `ShiftnasError` line
    prefixed with `source`), then the data against itself and the space's skeleton, both before
    the run folder is made; then a changed config resets the stages it invalidates (one line
    per changed key, `pipeline.changes`), and the stages not done run. Relative paths of the
    config are resolved against the working directory when the run is created and recorded
    (`pipeline.paths`): a resume uses the same files from any directory.
    """
    console = console or Console()
    config, paths = resolve_paths(config, Path(run_dir))  # relative paths: recorded, once
    for line in check_config(config, source):  # an estimator not trusted on the space
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if config.search.executor == "ray" and "search" in config.stages:
        from shiftnas.search.nsga.ray_executor import require_ray

        require_ray()  # now, not after hours of supernet training
    device = resolve_device(config.device)
    check_run_folder(Path(run_dir))
    run = RunDir(Path(run_dir))
    ctx = RunContext(config, run, device, console=console, progress=progress)
    check_fits_space(ctx.data, config.space)  # bad data is reported before a run folder is made
    for line in run.bind(config):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    record_paths(run.root, paths)
    record_data(run, ctx.data, console)
    recover_damaged(run, config.stages, console)
    if nothing_to_do(run, config.stages, console):
        return run  # a finished run writes nothing: it may be read-only
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
                console.print(f"[yellow]interrupted[/] in {stage}: {RESUME_HINT}", soft_wrap=True)
                raise
            except Exception as err:
                with suppress(ShiftnasError):  # a full disk cannot record it: "running" resumes too
                    run.set_stage_state(stage, "failed", error=str(err).splitlines()[0][:300])
                raise
            run.set_stage_state(stage, "done", finished=time.time(), summary=_jsonable(summary),
                                outputs=record_outputs(run, stage))  # fmt: skip
            console.print(f"[green]✓[/] {stage}")
    except BaseException:
        tracker.close("KILLED")
        raise
    tracker.close("FINISHED")
    return run


def record_data(run: RunDir, data: Any, console: Console) -> None:
    """Print the data's classes, counts, imbalance and mean/std once, into `data.json` too."""
    from shiftnas.data.report import data_report, report_line

    report = data_report(data)
    path = run.root / "data.json"
    with suppress(ShiftnasError):
        if path.exists() and read_json(path) == json.loads(json.dumps(report)):
            return  # said when the run started (a finished run may be read-only)
    write_json_atomic(path, report)
    console.print(report_line(report), markup=False, highlight=False, soft_wrap=True)


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
