"""Shared by the run-folder tests: a tiny finished run (made once per module) and the
`shiftnas` command run in this process, with its exit code and output."""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from unittest.mock import patch

import pytest
import torch
import yaml

from shiftnas.cli import main

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


def shiftnas(*args: object) -> tuple[int, str, str]:
    """Run the `shiftnas` command in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    argv = ["shiftnas", *map(str, args)]
    wide = patch.dict(os.environ, {"COLUMNS": "400"})  # table rows on one line each
    with redirect_stdout(out), redirect_stderr(err), patch.object(sys, "argv", argv), wide:
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code or 0
    return int(code), out.getvalue(), err.getvalue()


def one_line_error(code: int, err: str, *needles: str) -> str:
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


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
