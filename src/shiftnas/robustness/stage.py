"""`shiftnas robustness`: evaluate a retrained network of a run and write its report.

Reads `retrain/<arch-id>/` (arch.json, checkpoint.pt, metrics.jsonl), writes
`robustness/<arch-id>.json` and `robustness/<arch-id>/` (report.md, report.html, PNGs, and the
ablation's four training runs under `ablation/`, each resumable).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shiftnas.files import read_jsonl, write_json_atomic
from shiftnas.robustness.ablation import run_ablation
from shiftnas.robustness.evaluate import shift_metrics
from shiftnas.robustness.report import write_report
from shiftnas.training.retrain import RunContext, load_retrained, open_run


def robustness_in_run(
    run_dir: Path, arch_id: str, *, progress: bool = True, ctx: RunContext | None = None
) -> dict[str, Any]:
    """Evaluate `retrain/<arch-id>` on clean and shifted test inputs, run the Table III
    ablation if `robustness.ablation` is on, write the JSON and the report; returns the JSON.
    The pipeline passes its already loaded `ctx`, so the data is not decoded again per network."""
    ctx = ctx or open_run(run_dir)
    config, seed = ctx.config.robustness, ctx.config.seed
    retrained = load_retrained(ctx.space, ctx.retrain_dir(arch_id), ctx.device)
    arch, twin = retrained.arch, ctx.space.without_filter(retrained.arch)
    out_dir = ctx.run.stage("robustness") / arch.id
    result: dict[str, Any] = {
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
            seed=seed, device=ctx.device, progress=progress,
        )  # fmt: skip
    history = list(read_jsonl(retrained.out_dir / "metrics.jsonl"))
    files = write_report(result, history, out_dir)
    result["report"] = {k: str(v.relative_to(ctx.run.root)) for k, v in files.items()}
    write_json_atomic(ctx.run.stage("robustness") / f"{arch.id}.json", result)
    return result
