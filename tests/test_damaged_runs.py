"""Damaged run folders and a hostile environment, as a user meets them on the command line:
every case is exit code 2 with one line naming the file (and the stage), or the correct result;
no stage stays marked done with a damaged output."""

from __future__ import annotations

import errno
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

from shiftnas import files
from shiftnas.cli import main
from shiftnas.pipeline import stages

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


def test_truncated_supernet_checkpoint_is_reported_then_recomputed_alone(run, tmp_path):
    config, root = run
    ckpt = root / "supernet" / "checkpoint.pt"
    original = torch.load(ckpt, weights_only=False)["model"]
    before = state(root)
    ckpt.write_bytes(ckpt.read_bytes()[: ckpt.stat().st_size // 2])
    arch = tmp_path / "arch.json"
    selected = json.loads((root / "select" / "selected.json").read_text())["selected"]
    arch.write_text(json.dumps(selected[0]["arch"]))

    code, _, err = shiftnas("eval", "inherited", "--run-dir", root, "--arch", arch)
    one_line_error(code, err, str(ckpt), "damaged")
    code, _, err = shiftnas("search", "--config", config, "--run-dir", root, "--quiet")
    one_line_error(code, err, str(ckpt), "damaged")
    code, out, _ = shiftnas("status", "--run-dir", root)  # reports, changes nothing
    assert code == 0 and "supernet/checkpoint.pt is damaged or missing" in out

    code, out, err = shiftnas("run", config, "--run-dir", root)
    assert code == 0, err
    warnings = [line for line in out.splitlines() if line.startswith("damaged:")]
    assert len(warnings) == 1 and str(ckpt) in warnings[0] and "'supernet'" in warnings[0]
    after = state(root)
    assert after["supernet"]["status"] == "done"
    assert after["supernet"]["finished"] > before["supernet"]["finished"]
    for stage in ("search", "select"):  # not recomputed
        assert after[stage]["finished"] == before[stage]["finished"]
    weights = torch.load(ckpt, weights_only=False)["model"]  # the same training, repeated
    assert all(torch.equal(weights[k], original[k]) for k in original)
    assert len(list((root / "damaged").rglob("checkpoint.pt"))) == 1  # kept for inspection


ARCHIVE_DAMAGE = {
    "garbage line": (lambda lines: [lines[0], b"not json at all\n", *lines[2:]], "line 2"),
    "record without id": (
        lambda lines: [lines[0], lines[1], json.dumps({"arch": {}}).encode() + b"\n"],
        "line 3: id",
    ),
    "random bytes": (lambda lines: [os.urandom(300).replace(b"\n", b"") + b"\n"], "line 1"),
}


@pytest.mark.parametrize("damage", ARCHIVE_DAMAGE, ids=list(ARCHIVE_DAMAGE))
def test_damaged_archive_names_file_and_line(run, damage):
    config, root = run
    archive = root / "search" / "archive.jsonl"
    change, where = ARCHIVE_DAMAGE[damage]
    archive.write_bytes(b"".join(change(archive.read_bytes().splitlines(keepends=True))))
    code, _, err = shiftnas("search", "--config", config, "--run-dir", root, "--quiet")
    one_line_error(code, err, str(archive), where)


def test_damaged_outputs_of_finished_search_and_select_are_recomputed(run):
    config, root = run
    pareto = json.loads((root / "search" / "pareto.json").read_text())
    selected = (root / "select" / "selected.json").read_bytes()
    archive = root / "search" / "archive.jsonl"
    archive.write_bytes(archive.read_bytes().replace(b"}", b"!", 1))
    (root / "select" / "selected.json").write_text("{")
    code, out, err = shiftnas("run", config, "--run-dir", root)
    assert code == 0, err
    assert sum(line.startswith("damaged:") for line in out.splitlines()) == 2
    assert {s["status"] for s in state(root).values()} == {"done"}
    assert json.loads((root / "search" / "pareto.json").read_text())["front"] == pareto["front"]
    assert (root / "select" / "selected.json").read_bytes() == selected


def test_damaged_json_read_by_a_later_stage_or_the_summary_is_one_line(run):
    config, root = run
    card = root / "export" / "0123abcd" / "card.json"
    card.parent.mkdir(parents=True)
    card.write_text('{"accuracy": ')
    code, _, err = shiftnas("run", config, "--run-dir", root)  # every stage done: summary
    one_line_error(code, err, str(card), "damaged")
    card.unlink()
    # a run folder from before checksums: pareto.json damaged, select still to run
    status = json.loads((root / "state.json").read_text())
    del status["stages"]["search"]["outputs"], status["stages"]["select"]
    (root / "state.json").write_text(json.dumps(status))
    (root / "search" / "pareto.json").write_text('{"front": 3}')
    code, _, err = shiftnas("run", config, "--run-dir", root)
    one_line_error(code, err, "pareto.json", "'front'")
    assert state(root)["select"]["status"] == "failed"


def test_truncated_state_json_is_one_line_for_run_and_status(run):
    config, root = run
    text = (root / "state.json").read_text()
    (root / "state.json").write_text(text[: len(text) // 2])
    for args in (("status", "--run-dir", root), ("run", config, "--run-dir", root)):
        one_line_error(*shiftnas(*args)[::2], str(root / "state.json"), "delete it")
    archive = (root / "search" / "archive.jsonl").read_bytes()
    (root / "state.json").unlink()  # the fix the line gives: each stage resumes from its files
    code, out, err = shiftnas("run", config, "--run-dir", root)
    assert code == 0 and "damaged" not in out, err
    assert {s["status"] for s in state(root).values()} == {"done"}
    assert (root / "search" / "archive.jsonl").read_bytes() == archive  # nothing re-evaluated


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
