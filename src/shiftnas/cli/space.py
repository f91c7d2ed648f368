"""`shiftnas space list` and `shiftnas space describe [NAME] [-c CONFIG]`: the registered spaces;
the candidate table and the skeleton of one (the default one, or the one a config builds)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from shiftnas.cli.catalog import list_spaces_command
from shiftnas.cli.options import CONFIG, JSON, SPACE_HELP
from shiftnas.cli.resolve import load_space

app = typer.Typer(help="Inspect search spaces.", no_args_is_help=True, rich_markup_mode="markdown")
app.command("list")(list_spaces_command)


@app.command("describe")
def describe(
    name: str | None = typer.Argument(None, help=SPACE_HELP, show_default=False),
    config: Path | None = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Show a space's candidate operations and skeleton; with --config, the skeleton that config
    builds (its data is read for the number of classes)."""
    info = load_space(name, config).describe()
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    console = Console()
    for key, value in info.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            console.print(_table(key, value))
        elif isinstance(value, dict):
            for sub_key, sub_value in value.items():
                if isinstance(sub_value, list) and sub_value and isinstance(sub_value[0], dict):
                    console.print(_table(f"{key}.{sub_key}", sub_value))
                else:
                    console.print(f"[bold]{key}.{sub_key}[/]: {sub_value}")
        else:
            console.print(f"[bold]{key}[/]: {value}")


def _table(title: str, rows: list[dict]) -> Table:
    table = Table(title=title)
    for column in rows[0]:
        table.add_column(str(column))
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    return table
