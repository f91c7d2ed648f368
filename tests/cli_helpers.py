"""The one way the tests call the `shiftnas` command.

`shiftnas(*args)` runs the command in this process through `main()`, the console-script entry
point, inside typer's `CliRunner` isolation (stdout and stderr captured apart, `COLUMNS` set,
both restored afterwards). Through `main()` rather than `CliRunner().invoke(app)`, because
`main()` is where a `ShiftnasError` becomes what a user sees, one line on stderr and exit code
2: the tests assert that. In-process, because a fresh interpreter costs seconds (torch import).

`subprocess_shiftnas(*args)` starts a real `python -m shiftnas` process: only where a test needs
what just one process shows, such as the warnings printed while modules are first imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from typer.testing import CliRunner

WIDE = {"COLUMNS": "400"}  # rich wraps at the terminal width: one table row a line


def shiftnas(*args: object) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `shiftnas ARGS`, run in this process."""
    from shiftnas.cli import main

    with CliRunner().isolation(env=WIDE) as (out, err, _):
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as stopped:
            code = stopped.code if isinstance(stopped.code, int) else 1
        return code, out.getvalue().decode(), err.getvalue().decode()


def subprocess_shiftnas(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`python -m shiftnas ARGS` in a new process (text output, 300 s at most)."""
    return subprocess.run(
        [sys.executable, "-m", "shiftnas", *map(str, args)], capture_output=True, text=True,
        cwd=cwd, env={**os.environ, **WIDE}, timeout=300,
    )  # fmt: skip


def one_line_error(code: int, err: str, *needles: str) -> str:
    """Assert the standard bad-input outcome (exit 2, one `error:` line, no traceback, each of
    `needles` in the line); return the line."""
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
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
