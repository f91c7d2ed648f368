"""The `shiftnas` command: one sub-command per job, each a thin call into the library.

A package rather than one `cli.py`, so each area (space, supernet, eval, profile, ...) keeps its
commands in its own small module; this file only assembles them, answers `--version`, and turns
`ShiftnasError` into one line on stderr with exit code 2. How a config, an architecture and a
space are passed is the same in every command (`cli/resolve.py`), and so are the options every
command shares (`cli/options.py`: `--run-dir`, `--json`, `--quiet`, `--device`, ...).

Commands are listed in workflow order, in panels. No command module imports torch (or the
library behind it) when it is loaded, only when it runs: `shiftnas --help` and a config typo
answer without waiting for torch (`tests/cli/test_cli_help.py`).
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import typer
import typer.core
from rich.console import Console
from rich.markup import escape

from shiftnas.cli import catalog, evaluate, fidelity, run, space, supernet
from shiftnas.cli import doctor as doctor_cli
from shiftnas.cli import export as export_cli
from shiftnas.cli import lut as lut_cli
from shiftnas.cli import predict as predict_cli
from shiftnas.cli import profile as profile_cli
from shiftnas.cli import promote as promote_cli
from shiftnas.cli import retrain as retrain_cli
from shiftnas.cli import robustness as robustness_cli
from shiftnas.cli import search as search_cli
from shiftnas.cli.options import rename_args
from shiftnas.errors import ShiftnasError

# The order `shiftnas --help` lists commands in (typer would list groups after commands).
WORKFLOW_ORDER = (
    "run", "status", "supernet", "search", "retrain", "robustness", "export", "space",
    "estimators", "eval", "fidelity", "profile", "lut", "promote", "predict", "doctor",
)  # fmt: skip


class _WorkflowGroup(typer.core.TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        return sorted(names, key=lambda n: (*WORKFLOW_ORDER, n).index(n))


app = typer.Typer(
    name="shiftnas",
    cls=_WorkflowGroup,
    help="Find, prove and ship efficient, shift-robust convolutional networks for a device.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # a docstring's wrapped lines are one paragraph in --help
    add_completion=False,
)


def package_version() -> str:
    """The installed distribution's version (importlib.metadata), else `__version__`."""
    try:
        return version("shiftnas")
    except PackageNotFoundError:  # run from a source tree that is not installed
        from shiftnas import __version__

        return __version__


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"shiftnas {package_version()}")
        raise typer.Exit()


@app.callback()
def _options(
    _version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Find, prove and ship efficient, shift-robust convolutional networks for a device."""


# Workflow order: run the pipeline; or take it a stage at a time; know the space and the costs;
# ship; check the machine.
PIPELINE, STAGES, SPACES, COSTS, SHIP, MACHINE = (
    "Run the pipeline",
    "One stage at a time, in pipeline order",
    "Search spaces and estimators",
    "Costs on a device",
    "Ship",
    "This machine",
)
app.command("run", rich_help_panel=PIPELINE)(run.run_command)
app.command("status", rich_help_panel=PIPELINE)(run.status_command)
app.add_typer(supernet.app, name="supernet", rich_help_panel=STAGES)
app.command("search", rich_help_panel=STAGES)(search_cli.search_command)
app.command("retrain", rich_help_panel=STAGES)(retrain_cli.retrain_command)
app.command("robustness", rich_help_panel=STAGES)(robustness_cli.robustness_command)
app.command("export", rich_help_panel=STAGES)(export_cli.export_command)
app.add_typer(space.app, name="space", rich_help_panel=SPACES)
app.command("estimators", rich_help_panel=SPACES)(catalog.estimators_command)
app.command("eval", rich_help_panel=SPACES)(evaluate.eval_command)
app.command("fidelity", rich_help_panel=SPACES)(fidelity.fidelity_command)
app.add_typer(profile_cli.app, name="profile", rich_help_panel=COSTS)
app.add_typer(lut_cli.app, name="lut", rich_help_panel=COSTS)
app.command("promote", rich_help_panel=SHIP)(promote_cli.promote_command)
app.command("doctor", rich_help_panel=MACHINE)(doctor_cli.doctor_command)
app.command("predict", rich_help_panel=SHIP)(predict_cli.predict_command)

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def main(args: list[str] | None = None) -> None:
    """The `shiftnas` command (`args`: default `sys.argv[1:]`); a `ShiftnasError` or a
    user-fixable `OSError` ends it with one line on stderr and exit code 2."""
    try:
        app(args=rename_args(list(sys.argv[1:] if args is None else args)), prog_name="shiftnas")
    except ShiftnasError as err:
        err_console.print(f"[bold red]error:[/] {escape(str(err))}", markup=True)
        sys.exit(2)
    except OSError as err:  # a full disk or a read-only folder met outside shiftnas.files
        from shiftnas.files import OS_ERRORS_FOR_USER, os_error

        if err.errno not in OS_ERRORS_FOR_USER:
            raise
        message = str(os_error(err, Path(err.filename or "")))
        err_console.print(f"[bold red]error:[/] {escape(message)}", markup=True)
        sys.exit(2)
    except KeyboardInterrupt:  # Ctrl-C: what was cut off was already said; no traceback
        sys.exit(130)
