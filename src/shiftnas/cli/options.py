"""The options every command shares, defined once so each has one spelling and one help text.

- `--config/-c F`: a YAML config, as `shiftnas run` reads it.
- `--run-dir D`: a run folder, what `shiftnas run` writes (`config.yaml`, one folder per stage,
  `state.json`, `mlflow.db`). Commands that make one default to `runs/<config name>`; commands
  that read one require it, or take it optionally where it only adds information.
- `--arch A`: one network (an id of the run, a genome string, or a JSON/YAML file).
- `--json`: print the command's result as one JSON object on stdout; whatever else it says
  (stage lines, progress) goes to stderr.
- `--quiet/-q`: no progress bars (long commands).
- `--device`: where networks run: `auto`, `cpu` or `cuda`; default: the config's `device`.

Renamed options (`RENAMED`) are caught in `shiftnas.cli.main` before parsing: a renamed switch
still works for a release with one line on stderr naming the new spelling.

This module imports only typer: `shiftnas --help` must not wait for torch.
"""

from __future__ import annotations

import json
from typing import Any

import typer

DEFAULT_SPACE = "mbv3"

CONFIG_HELP = "YAML config file (as `shiftnas run` reads it)."
ARCH_HELP = (
    "Architecture: an id from the run's archive (12 hex digits, needs --run-dir), a genome "
    "string of the space (mbv3: 0-12-5-...), or a JSON/YAML file {space, genome}."
)
SPACE_HELP = f"Search space name; default: the config's space, else {DEFAULT_SPACE}."
RUN_DIR_HELP = "Run folder (config.yaml, a folder per stage, state.json, mlflow.db)"
DEVICES = ("auto", "cpu", "cuda")

CONFIG = typer.Option(None, "--config", "-c", help=CONFIG_HELP)
CONFIG_REQUIRED = typer.Option(..., "--config", "-c", help=CONFIG_HELP)
ARCH = typer.Option(..., "--arch", help=ARCH_HELP)
SPACE = typer.Option(None, "--space", help=SPACE_HELP)

# one meaning, one help text; what differs is only whether it is made, required or optional
RUN_DIR_NEW = typer.Option(None, "--run-dir", help=f"{RUN_DIR_HELP}; default: runs/<config name>.")
RUN_DIR = typer.Option(..., "--run-dir", help=f"{RUN_DIR_HELP}.")
RUN_DIR_OPTIONAL = typer.Option(
    None, "--run-dir", help=f"{RUN_DIR_HELP}; its config sets the space, its archive resolves ids."
)

JSON = typer.Option(False, "--json", help="Print the result as one JSON object on stdout.")
QUIET = typer.Option(False, "--quiet", "-q", help="No progress bars.")
DEVICE = typer.Option(
    None,
    "--device",
    help="Where networks run: auto, cpu or cuda; default: the config's device (cpu without one).",
)

# Renamed options: the old spelling works for one more release, with a note naming the new one.
RENAMED: dict[str, str] = {
    "--no-progress": "--quiet",  # `eval`'s switch, now every long command's `--quiet`
    "--progress": "the default (--quiet hides progress bars)",
}
# Renamed earlier and refused now, with the new spelling in the one-line error.
REFUSED: dict[str, str] = {"--arch-id": "--arch (an id, a genome or a file)"}


def check_device(device: str | None) -> str | None:
    """`--device` as given; a value outside auto/cpu/cuda is refused in one line."""
    from shiftnas.errors import ShiftnasError

    if device is not None and device not in DEVICES:
        raise ShiftnasError(f"--device {device}: choose one of {', '.join(DEVICES)}")
    return device


def emit_json(result: Any) -> None:
    """The one JSON object a `--json` command prints on stdout (paths and the like as str)."""
    typer.echo(json.dumps(result, indent=2, default=str))


def human_console(as_json: bool) -> Any:
    """Where a command says what it does: stdout, or stderr when stdout carries `--json`."""
    from rich.console import Console

    return Console(stderr=as_json)


def rename_args(args: list[str]) -> list[str]:
    """`args` with renamed options (`RENAMED`) in their new spelling, one note on stderr for
    each; a refused old spelling (`REFUSED`) raises `ShiftnasError` naming the new one."""
    from shiftnas.errors import ShiftnasError

    out: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--":
            return out + args[i:]
        name, _, value = arg.partition("=")
        if name in REFUSED:
            given = value or (args[i + 1] if i + 1 < len(args) else "VALUE")
            raise ShiftnasError(
                f"{name} is now {REFUSED[name]}: {REFUSED[name].split()[0]} {given}"
            )
        if name in RENAMED:
            typer.echo(f"note: {name} is now {RENAMED[name]}", err=True)
            out += ["--quiet"] if name == "--no-progress" else []
            continue
        out.append(arg)
    return out
