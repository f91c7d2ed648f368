"""A changed config on an existing run folder: which stages each change invalidates.

Stages read each other's files in pipeline order, so a change invalidates the first stage that
reads the changed key and every stage after it; the stages before it stay done. A typo fixed in
`export.latency_backend` re-runs export and register and keeps the trained supernet and the
search. The invalidated stages' files are moved (never deleted) under `replaced/<time>/`, their
entries leave `state.json`, and their MLflow runs, logged models and registrations are forgotten
in `tracking.json`, so they run again from scratch instead of resuming stale work.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shiftnas.pipeline.config import STAGE_ORDER
from shiftnas.tracking.state import PendingLog, TrackingState

if TYPE_CHECKING:
    from shiftnas.pipeline.rundir import RunDir

# The first stage that reads each key; the longest matching prefix wins. None: no stage's
# output depends on it (a label, where the work runs, or which stages this command runs).
FIRST_READER: dict[str, str | None] = {
    "name": None,
    "device": None,
    "stages": None,
    "tracking": None,
    "tracking.registered_model": "register",
    "seed": "supernet",
    "data": "supernet",
    "space": "supernet",
    "supernet": "supernet",
    "supernet.bn_recalibration_batches": "search",  # BN recalibration of inherited weights
    "search": "search",
    "search.evaluator.unmeasured": None,  # warn or stop before the search: changes no output
    "select": "select",
    "retrain": "retrain",
    "robustness": "robustness",
    "export": "export",
    "registry": "register",
}
REPLACED = "replaced"


def changed_keys(old: Any, new: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """Dotted keys whose values differ, with the old and new value (lists compare whole)."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        out = []
        for key in [*old, *(k for k in new if k not in old)]:
            out += changed_keys(old.get(key, "<absent>"), new.get(key, "<absent>"),
                                f"{prefix}{key}.")  # fmt: skip
        return out
    return [] if old == new else [(prefix.rstrip("."), old, new)]


def first_reader(key: str) -> str | None:
    """The first stage whose output depends on `key` (None: no stage's)."""
    parts = key.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in FIRST_READER:
            return FIRST_READER[prefix]
    return STAGE_ORDER[0]  # a key this table does not know: assume everything reads it


def apply_config_change(run: RunDir, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Reset the stages the change from `old` to `new` invalidates; one line per change.

    Invalidated stages (the first reader of a changed key and all stages after it) lose their
    `state.json` entry and their MLflow bookkeeping; their folders move to `replaced/<time>/`.
    """
    changes = changed_keys(old, new)
    lines, first = [], len(STAGE_ORDER)
    for key, before, after in changes:
        stage = first_reader(key)
        if stage is None:
            effect = "no stage's output depends on it"
        else:
            first = min(first, STAGE_ORDER.index(stage))
            effect = f"invalidates {', '.join(STAGE_ORDER[STAGE_ORDER.index(stage) :])}"
        lines.append(f"config changed: {key}: {_short(before)} -> {_short(after)}: {effect}")
    if first == len(STAGE_ORDER):
        return lines
    invalid = STAGE_ORDER[first:]
    statuses = run.state()["stages"]
    kept = [s for s in STAGE_ORDER[:first] if statuses.get(s, {}).get("status") == "done"]
    forget = _tracking_to_forget(run.root, invalid)  # reads (and checks) before anything moves
    moved = _move_outputs(run.root, invalid)
    run.reset_stages(invalid)
    forget()
    note = f"kept: {', '.join(kept) or 'no stage'}"
    if moved is not None:
        note += f"; the invalidated stages' files moved to {moved}"
    return [*lines, note]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _move_outputs(root: Path, stages: Sequence[str]) -> Path | None:
    present = [s for s in stages if (root / s).exists()]
    if not present:
        return None
    target = root / REPLACED / time.strftime("%Y%m%d-%H%M%S")
    while target.exists():
        target = target.with_name(target.name + "+")
    target.mkdir(parents=True)
    for stage in present:
        shutil.move(str(root / stage), str(target / stage))
    return target


def _tracking_to_forget(root: Path, stages: Sequence[str]) -> Callable[[], None]:
    """New nested MLflow runs, model logs and registry versions for the stages that re-run; their
    logging calls still waiting for an unreachable store are dropped (they describe outputs that
    moved to `replaced/`), the parent run's and the kept stages' stay.

    Both files are read here, so a damaged one stops the change before any output moves; the
    returned function writes them.

    Raises:
        ShiftnasError: `tracking.json` or `tracking_pending.jsonl` is damaged.
    """
    pending = PendingLog(root)
    records = pending.records()
    kept = [r for r in records if r.get("stage") not in stages]
    state = TrackingState.load(root)

    def forget() -> None:
        if len(kept) < len(records):
            pending.replace(kept)
        if state is None:
            return
        state.stages = {k: v for k, v in state.stages.items() if k not in stages}
        state.models = {k: v for k, v in state.models.items() if k.split("/")[0] not in stages}
        # keys are "<registered model>@<stage>/<artifact path>"
        state.registered = {
            k: v for k, v in state.registered.items() if not any(f"@{s}/" in k for s in stages)
        }
        state.save(root)

    return forget
