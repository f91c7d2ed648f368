"""What a person sees at the end of a run and from `shiftnas status`."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, TypedDict

from rich.table import Table

from shiftnas.export.card import CardFigures, card_figures
from shiftnas.pipeline.config import STAGE_ORDER
from shiftnas.pipeline.context import read_output
from shiftnas.pipeline.integrity import RESUME_HINT, damaged_outputs
from shiftnas.pipeline.rundir import RunDir


class StageRecord(TypedDict):
    """One stage of a run as `shiftnas status` shows it."""

    stage: str
    status: str  # not configured, pending, running, interrupted, done, failed, damaged
    finished: float | None  # Unix seconds
    summary: dict[str, Any] | None  # the stage's own figures, as state.json holds them
    error: str | None
    damaged: str | None  # the first damaged or missing output, if any


class ExportedNetwork(CardFigures):
    """An exported network's model card figures and its ONNX file."""

    onnx: str


def stage_records(run: RunDir) -> list[StageRecord]:
    """Each stage of the pipeline, in order (`StageRecord`)."""
    config = run.load_config()
    stages = run.state()["stages"]
    records: list[StageRecord] = []
    for stage in STAGE_ORDER:
        if stage not in config.stages:
            records.append({"stage": stage, "status": "not configured", "finished": None,
                            "summary": None, "error": None, "damaged": None})  # fmt: skip
            continue
        info = stages.get(stage, {})
        broken = damaged_outputs(run, stage)
        records.append({
            "stage": stage, "status": info.get("status", "pending"),
            "finished": info.get("finished"), "summary": info.get("summary"),
            "error": info.get("error"), "damaged": str(broken[0]) if broken else None,
        })  # fmt: skip
    return records


def status_table(run: RunDir) -> Table:
    table = Table(title=f"run {run.root}")
    for column in ("stage", "status", "finished", "summary"):
        table.add_column(column)
    for record in stage_records(run):
        stage, status = record["stage"], record["status"]
        if status == "not configured":
            table.add_row(stage, "[dim]not configured[/]", "", "")
            continue
        colour = {"done": "green", "running": "yellow", "interrupted": "yellow", "failed": "red",
                  "damaged": "red"}  # fmt: skip
        shown = f"[{colour.get(status, 'dim')}]{status}[/]"
        if status == "running":
            shown += " (cut off or still running: run again to resume)"
        if status == "interrupted":
            shown += f" ({RESUME_HINT})"
        if status in ("failed", "damaged"):
            shown += f": {record['error'] or ''}"
        if record["damaged"]:
            shown += (
                f", but {record['damaged']} is damaged or missing: run again to recompute the stage"
            )
        finished = record["finished"]
        when = (
            datetime.fromtimestamp(finished, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
            if finished
            else ""
        )
        table.add_row(stage, shown, when, _short(record["summary"]))
    return table


def _short(summary: Any) -> str:
    if not summary:
        return ""
    text = json.dumps(summary)
    return text if len(text) <= 80 else text[:77] + "..."


def exported_records(run: RunDir) -> list[ExportedNetwork]:
    """The model card figures of each exported network (`export.card.CardFigures`: accuracy as
    a fraction, params, MACs, latency in ms, shift consistency) and its `onnx` file."""
    export = run.stage("export")
    cards = sorted(export.glob("*/card.json")) if export.is_dir() else []
    records: list[ExportedNetwork] = []
    for path in cards:
        figures = card_figures(read_output(path, {}))
        figures["arch_id"] = figures["arch_id"] or path.parent.name
        records.append(ExportedNetwork(**figures, onnx=str(path.parent / "model.onnx")))
    return records


def selected_table(run: RunDir) -> Table | None:
    """Error, size, MACs, latency and shift consistency of the exported networks."""
    records = exported_records(run)
    if not records:
        return None
    table = Table(title="selected networks")
    for column in ("arch id", "test error %", "params", "MACs", "latency ms", "consistency %",
                   "ONNX"):  # fmt: skip
        table.add_column(column)
    for figures in records:
        acc, latency = figures["accuracy"], figures["latency_ms"]
        consistency = figures["shift_consistency"]
        table.add_row(
            figures["arch_id"],
            f"{100 * (1 - acc):.2f}" if acc is not None else "-",
            f"{(figures['params'] or 0) / 1e6:.3f}M",
            f"{(figures['macs'] or 0) / 1e6:.1f}M",
            f"{latency:.3f}" if latency is not None else "-",
            f"{100 * consistency:.1f}" if consistency is not None else "-",
            figures["onnx"],
        )
    return table
