"""A hostile environment, as a user meets it on the command line: a --run-dir that is a file,
a read-only run folder, a full disk, the umask, Ctrl-C. One line each, and the run resumable."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
import run_helpers
from run_helpers import one_line_error, shiftnas, state

from shiftnas import files
from shiftnas.pipeline import stages

finished, run = run_helpers.finished, run_helpers.run  # the shared fixtures


def test_run_dir_that_is_a_file(finished, tmp_path):
    config, _ = finished
    path = tmp_path / "a-file"
    path.write_text("x")
    for args in (("run", config), ("search", "--config", config)):
        one_line_error(*shiftnas(*args, "--run-dir", path)[::2], str(path), "is a file")


def snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    return {str(p): (p.stat().st_ino, p.stat().st_mtime_ns, p.stat().st_size)
            for p in root.rglob("*")}  # fmt: skip


def test_a_finished_run_writes_nothing_so_a_read_only_folder_works(run):
    config, root = run
    before = snapshot(root)
    code, out, err = shiftnas("run", config, "--run-dir", root)
    assert code == 0 and out.count("done earlier") == 3, err
    assert snapshot(root) == before  # config.yaml and state.json were not rewritten
    if os.geteuid() != 0:  # root writes anywhere: the snapshot above is the proof there
        for path in [root, *root.rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)
        try:
            assert shiftnas("run", config, "--run-dir", root)[0] == 0
        finally:
            for path in [root, *root.rglob("*")]:
                path.chmod(path.stat().st_mode | 0o200)


def failing_writes(error: int, trigger: str):
    """`files._write_all` that fails with `error` from the first write to a file whose name
    contains `trigger` on (a disk that stays full, a folder that turned read-only)."""
    real, failed = files._write_all, []

    def write_all(fd: int, data: bytes) -> None:
        if failed or trigger in os.readlink(f"/proc/self/fd/{fd}"):
            failed.append(True)
            raise OSError(error, os.strerror(error))
        real(fd, data)

    return write_all


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_full_disk_is_one_line_and_the_run_resumes(finished, tmp_path, monkeypatch):
    config, _ = finished
    root = tmp_path / "run"
    monkeypatch.setattr(files, "_write_all", failing_writes(errno.ENOSPC, "checkpoint.pt"))
    code, _, err = shiftnas("run", config, "--run-dir", root)
    one_line_error(
        code,
        err,
        "no space left",
        f"writing {root / 'supernet' / 'checkpoint.pt'}:",
        "run the same",
    )
    assert state(root)["supernet"]["status"] == "running"  # the failure itself could not be saved
    assert not list(root.rglob("*.tmp"))
    monkeypatch.undo()
    code, out, err = shiftnas("run", config, "--run-dir", root)
    assert code == 0 and "supernet (resuming)" in out, err
    assert {s["status"] for s in state(root).values()} == {"done"}


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_folder_that_cannot_be_written_is_one_line(run, monkeypatch):
    config, root = run
    status = json.loads((root / "state.json").read_text())
    del status["stages"]["select"]
    (root / "state.json").write_text(json.dumps(status))
    monkeypatch.setattr(files, "_write_all", failing_writes(errno.EACCES, "state.json"))
    code, _, err = shiftnas("run", config, "--run-dir", root)
    one_line_error(code, err, f"cannot write {root / 'state.json'} (", "make its folder writable")
    assert "select" not in state(root)  # nothing half-written


def test_written_files_take_the_umask_permissions(finished, tmp_path):
    _, root = finished  # written by `shiftnas run` under umask 022
    for name in ("supernet/checkpoint.pt", "search/pareto.json", "state.json", "config.yaml"):
        assert (root / name).stat().st_mode & 0o777 == 0o644, name
    mask = os.umask(0o027)
    try:
        files.write_json_atomic(tmp_path / "a.json", {})
        files.torch_save_atomic(tmp_path / "b.pt", {"model": {}})
        files.append_jsonl(tmp_path / "c.jsonl", {})
    finally:
        os.umask(mask)
    for name in ("a.json", "b.pt", "c.jsonl"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o640, name


def test_ctrl_c_says_how_to_resume(run, monkeypatch):
    config, root = run
    status = json.loads((root / "state.json").read_text())
    del status["stages"]["select"]
    (root / "state.json").write_text(json.dumps(status))

    def interrupted(ctx):
        raise KeyboardInterrupt  # what SIGINT raises in Python

    monkeypatch.setitem(stages.STAGES, "select", interrupted)
    code, out, _ = shiftnas("run", config, "--run-dir", root)
    assert code == 130
    assert "interrupted in select: run the same command again to resume" in out.splitlines()
    assert state(root)["select"]["status"] == "interrupted"
    code, out, _ = shiftnas("status", "--run-dir", root)
    assert "interrupted (run the same command again to resume)" in out
    monkeypatch.undo()
    code, out, err = shiftnas("run", config, "--run-dir", root)
    assert code == 0 and state(root)["select"]["status"] == "done", err
