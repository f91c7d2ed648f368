"""`shiftnas eval METHOD`: estimate the quality of one or many architectures (lower is better).

`inherited` reads a run directory with a trained supernet (`--run-dir --arch A.json`); every other
method builds networks of `--space` and scores them from a random init on `--dataset`.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from shiftnas.data import load_data
from shiftnas.data.settings import DataConfig
from shiftnas.device import resolve_device
from shiftnas.errors import ShiftnasError
from shiftnas.pipeline.rundir import RunDir
from shiftnas.pipeline.search_setup import inherited_evaluator
from shiftnas.progress import make_progress
from shiftnas.search import Arch, SearchSpace, get_space
from shiftnas.search.evaluators import get_evaluator, list_evaluators
from shiftnas.search.evaluators.batch import score_one, score_to_csv
from shiftnas.search.supernet import load_supernet


def eval_command(
    method: str = typer.Argument(..., help="Evaluation method, e.g. default, rwe, synflow."),
    space_name: str = typer.Option("nb201", "--space", help="Search space of the architectures."),
    arch: str | None = typer.Option(None, "--arch", help="One architecture: string or JSON file."),
    archs: Path | None = typer.Option(None, "--archs", help="File with one architecture a line."),
    out: Path | None = typer.Option(None, "--out", help="CSV to write (arch,score,seconds)."),
    dataset: str = typer.Option("shapes", "--dataset", help="imagefolder, cifar10 or shapes."),
    data_root: Path | None = typer.Option(None, "--data-root", help="Dataset folder."),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", help="Decoded-image cache."),
    seed: int = typer.Option(0, "--seed", help="Seed of inits, batches and data split."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda or auto."),
    run_dir: Path | None = typer.Option(None, "--run-dir", help="Run with a trained supernet."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Print the estimated score of an architecture, or score a file of them into a CSV."""
    if method == "inherited":
        _inherited(run_dir, arch)
        return
    if method not in list_evaluators():
        raise ShiftnasError(
            f"unknown evaluation method '{method}': choose one of {', '.join(list_evaluators())}"
        )
    if (arch is None) == (archs is None):
        raise ShiftnasError("eval needs exactly one of --arch ARCH or --archs FILE (with --out)")
    if archs is not None and out is None:
        raise ShiftnasError("--archs needs --out scores.csv to write the scores to")
    if dataset not in ("shapes", "cifar10", "imagefolder"):
        raise ShiftnasError(f"--dataset '{dataset}' is not one of imagefolder, cifar10, shapes")
    if dataset != "shapes" and data_root is None:
        raise ShiftnasError(f"--dataset {dataset} needs --data-root DIR (the dataset folder)")
    data = load_data(DataConfig(dataset=dataset, root=data_root, cache_dir=cache_dir), seed)  # type: ignore[arg-type]
    space = get_space(space_name, num_classes=data.num_classes)
    evaluator = get_evaluator(
        method, space=space, data=data, seed=seed, device=resolve_device(device)
    )
    console = Console()
    if arch is not None:
        architecture = space.canonical(_read_arch(space, arch))
        score, seconds = score_one(evaluator, architecture)
        console.print(f"{architecture.id}  {space.to_string(architecture)}  {method}={score:.6g}  "
                      f"({seconds:.2f} s)")  # fmt: skip
        return
    assert archs is not None and out is not None
    if not archs.is_file():
        raise ShiftnasError(f"--archs {archs} does not exist: pass a file with one arch a line")
    lines = [line.strip() for line in archs.read_text().splitlines() if line.strip()]
    with make_progress(progress) as bar:
        task = bar.add_task(f"eval {method}", total=len(lines))
        rows = score_to_csv(
            evaluator, space, lines, out,
            progress=lambda done, todo: bar.update(task, completed=len(lines) - todo + done),
        )  # fmt: skip
    console.print(f"{len(rows)} architectures scored in {out}")


def _read_arch(space: SearchSpace, text: str) -> Arch:
    """The space's string form, or a JSON file written by `Arch.to_json`."""
    if text.endswith(".json") or Path(text).is_file():
        return space.validate(Arch.load(text))
    return space.from_string(text)


def _inherited(run_dir: Path | None, arch: str | None) -> None:
    if run_dir is None or arch is None:
        raise ShiftnasError(
            "eval inherited needs --run-dir (a run with a supernet) and --arch FILE"
        )
    run = RunDir(run_dir)
    cfg = run.load_config()
    ckpt = run.stage("supernet") / "checkpoint.pt"
    if not ckpt.exists():
        raise ShiftnasError(f"no supernet in {run_dir}: run `shiftnas supernet train` first")
    data = load_data(cfg.data, cfg.seed)
    space = get_space(cfg.space.name, cfg.space, num_classes=data.num_classes)
    architecture = space.canonical(_read_arch(space, arch))
    device = resolve_device(cfg.device)
    evaluator = inherited_evaluator(cfg, load_supernet(space, ckpt, device), data, device)
    error = evaluator.evaluate([architecture])[0]
    Console().print(f"{architecture.id}  {space.to_string(architecture)}  error={error:.4f}")
