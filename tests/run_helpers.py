"""Shared by the run-folder tests: a tiny finished run (made once per module); the `shiftnas`
command is called through the one CLI test helper, `cli_helpers.shiftnas`."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch
import yaml
from cli_helpers import one_line_error, shiftnas

__all__ = ["CONFIG", "finished", "one_line_error", "run", "shiftnas", "state"]

CONFIG = {
    "name": "tiny", "seed": 0, "device": "cpu",
    "data": {"dataset": "shapes", "shapes": {"train_size": 40, "test_size": 16, "image_size": 16}},
    "space": {
        "name": "mbv3", "input_size": 16, "stem_channels": 8, "head_channels": 32,
        "layers": [{"channels": 8, "stride": 1}, {"channels": 16, "stride": 2}],
    },
    "supernet": {"epochs": 1, "batch_size": 16, "sampling": "spos"},
    "search": {"population": 4, "generations": 2, "evaluator": {"name": "inherited"},
               "objectives": [{"name": "error"}, {"name": "params"}]},
    "select": {"k": 1},
    "tracking": {"enabled": False},
    "stages": ["supernet", "search", "select"],
}  # fmt: skip


def state(run: Path) -> dict:
    return json.loads((run / "state.json").read_text())["stages"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished run (supernet, search, select) made once under umask 022."""
    root = tmp_path_factory.mktemp("finished")
    config = root / "tiny.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    threads, mask = torch.get_num_threads(), os.umask(0o022)
    torch.set_num_threads(1)
    try:
        code, _, err = shiftnas("run", config, "--run-dir", root / "run")
    finally:
        torch.set_num_threads(threads)
        os.umask(mask)
    assert code == 0, err
    return config, root / "run"


@pytest.fixture
def run(finished, tmp_path):
    """A private copy of the finished run and its config: (config path, run folder)."""
    config, source = finished
    shutil.copytree(source, tmp_path / "run")
    return config, tmp_path / "run"
