"""The `shiftnas` command: one sub-command per job, each a thin call into the library.

A package rather than one `cli.py`, so each area (space, supernet, eval, profile, ...) keeps its
commands in its own small module; this file only assembles them and turns `ShiftnasError` into
one line on stderr with exit code 2.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from shiftnas.cli import evaluate, run, space, supernet
from shiftnas.errors import ShiftnasError

app = typer.Typer(
    name="shiftnas",
    help="Find, prove and ship efficient, shift-robust convolutional networks for a device.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(space.app, name="space")
app.add_typer(supernet.app, name="supernet")
app.command("eval")(evaluate.eval_command)
app.command("run")(run.run_command)

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def main() -> None:
    try:
        app()
    except ShiftnasError as err:
        err_console.print(f"[bold red]error:[/] {err}", markup=True)
        sys.exit(2)
