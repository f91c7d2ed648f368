"""What a person sees at the end of a run and from `shiftnas status`."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from rich.table import Table

from shiftnas.export.card import card_figures
from shiftnas.pipeline.config import STAGE_ORDER
from shiftnas.pipeline.context import read_output
from shiftnas.pipeline.integrity import RESUME_HINT, damaged_outputs
from shiftnas.pipeline.rundir import RunDir


def status_table(run: RunDir) -> Table:
    config = run.load_config()
    stages = run.state()["stages"]
    table = Table(title=f"run {run.root}")
    for column in ("stage", "status", "finished", "summary"):
        table.add_column(column)
    for stage in STAGE_ORDER:
        if stage not in config.stages:
            table.add_row(stage, "[dim]not configured[/]", "", "")
            continue
        info = stages.get(stage, {})
        status = info.get("status", "pending")
        colour = {"done": "green", "running": "yellow", "interrupted": "yellow", "failed": "red",
                  "damaged": "red"}  # fmt: skip
        shown = f"[{colour.get(status, 'dim')}]{status}[/]"
        if status == "running":
            shown += " (cut off or still running: run again to resume)"
        if status == "interrupted":
            shown += f" ({RESUME_HINT})"
        if status in ("failed", "damaged"):
            shown += f": {info.get('error', '')}"
        broken = damaged_outputs(run, stage)
        if broken:
            shown += f", but {broken[0]} is damaged or missing: run again to recompute the stage"
        finished = info.get("finished")
        when = (
            datetime.fromtimestamp(finished, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
            if finished
            else ""
        )
        table.add_row(stage, shown, when, _short(info.get("summary")))
    return table


def _short(summary: Any) -> str:
    if not summary:
        return ""
    text = json.dumps(summary)
    return text if len(text) <= 80 else text[:77] + "..."


def selected_table(run: RunDir) -> Table | None:
    """Error, size, MACs, latency and shift consistency of the exported networks."""
    export = run.stage("export")
    cards = sorted(export.glob("*/card.json")) if export.is_dir() else []
    if not cards:
        return None
    table = Table(title="selected networks")
    for column in ("arch id", "test error %", "params", "MACs", "latency ms", "consistency %",
                   "ONNX"):  # fmt: skip
        table.add_column(column)
    for path in cards:
        figures = card_figures(read_output(path, {}))
        acc, latency = figures["accuracy"], figures["latency_ms"]
        consistency = figures["shift_consistency"]
        table.add_row(
            figures["arch_id"] or path.parent.name,
            f"{100 * (1 - acc):.2f}" if acc is not None else "-",
            f"{(figures['params'] or 0) / 1e6:.3f}M",
            f"{(figures['macs'] or 0) / 1e6:.1f}M",
            f"{latency:.3f}" if latency is not None else "-",
            f"{100 * consistency:.1f}" if consistency is not None else "-",
            str(path.parent / "model.onnx"),
        )
    return table
