"""`shiftnas profile macs|latency`: the cost of one architecture, per network and per layer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from shiftnas.arch import Arch, input_shape
from shiftnas.cli.options import ARCH, CONFIG, JSON, RUN_DIR_OPTIONAL, SPACE
from shiftnas.cli.resolve import load_space, resolve_arch
from shiftnas.errors import ShiftnasError

app = typer.Typer(
    help="MACs, parameters and measured latency of an architecture.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def load_space_and_arch(
    space_name: str | None, config: Path | None, arch: str, run_dir: Path | None = None
) -> tuple[Any, Arch]:
    """The space (default skeleton, `config`'s, or the run's) and the canonical architecture."""
    from shiftnas.pipeline.rundir import RunDir

    if run_dir is not None:
        if config is not None:
            raise ShiftnasError("--run-dir brings its own config: drop --config or --run-dir")
        config = RunDir(run_dir).config_path
        RunDir(run_dir).load_config()  # the one-line "not a run folder" error
    space = load_space(space_name, config)
    return space, resolve_arch(arch, space, run_dir)


MACS_CONVENTION = (
    "MACs: multiply-adds of the exported network (convolutions incl. depthwise, squeeze-excite "
    "and BlurPool, and the classifier; BatchNorm folded, pooling not counted); the NAS papers' "
    "'FLOPs' columns report this same figure"
)


def _op_labels(space: Any, arch: Arch) -> dict[str, str]:
    candidates = space.describe().get("candidates") or []
    labels = {"stem": "stem", "head": "head"}
    for i, gene in enumerate(arch.genome):
        labels[f"layers.{i}"] = candidates[gene]["op"] if gene < len(candidates) else str(gene)
    return labels


@app.command("macs")
def macs_command(
    space: str | None = SPACE,
    config: Path | None = CONFIG,
    arch: str = ARCH,
    run_dir: Path | None = RUN_DIR_OPTIONAL,
    as_json: bool = JSON,
) -> None:
    """MACs (multiply-adds of the exported network: BatchNorm folded, pooling not counted) and
    parameters, per layer and total."""
    from shiftnas.profiling.macs import layer_costs, network_cost

    search_space, architecture = load_space_and_arch(space, config, arch, run_dir)
    model = search_space.build(architecture)
    shape = input_shape(search_space.settings)
    total = network_cost(model, shape)
    labels = _op_labels(search_space, architecture)
    rows = [
        {"part": name, "op": labels.get(name, name), "macs": c.macs, "params": c.params}
        for name, c in layer_costs(model, shape)
    ]
    result = {
        "arch": architecture.to_json(),
        "id": architecture.id,
        "input_shape": list(shape),
        "macs": total.macs,
        "params": total.params,
        "convention": MACS_CONVENTION,
        "layers": rows,
    }
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    table = Table(title=f"{architecture.id}  {search_space.to_string(architecture)}  input {shape}")
    for column in ("part", "op", "MACs (M)", "params (K)"):
        table.add_column(column, justify="left" if column in ("part", "op") else "right")
    for row in rows:
        table.add_row(
            row["part"], row["op"], f"{row['macs'] / 1e6:.3f}", f"{row['params'] / 1e3:.1f}"
        )
    table.add_row("total", "", f"{total.macs / 1e6:.3f}", f"{total.params / 1e3:.1f}", style="bold")
    Console().print(table)
    Console().print(MACS_CONVENTION)


@app.command(
    "flops",
    hidden=True,
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def flops_command() -> None:
    """Renamed: use `shiftnas profile macs`."""
    raise ShiftnasError(
        "`shiftnas profile flops` is now `shiftnas profile macs` (it always counted MACs): use macs"
    )


def check_table_here(lut: Any, source: str, timer: Any) -> None:
    """Refuse a table whose prediction answers another question than this measurement: other
    backend settings (batch size, threads, precision) or another device."""
    from shiftnas.profiling.fingerprint import device_fingerprint, device_identity
    from shiftnas.profiling.lut import first_difference
    from shiftnas.profiling.lut_check import LATENCY_SETTINGS, check_settings

    wanted = timer.settings()
    recorded = [k for k in LATENCY_SETTINGS if k in lut.backend]
    options = " ".join(f"--{k.replace('_', '-')} {lut.backend[k]}" for k in recorded)
    check_settings(lut, wanted, source, f"measure with the table's settings ({options})")
    diff = first_difference(
        device_identity(lut.device), device_identity(device_fingerprint(timer.name))
    )
    if diff:
        raise ShiftnasError(
            f"latency table {source} was measured on another device ({diff}): its predictions "
            "are for that device; profile there, or build a table here with `shiftnas lut build`"
        )


@app.command("latency")
def latency_command(
    space: str | None = SPACE,
    config: Path | None = CONFIG,
    arch: str = ARCH,
    run_dir: Path | None = RUN_DIR_OPTIONAL,
    backend: str = typer.Option(
        "ort-cpu", "--backend", help="ort-cpu, ort-cuda, ort-tensorrt, tensorrt, torch."
    ),
    threads: int = typer.Option(1, "--threads", help="Intra-op threads."),
    batch_size: int = typer.Option(1, "--batch-size"),
    warmup: int = typer.Option(20, "--warmup"),
    runs: int = typer.Option(200, "--runs"),
    precision: str = typer.Option("fp32", "--precision", help="fp32 or fp16 (GPU backends)."),
    table: Path | None = typer.Option(
        None, "--table", help="Also print this lookup table's prediction."
    ),
    as_json: bool = JSON,
) -> None:
    """Measure one architecture end to end on a latency backend."""
    from shiftnas.profiling import LatencyTable, get_backend

    search_space, architecture = load_space_and_arch(space, config, arch, run_dir)
    timer = get_backend(
        backend,
        threads=threads,
        batch_size=batch_size,
        warmup=warmup,
        runs=runs,
        precision=precision,
    )
    lut = LatencyTable.load(table) if table else None
    if lut is not None:
        lut.check_space(search_space)
        check_table_here(lut, str(table), timer)
    result = timer.measure(
        search_space.build(architecture), input_shape(search_space.settings, batch_size)
    )
    data = {"arch": architecture.to_json(), "id": architecture.id, **result.to_json()}
    if lut is not None:
        data["predicted_ms"] = lut.predict_ms(architecture)
        data["predicted_statistic"] = f"{lut.statistic} ({lut.aggregate} over passes)"
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    console = Console()
    console.print(
        f"[bold]{architecture.id}[/]  {search_space.to_string(architecture)}  "
        f"{backend} x{threads} thread(s), batch {batch_size}, {precision}"
    )
    console.print(
        f"median {result.median_ms:.4f} ms  p10 {result.p10_ms:.4f}  p90 {result.p90_ms:.4f}"
        f"  IQR {result.iqr_ms:.4f}  min {result.min_ms:.4f}  (n={result.n}, "
        f"load {result.loadavg[0]:.2f})"
    )
    if lut is not None:
        console.print(
            f"table predicts {data['predicted_ms']:.4f} ms ({data['predicted_statistic']})"
        )
