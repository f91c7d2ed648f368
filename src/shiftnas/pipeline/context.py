"""The one run context: a run folder, its config, device and tracker, with the data and the search
space loaded once, on first use, and shared by every stage and per-network command."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import torch
from rich.console import Console

from shiftnas.arch import Arch
from shiftnas.data import DataSplits, load_data
from shiftnas.device import resolve_device
from shiftnas.errors import ShiftnasError
from shiftnas.files import damaged, read_json
from shiftnas.pipeline.config import Config
from shiftnas.pipeline.rundir import RunDir
from shiftnas.search import get_space
from shiftnas.tracking import NullTracker, Tracker


@dataclass
class RunContext:
    """What every stage needs: the config, the run folder, the device, the tracker, the console;
    `data` and `space` (built for the data's number of classes) are decoded once, when first
    used, so the per-network stages do not decode the dataset again."""

    config: Config
    run: RunDir
    device: torch.device
    tracker: Tracker = field(default_factory=NullTracker)
    console: Console = field(default_factory=Console)
    progress: bool = True

    @cached_property
    def data(self) -> DataSplits:
        return load_data(self.config.data, self.config.seed, self.config.space, self.progress)

    @cached_property
    def space(self) -> Any:
        return get_space(
            self.config.space.name, self.config.space, num_classes=self.data.num_classes
        )

    def retrain_dir(self, arch_id: str) -> Path:
        return self.run.stage("retrain") / arch_id

    def selected(self) -> list[Arch]:
        """The networks the select stage chose; ShiftnasError when it has not run."""
        path = self.run.stage("select") / "selected.json"
        if not path.exists():
            raise ShiftnasError(
                f"{path} is missing: add 'select' (and 'search') to stages, or run them first"
            )
        members = read_output(path, {"selected": list})["selected"]
        try:
            return [Arch.from_json(m["arch"]) for m in members]
        except (KeyError, TypeError, ShiftnasError):
            raise damaged(path, "an entry of 'selected' has no valid 'arch'") from None


def open_run(run_dir: Path, *, progress: bool = True, device: str | None = None) -> RunContext:
    """The context of an existing run folder, with the config it was started with (for the
    per-network commands `shiftnas retrain`, `robustness`, `export`); `device` (`auto`, `cpu`,
    `cuda`) overrides the config's `device` for this command only."""
    run = RunDir(Path(run_dir))
    config = run.load_config()
    return RunContext(config, run, resolve_device(device or config.device), progress=progress)


def read_output(path: Path, keys: dict[str, type]) -> dict[str, Any]:
    """The JSON object an earlier stage wrote to `path`, holding `keys` of the given types;
    `ShiftnasError` naming the file when it is not JSON or lacks one of them."""
    payload = read_json(path)
    for key, kind in keys.items():
        if not isinstance(payload, dict) or not isinstance(payload.get(key), kind):
            raise damaged(path, f"no '{key}' ({kind.__name__})")
    return payload
