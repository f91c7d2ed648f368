"""The stages of a pipeline run. Each reads the files of the stage before it in the run
directory, writes its own, and returns a short summary that goes into `state.json`.

Stages are resumable on their own: training loops resume from their checkpoints, the search from
its archive and checkpoint, and per-network work (retrain, robustness, export) skips networks
whose output is already complete.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from shiftnas.errors import ShiftnasError
from shiftnas.export.card import card_figures
from shiftnas.files import read_jsonl, write_json_atomic
from shiftnas.pipeline.context import RunContext, read_output
from shiftnas.pipeline.networks import export_in_run, retrain_in_run, robustness_in_run
from shiftnas.pipeline.select import select_from_front


def _log_jsonl(ctx: RunContext, path: Path, prefix: str = "", step_key: str = "epoch") -> None:
    for record in read_jsonl(path):
        numbers = {
            f"{prefix}{k}": float(v)
            for k, v in record.items()
            if isinstance(v, int | float) and not isinstance(v, bool) and k != step_key
        }
        ctx.tracker.log_metrics(numbers, step=int(record.get(step_key, 0)))


def supernet_stage(ctx: RunContext) -> dict[str, Any]:
    from shiftnas.training.supernet import train_supernet

    out = ctx.run.stage("supernet")
    _, result = train_supernet(
        ctx.space, ctx.data, ctx.config.supernet, out, seed=ctx.config.seed,
        device=ctx.device, progress=ctx.progress,
    )  # fmt: skip
    _log_jsonl(ctx, out / "metrics.jsonl")
    ctx.tracker.log_artifact(out / "metrics.jsonl", "supernet")
    last = result.history[-1] if result.history else {}
    return {"epochs": result.epochs, "steps": result.steps, **{k: last[k] for k in last}}


def search_stage(ctx: RunContext) -> dict[str, Any]:
    from shiftnas.pipeline.search_setup import search_from_config

    result = search_from_config(
        ctx.config, ctx.run.root, ctx.progress, ctx.tracker, data_loader=lambda: ctx.data
    )
    out = ctx.run.stage("search")
    for name in ("archive.jsonl", "pareto.json", "pareto.png", "metrics.jsonl"):
        if (out / name).exists():
            ctx.tracker.log_artifact(out / name, "search")
    table = ctx.config.search.latency.table
    if table is not None and Path(table).exists():
        ctx.tracker.log_artifact(table, "search")
    return {
        "generations": result.generations, "evaluations": result.evaluations,
        "front_size": len(result.front), "hypervolume": result.hypervolume,
    }  # fmt: skip


def select_stage(ctx: RunContext) -> dict[str, Any]:
    pareto = ctx.run.stage("search") / "pareto.json"
    if not pareto.exists():
        raise ShiftnasError(f"{pareto} is missing: the select stage needs a finished search")
    payload = read_output(pareto, {"front": list, "objectives": list})
    settings = ctx.config.select
    selected = select_from_front(
        payload["front"], payload["objectives"], settings.k, settings.strategy, settings.budgets
    )
    out = ctx.run.stage("select") / "selected.json"
    write_json_atomic(out, {"objectives": payload["objectives"], "selected": selected})
    ctx.tracker.log_artifact(out, "select")
    ctx.tracker.log_params({f"selected_{i}": m["id"] for i, m in enumerate(selected)})
    return {"selected": [m["id"] for m in selected]}


def retrain_stage(ctx: RunContext) -> dict[str, Any]:
    summary = {}
    for arch in ctx.selected():
        done = retrain_in_run(ctx, arch)
        out = done.out_dir
        _log_jsonl(ctx, out / "metrics.jsonl", prefix=f"{done.arch.id}.")
        for name in ("arch.json", "metrics.jsonl"):  # not checkpoint.pt: export logs the model
            ctx.tracker.log_artifact(out / name, f"retrain/{done.arch.id}")
        last = done.result.history[-1] if done.result.history else {}
        summary[done.arch.id] = {k: last.get(k) for k in ("val_acc", "test_acc")}
    return summary


def robustness_stage(ctx: RunContext) -> dict[str, Any]:
    summary = {}
    for arch in ctx.selected():
        arch_id = ctx.space.canonical(arch).id
        result = robustness_in_run(ctx, arch_id)
        network = result["network"]
        metrics = {f"{arch_id}.clean_acc": network["clean_acc"]}
        for fill, values in network["fills"].items():
            metrics.update({f"{arch_id}.{fill}.{k}": v for k, v in values.items()
                            if isinstance(v, float)})  # fmt: skip
        ctx.tracker.log_metrics(metrics)
        summary[arch_id] = {"clean_acc": network["clean_acc"]}
    out = ctx.run.stage("robustness")
    ctx.tracker.log_artifacts(out, "robustness")
    return summary


def export_stage(ctx: RunContext) -> dict[str, Any]:
    summary = {}
    for arch in ctx.selected():
        arch_id = ctx.space.canonical(arch).id
        export_in_run(ctx, arch_id)
        ctx.tracker.log_artifacts(ctx.run.stage("export") / arch_id, f"export/{arch_id}")
        summary[arch_id] = {"onnx": str(ctx.run.stage("export") / arch_id / "model.onnx")}
    return summary


def register_stage(ctx: RunContext) -> dict[str, Any]:
    """Register every exported network, then move the alias (`registry.*`) to the best one.

    A refused promotion (no version within the bounds, or the best within a few points of
    chance: see `tracking.promote`) is one warning line and does not fail the stage: the
    versions are registered. With the store away, the promotion is journalled and runs when the
    run resumes.
    """
    from shiftnas.tracking import MlflowTracker, register_model

    versions: dict[str, str | None] = {}
    name = ctx.config.tracking.registered_model
    for arch in ctx.selected():
        arch_id = ctx.space.canonical(arch).id
        folder = ctx.run.stage("export") / arch_id
        card = read_output(folder / "card.json", {})
        tags = {k: v for k, v in card_figures(card).items() if v is not None}
        if "accuracy" not in tags or "latency_ms" not in tags:
            raise ShiftnasError(
                f"{folder / 'card.json'} has no test accuracy or latency to register: "
                "re-run the retrain and export stages"
            )
        versions[arch_id] = register_model(
            ctx.tracker, folder / "model.onnx", name, tags, artifact_path=arch_id
        )
    summary: dict[str, Any] = {"model": name, "versions": versions}
    limits = ctx.config.registry
    if isinstance(ctx.tracker, MlflowTracker) and limits.max_latency_ms is not None:
        summary["promoted"] = None
        try:
            result = ctx.tracker.promote(
                name, limits.max_latency_ms, limits.min_accuracy, limits.alias,
                allow_near_chance=limits.allow_near_chance,
            )  # fmt: skip
        except ShiftnasError as err:
            ctx.console.print(f"[yellow]not promoted:[/] {err}")
        else:
            if result is None:
                ctx.console.print("[yellow]promotion waits:[/] the tracking store is away; it "
                                  "runs when the run resumes")  # fmt: skip
            else:
                summary["promoted"] = {"alias": limits.alias, "version": result.version}
    return summary


STAGES: dict[str, Callable[[RunContext], dict[str, Any]]] = {
    "supernet": supernet_stage,
    "search": search_stage,
    "select": select_stage,
    "retrain": retrain_stage,
    "robustness": robustness_stage,
    "export": export_stage,
    "register": register_stage,
}
