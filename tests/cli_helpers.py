"""Calling the `shiftnas` command in-process, the way a user meets it: through `main()`, which
turns a `ShiftnasError` into one line on stderr and exit code 2."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml


def shiftnas(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `shiftnas ARGS`."""
    from shiftnas.cli import main

    monkeypatch.setattr(sys, "argv", ["shiftnas", *args])
    monkeypatch.setenv("COLUMNS", "300")  # rich wraps long lines at the terminal width
    with pytest.raises(SystemExit) as stopped:
        main()
    out = capsys.readouterr()
    return int(stopped.value.code or 0), out.out, out.err


def one_line_error(code: int, err: str) -> str:
    """Assert the standard bad-input outcome; return the line."""
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def write_config(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def tiny_run_config(**sections) -> dict:
    """A config whose checks pass and whose data (100 `shapes` images of 16 px) loads in ms."""
    data = {
        "name": "tiny",
        "device": "cpu",
        "data": {"dataset": "shapes", "shapes": {"train_size": 100, "test_size": 40,
                                                 "image_size": 16}},
        "space": {"name": "mbv3", "input_size": 16, "stem_channels": 8, "head_channels": 32,
                  "layers": [{"channels": 8, "stride": 1}, {"channels": 16, "stride": 2}]},
        "search": {"objectives": [{"name": "error"}, {"name": "params"}, {"name": "macs"}]},
        "tracking": {"enabled": False},
        "stages": ["supernet"],
    }  # fmt: skip
    data.update(sections)
    return data
