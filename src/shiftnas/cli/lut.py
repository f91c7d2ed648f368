"""`shiftnas lut build|validate|show`: latency lookup tables for a search space on a device."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from shiftnas.cli.options import CONFIG, JSON, QUIET, SPACE, emit_json, human_console
from shiftnas.cli.resolve import load_space

# the table's default reading, as in `shiftnas.profiling.lut` (a test keeps the two equal):
# the minimum per session, then the minimum over passes
DEFAULT_STATISTIC, DEFAULT_AGGREGATE = "min", "min"

app = typer.Typer(
    help="Build, validate and inspect latency lookup tables.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


@app.command("build")
def build_command(
    out: Path = typer.Option(..., "--out", help="Table JSON; an unfinished one is resumed."),
    space: str | None = SPACE,
    config: Path | None = CONFIG,
    num_classes: int | None = typer.Option(None, "--num-classes", help="Override the head size."),
    backend: str = typer.Option("ort-cpu", "--backend", help="Latency backend name."),
    threads: int = typer.Option(1, "--threads", help="Intra-op threads."),
    batch_size: int = typer.Option(1, "--batch-size"),
    warmup: int = typer.Option(20, "--warmup", help="Untimed calls per session."),
    runs: int = typer.Option(200, "--runs", help="Timed calls per session."),
    precision: str = typer.Option("fp32", "--precision", help="fp32 or fp16 (GPU backends)."),
    passes: int = typer.Option(5, "--passes", help="Shuffled passes over all entries."),
    calibration: int = typer.Option(10, "--calibration", help="Whole networks for a*raw+b."),
    statistic: str = typer.Option(
        DEFAULT_STATISTIC, "--statistic", help="min, p10 or median per session."
    ),
    aggregate: str = typer.Option(
        DEFAULT_AGGREGATE, "--aggregate", help="median or min over passes."
    ),
    seed: int = typer.Option(0, "--seed"),
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Measure every block of the space on a backend; rerun the same command to resume."""
    from shiftnas.profiling import build_table, get_backend
    from shiftnas.progress import make_progress

    search_space = load_space(space, config, num_classes)
    timer = get_backend(
        backend,
        threads=threads,
        batch_size=batch_size,
        warmup=warmup,
        runs=runs,
        precision=precision,
    )
    with make_progress(not quiet and not as_json) as bar:
        task = bar.add_task("lut build", total=None)

        def progress(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, total=total, description=f"lut build {name:>14}")

        table = build_table(
            search_space,
            timer,
            out,
            passes=passes,
            calibration_networks=calibration,
            statistic=statistic,
            how=aggregate,
            seed=seed,
            progress=progress,
        )
    a, b = table.fit()
    if as_json:
        emit_json({"table": out, "entries": len(table.entries),
                   "passes": table.protocol["passes"], "calibration": {"a": a, "b_ms": b},
                   "build_seconds": table.build_seconds})  # fmt: skip
        return
    Console(soft_wrap=True).print(
        f"{out}: {len(table.entries)} entries x {table.protocol['passes']} passes, "
        f"calibration {a:.3f} * raw {b:+.4f} ms, built in {table.build_seconds:.0f} s"
    )


