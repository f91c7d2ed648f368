"""`shiftnas eval METHOD`: estimate the quality of one or many architectures (lower is better).

`inherited` reads a run folder with a trained supernet (`--run-dir D --arch A`); every other
method builds networks of the space (`--space`, default `mbv3`, or the config's) and scores them
from a random init on the data (`--dataset`, default `shapes`, or the config's).
`shiftnas estimators` lists the methods.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from shiftnas.cli.options import (
    ARCH_HELP,
    CONFIG_HELP,
    DEVICE,
    JSON,
    QUIET,
    RUN_DIR_OPTIONAL,
    SPACE,
    check_device,
    emit_json,
    human_console,
)
from shiftnas.errors import ShiftnasError

if TYPE_CHECKING:
    from shiftnas.data.settings import DataConfig
    from shiftnas.pipeline.config import Config


def eval_command(
    method: str = typer.Argument(
        ...,
        metavar="ESTIMATOR",
        help="Performance estimator, e.g. default, rwe, synflow (`shiftnas estimators`).",
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
    device: str | None = DEVICE,
    run_dir: Path | None = RUN_DIR_OPTIONAL,
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Print the estimated score of an architecture, or score a file of them into a CSV.

    `inherited` needs --run-dir (a run with a trained supernet); the other estimators build
    networks from a random init on --dataset (or the config's data)."""
    from shiftnas.cli.resolve import resolve_arch, space_name
    from shiftnas.data import load_data
    from shiftnas.device import resolve_device
    from shiftnas.pipeline.config import load_config
    from shiftnas.progress import make_progress
    from shiftnas.search import get_space
    from shiftnas.search.evaluators import get_evaluator, list_evaluators
    from shiftnas.search.evaluators.batch import score_one, score_to_csv

    check_device(device)
    if method == "inherited":
        if config is not None:
            raise ShiftnasError("eval inherited reads the config of --run-dir: drop --config")
        _inherited(run_dir, arch, device, as_json)
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
    where = device or (cfg.device if cfg is not None else "cpu")
    evaluator = get_evaluator(
        method, space=search_space, data=data, seed=seed, device=resolve_device(where)
    )
    console = human_console(as_json)
    if architecture is not None:
        score, seconds = score_one(evaluator, architecture)
        if as_json:
            emit_json({"id": architecture.id, "arch": search_space.to_string(architecture),
                       "method": method, "score": score, "seconds": seconds})  # fmt: skip
            return
        console.print(f"{architecture.id}  {search_space.to_string(architecture)}  "
                      f"{method}={score:.6g}  ({seconds:.2f} s)")  # fmt: skip
        return
    assert archs is not None and out is not None
    lines = [line.strip() for line in archs.read_text().splitlines() if line.strip()]
    with make_progress(not quiet and not as_json) as bar:
        task = bar.add_task(f"eval {method}", total=len(lines))
        rows = score_to_csv(
            evaluator, search_space, lines, out,
            progress=lambda done, todo: bar.update(task, completed=len(lines) - todo + done),
        )  # fmt: skip
    if as_json:
        emit_json({"method": method, "scored": len(rows), "out": out})
        return
    console.print(f"{len(rows)} architectures scored in {out}")


def _data_config(
    cfg: Config | None, dataset: str | None, root: Path | None, cache_dir: Path | None
) -> DataConfig:
    """The config's data section, or the one `--dataset/--data-root/--cache-dir` describe."""
    from shiftnas.data.settings import DataConfig

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


def _inherited(run_dir: Path | None, arch: str | None, device: str | None, as_json: bool) -> None:
    from shiftnas.cli.resolve import resolve_arch
    from shiftnas.data import load_data
    from shiftnas.device import resolve_device
    from shiftnas.pipeline.objectives import inherited_evaluator
    from shiftnas.pipeline.rundir import RunDir
    from shiftnas.search import get_space
    from shiftnas.search.supernet import load_supernet

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
    where = resolve_device(device or cfg.device)
    evaluator = inherited_evaluator(cfg, load_supernet(space, ckpt, where), data, where)
    error = evaluator.evaluate([architecture])[0]
    if as_json:
        emit_json({"id": architecture.id, "arch": space.to_string(architecture),
                   "method": "inherited", "score": error})  # fmt: skip
        return
    human_console(False).print(
        f"{architecture.id}  {space.to_string(architecture)}  error={error:.4f}"
    )
