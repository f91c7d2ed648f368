"""The run directory: where each stage reads the previous stage's files and writes its own."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shiftnas.config import Config, dump_config, load_config
from shiftnas.errors import ShiftnasError
from shiftnas.files import read_state, write_json_atomic, write_text_atomic


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
                f"{self.root} is not a shiftnas run directory (no config.yaml): "
                "pass --run-dir of a run, or start one with `shiftnas run CONFIG`"
            )
        return load_config(self.config_path)

    def bind(self, config: Config) -> None:
        """Record the config of this run; a different config for an existing run is refused."""
        text = dump_config(config)
        if self.config_path.exists() and self.config_path.read_text() != text:
            raise ShiftnasError(
                f"{self.root} holds a run with a different config: pass another --run-dir, "
                "or delete the folder to start over"
            )
        if not self.config_path.exists():  # an unchanged config is not rewritten (read-only runs)
            write_text_atomic(self.config_path, text)

    def state(self) -> dict[str, Any]:
        if not self.state_path.exists():
            return {"stages": {}}
        return read_state(self.state_path)

    def set_stage_state(self, name: str, status: str, **extra: Any) -> None:
        state = self.state()
        state["stages"][name] = {**state["stages"].get(name, {}), "status": status, **extra}
        write_json_atomic(self.state_path, state)
