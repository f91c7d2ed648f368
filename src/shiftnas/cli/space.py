"""`shiftnas space describe NAME`: the candidate table and the skeleton of a search space."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from shiftnas.search import get_space

app = typer.Typer(help="Inspect search spaces.", no_args_is_help=True)


@app.command("describe")
def describe(
    name: str = typer.Argument(..., help="Search space name, e.g. mbv3."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Show a space's candidate operations and skeleton."""
    info = get_space(name).describe()
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
