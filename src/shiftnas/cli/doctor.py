"""`shiftnas doctor`: what this machine can do with shiftnas, and what to install for the rest."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from shiftnas.cli.options import JSON, RUN_DIR_HELP
from shiftnas.errors import ShiftnasError


def doctor_command(
    run_dir: Path = typer.Option(
        Path("runs"), "--run-dir", help=f"{RUN_DIR_HELP}, whose disk and tracking store to check."
    ),
    as_json: bool = JSON,
) -> None:
    """Versions, GPUs, runtimes, latency backends, tracking store, allocator and free disk.

    Exits 0 when the default CPU path (`make run`) can run here, 2 with the reason when not.
    """
    from shiftnas.doctor import diagnose

    report = diagnose(run_dir)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        table = Table(title="shiftnas doctor")
        for column in ("area", "item", "", "value"):
            table.add_column(column, overflow="fold")
        for check in report.checks:
            mark = (
                "[green]ok[/]" if check.ok else ("[red]no[/]" if check.required else "[yellow]-[/]")
            )
            table.add_row(check.area, check.name, mark, escape(check.value))
        console = Console(soft_wrap=True)
        console.print(table)
        for line in report.to_dict()["missing"]:
            console.print(f"missing {escape(line)}", highlight=False)
    if report.failures:
        reasons = "; ".join(f"{c.name} ({c.value}): {c.fix}" for c in report.failures)
        raise ShiftnasError(f"doctor: the default CPU path cannot run here: {reasons}")
