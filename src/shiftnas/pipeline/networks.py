"""Per-network work inside a run folder: retrain, robustness and export of one searched network.

The pipeline's stages call these for each selected network, and the commands `shiftnas retrain`,
`robustness` and `export` call them for one, on `open_run(run_dir)`. The libraries below
(`training`, `robustness`, `export`) know nothing of run folders; these functions say where in
the run each result goes:

- `retrain/<arch-id>/`: arch.json, checkpoint.pt (resumable), metrics.jsonl;
- `robustness/<arch-id>.json` and `robustness/<arch-id>/` (report.md, report.html, PNGs, and the
  ablation's four training runs under `ablation/`, each resumable);
- `export/<arch-id>/`: model.onnx, TensorRT engines where possible, card.json.
"""

from __future__ import annotations

import contextlib
from typing import Any, TypedDict

import torch

from shiftnas.arch import Arch
from shiftnas.errors import ShiftnasError
from shiftnas.export.package import accuracy_from_metrics, export_network, shift_summary
from shiftnas.files import read_json, read_jsonl, write_json_atomic
from shiftnas.pipeline.context import RunContext
from shiftnas.robustness.ablation import run_ablation
from shiftnas.robustness.evaluate import shift_metrics
from shiftnas.robustness.report import write_report
from shiftnas.training.retrain import Retrained, load_retrained, retrain


def retrain_in_run(ctx: RunContext, arch: Arch, *, max_steps: int | None = None) -> Retrained:
    """Retrain `arch` with the run's `retrain` section into `retrain/<arch-id>/`, from the run's
    supernet when `retrain.init` is `inherited`; resumes from its checkpoint."""
    arch = ctx.space.canonical(arch)
    return retrain(
        ctx.space, arch, ctx.data, ctx.config.retrain, ctx.retrain_dir(arch.id),
        seed=ctx.config.seed, device=ctx.device,
        supernet_checkpoint=ctx.run.stage("supernet") / "checkpoint.pt",
        progress=ctx.progress, max_steps=max_steps,
    )  # fmt: skip


class RobustnessResult(TypedDict, total=False):
    """What `robustness/<arch-id>.json` holds (and `shiftnas robustness --json` prints)."""

    arch: dict[str, Any]  # `Arch.to_json()`
    arch_id: str
    twin: dict[str, Any]  # the same network without the BlurPool filter
    twin_id: str
    settings: dict[str, Any]  # the run's `robustness:` section
    seed: int
    network: dict[str, Any]  # `robustness.shift_metrics`: clean_acc, fills{zero, circular}, ...
    ablation: dict[str, Any] | None  # SICNS Table III, when `robustness.ablation`
    report: dict[str, str]  # report files, relative to the run folder


def robustness_in_run(ctx: RunContext, arch_id: str) -> RobustnessResult:
    """Evaluate `retrain/<arch-id>` on clean and shifted test inputs, run the SICNS Table III
    ablation if `robustness.ablation` is on, write the JSON and the report; returns the JSON.
    A finished result with the same settings and seed is returned as it is (a resumed run does
    not evaluate a network twice). Raises ShiftnasError when the network has not been retrained."""
    config, seed = ctx.config.robustness, ctx.config.seed
    finished = ctx.run.stage("robustness") / f"{arch_id}.json"
    if finished.exists():
        with contextlib.suppress(ShiftnasError):  # damaged: evaluate again
            done = read_json(finished)
            same = {"settings": config.model_dump(mode="json"), "seed": seed, "arch_id": arch_id}
            if isinstance(done, dict) and all(done.get(k) == v for k, v in same.items()):
                return done
    retrained = load_retrained(ctx.space, ctx.retrain_dir(arch_id), ctx.device)
    arch, twin = retrained.arch, ctx.space.without_filter(retrained.arch)
    out_dir = ctx.run.stage("robustness") / arch.id
    result: RobustnessResult = {
        "arch": arch.to_json(),
        "arch_id": arch.id,
        "twin": twin.to_json(),
        "twin_id": twin.id,
        "settings": config.model_dump(mode="json"),
        "seed": seed,
        "network": shift_metrics(
            retrained.model, ctx.data.test, ctx.data.mean, ctx.data.std, config,
            seed=seed, device=ctx.device,
        ),
        "ablation": None,
    }  # fmt: skip
    if config.ablation:
        result["ablation"] = run_ablation(
            ctx.space, arch, ctx.data, ctx.config.retrain, config, out_dir / "ablation",
            seed=seed, device=ctx.device, progress=ctx.progress,
        )  # fmt: skip
    history = list(read_jsonl(retrained.out_dir / "metrics.jsonl"))
    files = write_report(result, history, out_dir)
    result["report"] = {k: str(v.relative_to(ctx.run.root)) for k, v in files.items()}
    write_json_atomic(ctx.run.stage("robustness") / f"{arch.id}.json", result)
    return result


def export_in_run(ctx: RunContext, arch_id: str) -> dict[str, Any]:
    """Export `retrain/<arch-id>` into `export/<arch-id>/` (ONNX with parity checks, engines,
    latency, card.json, with the robustness summary when it exists); returns the card."""
    retrained = load_retrained(ctx.space, ctx.retrain_dir(arch_id), torch.device("cpu"))
    arch = retrained.arch
    candidates = getattr(ctx.space, "candidates", None)  # mbv3: one label per layer's op
    labels = [candidates[g].label for g in arch.genome] if candidates else ctx.space.to_string(arch)
    describe = {"id": arch.id, **arch.to_json(), "ops": labels,
                "skeleton": ctx.space.describe()["skeleton"]}  # fmt: skip
    retrain_cfg = ctx.config.retrain
    return export_network(
        retrained.model,
        describe,
        ctx.data,
        ctx.run.stage("export") / arch.id,
        ctx.config.export,
        accuracy={**accuracy_from_metrics(retrained.out_dir / "metrics.jsonl"),
                  "dataset": ctx.data.name},
        shift=shift_summary(ctx.run.stage("robustness") / f"{arch.id}.json"),
        training={"epochs": retrain_cfg.epochs, "init": retrain_cfg.init,
                  "augment": retrain_cfg.augment.enabled, "steps": retrained.result.steps,
                  "seed": ctx.config.seed},
        seed=ctx.config.seed,
    )  # fmt: skip
