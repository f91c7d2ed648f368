"""`shiftnas eval METHOD`: estimate the quality of one or many architectures."""

from __future__ import annotations

from pathlib import Path

import torch
import typer
from rich.console import Console

from shiftnas.data import load_data
from shiftnas.device import resolve_device
from shiftnas.errors import ShiftnasError
from shiftnas.pipeline.rundir import RunDir
from shiftnas.search import Arch, get_space
from shiftnas.search.evaluators import InheritedEvaluator
from shiftnas.search.supernet import Mbv3Supernet


def eval_command(
    method: str = typer.Argument(..., help="Evaluation method, e.g. inherited."),
    run_dir: Path | None = typer.Option(None, "--run-dir", help="Run with a trained supernet."),
    arch: Path | None = typer.Option(None, "--arch", help="Architecture JSON file."),
) -> None:
    """Print the estimated error of an architecture (lower is better)."""
    if method != "inherited":
        raise ShiftnasError(f"unknown evaluation method '{method}': choose one of inherited")
    if run_dir is None or arch is None:
        raise ShiftnasError("eval inherited needs --run-dir (a run with a supernet) and --arch FILE")
    run = RunDir(run_dir)
    cfg = run.load_config()
    ckpt = run.stage("supernet") / "checkpoint.pt"
    if not ckpt.exists():
        raise ShiftnasError(f"no supernet in {run_dir}: run `shiftnas supernet train` first")
    data = load_data(cfg.data, cfg.seed)
    space = get_space(cfg.space.name, cfg.space, num_classes=data.num_classes)
    architecture = space.canonical(Arch.load(arch))
    supernet = Mbv3Supernet(space)
    supernet.load_state_dict(torch.load(ckpt, map_location="cpu", weights_only=False)["model"])
    device = resolve_device(cfg.device)
    evaluator = InheritedEvaluator(
        supernet.to(device), data, cfg.supernet.bn_recalibration_batches, seed=cfg.seed,
        device=device,
    )  # fmt: skip
    error = evaluator.evaluate([architecture])[0]
    Console().print(f"{architecture.id}  {space.to_string(architecture)}  error={error:.4f}")
