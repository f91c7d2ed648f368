"""The `shiftnas` command: one sub-command per job, each a thin call into the library.

A package rather than one `cli.py`, so each area (space, supernet, eval, profile, ...) keeps its
commands in its own small module; this file only assembles them, answers `--version`, and turns
`ShiftnasError` into one line on stderr with exit code 2. How a config, an architecture and a
space are passed is the same in every command: `cli/resolve.py`.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import typer
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
from shiftnas.errors import ShiftnasError
from shiftnas.files import OS_ERRORS_FOR_USER, os_error

app = typer.Typer(
    name="shiftnas",
    help="Find, prove and ship efficient, shift-robust convolutional networks for a device.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
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


app.add_typer(space.app, name="space")
app.add_typer(supernet.app, name="supernet")
app.add_typer(profile_cli.app, name="profile")
app.add_typer(lut_cli.app, name="lut")
app.command("eval")(evaluate.eval_command)
app.command("estimators")(catalog.estimators_command)
app.command("fidelity")(fidelity.fidelity_command)
app.command("run")(run.run_command)
app.command("status")(run.status_command)
app.command("search")(search_cli.search_command)
app.command("retrain")(retrain_cli.retrain_command)
app.command("robustness")(robustness_cli.robustness_command)
app.command("promote")(promote_cli.promote_command)
app.command("export")(export_cli.export_command)
app.command("doctor")(doctor_cli.doctor_command)
app.command("predict")(predict_cli.predict_command)

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def main(args: list[str] | None = None) -> None:
    """The `shiftnas` command (`args`: default `sys.argv[1:]`); a `ShiftnasError` or a
    user-fixable `OSError` ends it with one line on stderr and exit code 2."""
    try:
        app(args=args)
    except ShiftnasError as err:
        err_console.print(f"[bold red]error:[/] {escape(str(err))}", markup=True)
        sys.exit(2)
    except OSError as err:  # a full disk or a read-only folder met outside shiftnas.files
        if err.errno not in OS_ERRORS_FOR_USER:
            raise
        message = str(os_error(err, Path(err.filename or "")))
        err_console.print(f"[bold red]error:[/] {escape(message)}", markup=True)
        sys.exit(2)
    except KeyboardInterrupt:  # Ctrl-C: what was cut off was already said; no traceback
        sys.exit(130)
