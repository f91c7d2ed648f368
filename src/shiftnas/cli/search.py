"""`shiftnas search --config F [--run-dir D]`: NSGA-II for the config's objectives and budgets."""

from __future__ import annotations

from pathlib import Path

import typer

from shiftnas.cli.options import (
    CONFIG_REQUIRED,
    DEVICE,
    JSON,
    QUIET,
    RUN_DIR_NEW,
    check_device,
    emit_json,
    human_console,
)


def search_command(
    config: Path = CONFIG_REQUIRED,
    run_dir: Path | None = RUN_DIR_NEW,
    device: str | None = DEVICE,
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Search the Pareto front; running it again after a kill resumes from the last generation."""
    from shiftnas.pipeline.config import load_config

    cfg = load_config(config)
    if check_device(device) is not None:
        cfg = cfg.model_copy(update={"device": device})

    from rich.table import Table

    from shiftnas.pipeline.checks import check_config
    from shiftnas.pipeline.integrity import check_run_folder
    from shiftnas.pipeline.paths import record_paths, resolve_paths
    from shiftnas.pipeline.rundir import RunDir
    from shiftnas.pipeline.search_setup import search_from_config

    run = RunDir(run_dir or Path("runs") / cfg.name)
    cfg, paths = resolve_paths(cfg, run.root)  # relative paths: as recorded when it began
    warnings = check_config(cfg, str(config), stages=["search"])
    check_run_folder(run.root)
    console = human_console(as_json)
    for line in warnings:  # an estimator not trusted on the space: before any work
        if as_json:
            typer.echo(line, err=True)
        else:
            console.print(line, markup=False, highlight=False, soft_wrap=True)
    for line in run.bind(cfg):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    record_paths(run.root, paths)
    result = search_from_config(cfg, run.root, progress=not quiet)
    written = [result.out_dir / "pareto.json", result.out_dir / "pareto.png"]
    if as_json:
        emit_json({
            "objectives": result.objectives, "generations": result.generations,
            "evaluations": result.evaluations, "hypervolume": result.hypervolume,
            "stopped": result.stopped, "front": result.front, "written": written,
        })  # fmt: skip
        return
    table = Table(
        title=f"Pareto front ({result.generations} generations, "
        f"{result.evaluations} networks, hypervolume {result.hypervolume:.4f})"
    )
    for column in ("id", "arch", *result.objectives):
        table.add_column(column)
    for entry in result.front:
        values = [f"{entry['objectives'][n]:.4g}" for n in result.objectives]
        table.add_row(entry["id"], entry["string"], *values)
    console.print(table)
    if result.stopped:
        console.print(f"search {result.stopped}")
    console.print(f"written: {written[0]}, {written[1]}")
