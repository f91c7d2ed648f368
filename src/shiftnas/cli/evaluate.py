"""`shiftnas eval METHOD`: estimate the quality of one or many architectures (lower is better).

`inherited` reads a run directory with a trained supernet (`--run-dir D --arch A`); every other
method builds networks of the space (`--space`, default `mbv3`, or the config's) and scores them
from a random init on the data (`--dataset`, default `shapes`, or the config's).
`shiftnas estimators` lists the methods.
"""

from __future__ import annotations

import typing
from pathlib import Path

import typer
from rich.console import Console

from shiftnas.cli.resolve import ARCH_HELP, CONFIG_HELP, SPACE, resolve_arch, space_name
from shiftnas.data import load_data
from shiftnas.data.settings import DataConfig
from shiftnas.device import resolve_device
from shiftnas.errors import ShiftnasError
from shiftnas.pipeline.config import Config, load_config
from shiftnas.pipeline.objectives import inherited_evaluator
from shiftnas.pipeline.rundir import RunDir
from shiftnas.progress import make_progress
from shiftnas.search import get_space
from shiftnas.search.evaluators import get_evaluator, list_evaluators
from shiftnas.search.evaluators.batch import score_one, score_to_csv
from shiftnas.search.supernet import load_supernet


def eval_command(
    method: str = typer.Argument(
        ..., help="Estimator, e.g. default, rwe, synflow (see estimators)."
    ),
    space: str | None = SPACE,
    config: Path | None = typer.Option(
        None, "--config", "-c", help=f"{CONFIG_HELP} Sets the data, space and seed."
    ),
    arch: str | None = typer.Option(None, "--arch", help=ARCH_HELP),
    archs: Path | None = typer.Option(None, "--archs", help="File with one architecture a line."),
    out: Path | None = typer.Option(None, "--out", help="CSV to write (arch,score,seconds)."),
    dataset: str | None = typer.Option(
        None,
        "--dataset",
        help="A data.dataset name (shapes, digits, imagefolder, csv, cifar10, mnist, ...); "
        "default: shapes.",
    ),
    data_root: Path | None = typer.Option(None, "--data-root", help="Dataset folder."),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", help="Decoded-image cache."),
    seed: int | None = typer.Option(
        None, "--seed", help="Seed of inits, batches and data split; default: the config's, or 0."
    ),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda or auto."),
    run_dir: Path | None = typer.Option(None, "--run-dir", help="Run with a trained supernet."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Print the estimated score of an architecture, or score a file of them into a CSV."""
    if method == "inherited":
        if config is not None:
            raise ShiftnasError("eval inherited reads the config of --run-dir: drop --config")
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
    cfg = load_config(config) if config is not None else None
    data_config = _data_config(cfg, dataset, data_root, cache_dir)
    seed = seed if seed is not None else (cfg.seed if cfg is not None else 0)
    name, settings = space_name(space, cfg), (cfg.space if cfg else None)
    # the architecture and the file are checked before the data is decoded
    architecture = resolve_arch(arch, get_space(name, settings), run_dir) if arch else None
    if archs is not None and not archs.is_file():
        raise ShiftnasError(f"--archs {archs} does not exist: pass a file with one arch a line")
    data = load_data(data_config, seed, settings)
    search_space = get_space(name, settings, num_classes=data.num_classes)
    evaluator = get_evaluator(
        method, space=search_space, data=data, seed=seed, device=resolve_device(device)
    )
    console = Console()
    if architecture is not None:
        score, seconds = score_one(evaluator, architecture)
        console.print(f"{architecture.id}  {search_space.to_string(architecture)}  "
                      f"{method}={score:.6g}  ({seconds:.2f} s)")  # fmt: skip
        return
    assert archs is not None and out is not None
    lines = [line.strip() for line in archs.read_text().splitlines() if line.strip()]
    with make_progress(progress) as bar:
        task = bar.add_task(f"eval {method}", total=len(lines))
        rows = score_to_csv(
            evaluator, search_space, lines, out,
            progress=lambda done, todo: bar.update(task, completed=len(lines) - todo + done),
        )  # fmt: skip
    console.print(f"{len(rows)} architectures scored in {out}")


def _data_config(
    cfg: Config | None, dataset: str | None, root: Path | None, cache_dir: Path | None
) -> DataConfig:
    """The config's data section, or the one `--dataset/--data-root/--cache-dir` describe."""
    if cfg is not None:
        if dataset is not None or root is not None or cache_dir is not None:
            raise ShiftnasError(
                "--config sets the data: drop --dataset, --data-root and --cache-dir, or --config"
            )
        return cfg.data
    dataset = dataset or "shapes"
    choices = typing.get_args(DataConfig.model_fields["dataset"].annotation)
    if dataset not in choices:
        raise ShiftnasError(f"--dataset '{dataset}' is not one of {', '.join(choices)}")
    if dataset not in ("shapes", "digits") and root is None:
        raise ShiftnasError(f"--dataset {dataset} needs --data-root DIR (the dataset folder)")
    return DataConfig(dataset=dataset, root=root, cache_dir=cache_dir)  # type: ignore[arg-type]


def _inherited(run_dir: Path | None, arch: str | None) -> None:
    if run_dir is None or arch is None:
        raise ShiftnasError(
            "eval inherited needs --run-dir (a run with a supernet) and --arch (id, genome, file)"
        )
    run = RunDir(run_dir)
    cfg = run.load_config()
    ckpt = run.stage("supernet") / "checkpoint.pt"
    if not ckpt.exists():
        raise ShiftnasError(f"no supernet in {run_dir}: run `shiftnas supernet train` first")
    architecture = resolve_arch(arch, get_space(cfg.space.name, cfg.space), run_dir)
    data = load_data(cfg.data, cfg.seed, cfg.space)
    space = get_space(cfg.space.name, cfg.space, num_classes=data.num_classes)
    device = resolve_device(cfg.device)
    evaluator = inherited_evaluator(cfg, load_supernet(space, ckpt, device), data, device)
    error = evaluator.evaluate([architecture])[0]
    Console().print(f"{architecture.id}  {space.to_string(architecture)}  error={error:.4f}")