@app.command("validate")
def validate_command(
    table_path: Path = typer.Argument(..., help="Latency table JSON."),
    n: int = typer.Option(100, "--n", help="Random networks to measure end to end."),
    repeats: int = typer.Option(3, "--repeats", help="Sessions per network (>= 2)."),
    seed: int = typer.Option(1, "--seed", help="Seed of the random networks."),
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Measure random networks end to end and report how well the table predicts them."""
    from shiftnas.profiling import LatencyTable, validate_table
    from shiftnas.progress import make_progress
    from shiftnas.search import get_space

    table = LatencyTable.load(table_path)
    space = get_space(table.space, **table.space_settings)
    with make_progress(enabled=not (as_json or quiet)) as bar:
        task = bar.add_task("lut validate", total=n * repeats)

        def progress(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done)

        result = validate_table(table, space, n=n, seed=seed, repeats=repeats, progress=progress)
    if as_json:
        emit_json(result)
        return
    out = Table(title=f"{table_path}: {n} random networks, each measured {repeats} times")
    out.add_column("reading (* = table's)", no_wrap=True)
    for column in ("within 5%", "within 10%", "MAPE", "Spearman", "worst", "noise"):
        out.add_column(column, justify="right")
    chosen = f"{table.statistic}/{table.aggregate}"
    for name, v in result["variants"].items():
        out.add_row(
            name + (" *" if name == chosen else ""),
            f"{v['within_5pct']:.1%}",
            f"{v['within_10pct']:.1%}",
            f"{v['mape']:.2%}",
            f"{v['spearman']:.4f}",
            f"{v['worst_error']:+.1%}",
            f"{v['noise_floor']:.2%}",
            style="bold" if name == chosen else None,
        )
    console = Console()
    console.print(out)
    console.print(f"load average before/after: {result['loadavg']}")


@app.command("show")
def show_command(
    table_path: Path = typer.Argument(..., help="Latency table JSON."),
    entries: bool = typer.Option(True, "--entries/--no-entries", help="List every entry."),
    as_json: bool = JSON,
) -> None:
    """Print a table's device, protocol, calibration and entries."""
    from shiftnas.profiling import LatencyTable

    table = LatencyTable.load(table_path)
    if as_json:
        emit_json(_table_record(table, table_path, entries))
        return
    console = human_console(False)
    device = table.device.get("gpu") or table.device.get("host_cpu", {})
    console.print(f"[bold]{table_path}[/]  space {table.space}, {len(table.layers)} layers")
    console.print(f"device: {device.get('gpu') or device.get('cpu')}  {json.dumps(device)}")
    console.print(f"backend: {json.dumps(table.backend)}")
    console.print(f"versions: {json.dumps(table.versions)}")
    console.print(f"protocol: {json.dumps(table.protocol)}")
    a, b = table.fit()
    missing = table.missing()
    console.print(
        f"statistic: per-session {table.statistic}, {table.aggregate} over passes; "
        f"prediction = {a:.4f} * sum {b:+.4f} ms; built in {table.build_seconds:.0f} s"
        + (f"; [red]incomplete: {missing} measurements missing[/]" if missing else "")
    )
    if not entries:
        return
    out = Table()
    for column in ("entry", "input shape", f"{table.statistic} ms", "passes", "spread"):
        out.add_column(column, justify="left" if column == "entry" else "right")
    for key, entry in table.entries.items():
        samples = entry["samples"][table.statistic]
        if not samples:
            out.add_row(key, str(entry["input_shape"]), "-", "0", "-")
            continue
        value = table.value(key)
        spread = (max(samples) - min(samples)) / value if value > 0 else 0.0
        out.add_row(
            key,
            "x".join(map(str, entry["input_shape"])),
            f"{value:.4f}",
            str(len(samples)),
            f"{spread:.1%}",
        )
    console.print(out)


def _table_record(table: Any, path: Path, entries: bool) -> dict[str, Any]:
    """What `lut show --json` prints: the table's provenance, calibration and entries (ms)."""
    a, b = table.fit()
    values = {
        key: table.value(key) if entry["samples"][table.statistic] else None
        for key, entry in table.entries.items()
    }
    return {
        "table": path, "space": table.space, "layers": len(table.layers),
        "device": table.device, "backend": table.backend, "versions": table.versions,
        "protocol": table.protocol, "statistic": table.statistic, "aggregate": table.aggregate,
        "calibration": {"a": a, "b_ms": b}, "build_seconds": table.build_seconds,
        "missing": table.missing(), "entries_ms": values if entries else None,
    }  # fmt: skip
