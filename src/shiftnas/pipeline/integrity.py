"""Damaged outputs of finished stages: found before any stage runs, and recomputed alone.

When a stage finishes, the SHA-256 of every file in its folder goes into `state.json` (the
stage's `outputs`). Before the next `shiftnas run` runs anything, each finished stage's files are
hashed again; a file that is missing or differs is reported in one line naming the file and the
stage, moved (with the work it belongs to) to `damaged/<time>/` in the run folder, and the stage
is marked `damaged`, so this run recomputes that stage and no other. `shiftnas status` makes the
same check without changing anything.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from shiftnas.errors import ShiftnasError
from shiftnas.files import sha256
from shiftnas.pipeline.rundir import RunDir
from shiftnas.tracking.state import PENDING_FILE

# Stages whose folder holds one entry per network (a file or a folder named by its arch id):
# a damaged file costs that network's work only, not the whole stage's.
PER_NETWORK = frozenset({"retrain", "robustness", "export"})
# Files the stage writes again from its other files (the search's archive and checkpoint):
# a damaged one is moved aside alone, and the rerun of the stage costs nothing.
REBUILT = frozenset({"search/pareto.json", "search/pareto.png"})
DAMAGED = "damaged"  # folder in the run folder that receives damaged outputs


def check_run_folder(root: Path) -> None:
    """Refuse a `--run-dir` that is an existing file, before anything is read or written."""
    if Path(root).exists() and not Path(root).is_dir():
        raise ShiftnasError(f"--run-dir {root} is a file, not a folder: pass a folder path")


def record_outputs(run: RunDir, stage: str) -> dict[str, str]:
    """SHA-256 (hex) of every file the stage wrote, by path relative to the run folder."""
    folder = run.stage(stage)
    if not folder.is_dir():
        return {}
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    return {p.relative_to(run.root).as_posix(): sha256(p) for p in files}


def damaged_outputs(run: RunDir, stage: str) -> list[str]:
    """The recorded outputs of a finished stage that are now missing or differ (relative
    paths); none for a stage that is not done or finished before checksums were recorded."""
    info = run.state()["stages"].get(stage, {})
    if info.get("status") != "done":
        return []
    return [
        name
        for name, digest in (info.get("outputs") or {}).items()
        if not (run.root / name).is_file() or sha256(run.root / name) != digest
    ]


def recover_damaged(run: RunDir, stages: list[str], console: Console) -> list[str]:
    """Mark each finished stage with a damaged output `damaged` and move that work aside.

    Returns the stages to recompute. A file of a per-network stage takes its network's entry
    (`retrain/<id>/`, `robustness/<id>.json`, ...) along; a file in `REBUILT` goes alone; any
    other takes the stage folder.
    """
    redo = []
    aside = run.root / DAMAGED / time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    for stage in stages:
        names = damaged_outputs(run, stage)
        if not names:
            continue
        first = run.root / names[0]
        what = (
            "is damaged (its SHA-256 differs from the one"
            if first.exists()
            else "is missing (it was"
        )
        message = (
            f"{first} {what} recorded in state.json when stage '{stage}' finished)"
            + (f" and {len(names) - 1} more of its files" if len(names) > 1 else "")
            + f": stage '{stage}' runs again; the old files are in {aside}"
        )
        for unit in sorted({_unit(run, stage, name) for name in names}):
            if unit.exists():
                target = aside / unit.relative_to(run.root)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(unit, target)
        console.print(f"[yellow]damaged:[/] {escape(message)}", soft_wrap=True)
        run.set_stage_state(stage, "damaged", error=message[:300])
        redo.append(stage)
    return redo


def _unit(run: RunDir, stage: str, name: str) -> Path:
    if name in REBUILT:
        return run.root / name
    if stage in PER_NETWORK:
        return run.stage(stage) / Path(name).relative_to(stage).parts[0]
    return run.stage(stage)


RESUME_HINT = "run the same command again to resume"


def nothing_to_do(run: RunDir, stages: list[str], console: Console) -> bool:
    """True (and says so per stage) when every configured stage is done and no MLflow call
    waits in the journal: the run then opens no tracker and writes no file."""
    status = run.state()["stages"]
    if any(status.get(s, {}).get("status") != "done" for s in stages):
        return False
    if (run.root / PENDING_FILE).exists():
        return False
    for stage in stages:
        console.print(f"[green]✓[/] {stage}: done earlier")
    return True
