"""The run folder: where each stage reads the previous stage's files and writes its own."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from shiftnas.errors import ShiftnasError
from shiftnas.files import read_state, write_json_atomic, write_text_atomic
from shiftnas.pipeline.changes import apply_config_change
from shiftnas.pipeline.config import Config, config_from_dict, dump_config, load_config


@dataclass(frozen=True)
class RunDir:
    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / "config.yaml"

    @property
    def state_path(self) -> Path:
        return self.root / "state.json"

    def stage(self, name: str) -> Path:
        return self.root / name

    def load_config(self) -> Config:
        if not self.config_path.exists():
            raise ShiftnasError(
                f"{self.root} is not a shiftnas run folder (no config.yaml): "
                "pass --run-dir of a run, or start one with `shiftnas run CONFIG`"
            )
        return load_config(self.config_path)

    def bind(self, config: Config) -> list[str]:
        """Record the config of this run. On a run folder with another config, reset the stages
        the change invalidates (`pipeline.changes`) and return one line per changed key."""
        text = dump_config(config)
        lines: list[str] = []
        if self.config_path.exists():
            old_text = self.config_path.read_text()
            if old_text == text:
                return lines
            try:
                old = yaml.safe_load(old_text)
            except yaml.YAMLError:
                old = None
            if not isinstance(old, dict):
                raise ShiftnasError(
                    f"{self.config_path} is damaged (not a YAML mapping): pass another --run-dir,"
                    " or restore the file"
                )
            with suppress(ShiftnasError):  # keys added since (defaults) are no change
                old = config_from_dict(old).model_dump(mode="json")
            lines = apply_config_change(self, old, config.model_dump(mode="json"))
        write_text_atomic(self.config_path, text)
        return lines

    def state(self) -> dict[str, Any]:
        if not self.state_path.exists():
            return {"stages": {}}
        return read_state(self.state_path)

    def set_stage_state(self, name: str, status: str, **extra: Any) -> None:
        state = self.state()
        state["stages"][name] = {**state["stages"].get(name, {}), "status": status, **extra}
        write_json_atomic(self.state_path, state)

    def reset_stages(self, names: Sequence[str]) -> None:
        """Forget the status of `names`: they count as never run."""
        state = self.state()
        if any(name in state["stages"] for name in names):
            state["stages"] = {k: v for k, v in state["stages"].items() if k not in names}
            write_json_atomic(self.state_path, state)
