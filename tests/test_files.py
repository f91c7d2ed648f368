"""`shiftnas.files` and the checks built on it: append-only logs with a torn last line, the search
archive's schema, and which work a damaged output of a per-network stage takes with it."""

from __future__ import annotations

import json
import logging
import os

import pytest
from rich.console import Console

from shiftnas.arch import Arch
from shiftnas.errors import ShiftnasError
from shiftnas.files import append_jsonl, read_jsonl, write_bytes_atomic
from shiftnas.pipeline.integrity import damaged_outputs, record_outputs, recover_damaged
from shiftnas.pipeline.rundir import RunDir
from shiftnas.search.nsga.archive import Archive


def test_torn_last_line_is_dropped_with_a_warning_and_cut_before_the_next_append(tmp_path, caplog):
    log = tmp_path / "archive.jsonl"
    archive = Archive(log)
    archive.add(Arch("mbv3", (1, 2)), "1-2", {"error": 0.5}, 0)
    archive.add(Arch("mbv3", (3, 4)), "3-4", {"error": 0.25}, 0)
    with open(log, "ab") as handle:  # what a kill in the middle of the third append leaves
        handle.write(b'{"id": "abc", "arch": {"spa')
    with caplog.at_level(logging.WARNING, logger="shiftnas.files"):
        archive = Archive(log)
    assert len(archive) == 2
    assert any(str(log) in m and "torn last line 3" in m for m in caplog.messages)
    archive.add(Arch("mbv3", (5, 6)), "5-6", {"error": None}, 1)
    lines = log.read_bytes().splitlines(keepends=True)
    assert len(lines) == 3 and all(line.endswith(b"\n") for line in lines)
    assert [r["string"] for r in read_jsonl(log)] == ["1-2", "3-4", "5-6"]
    assert Archive(log).values(Arch("mbv3", (5, 6)).id) == {"error": None}


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b'{"id": "x", "arch": {}, "objectives": {"error": "low"}}\n', "objectives.error"),
        (b'{"id": 3, "arch": {}, "objectives": {}}\n', "line 2: id"),
        (b"[1, 2]\n", "line 2 is not a JSON object"),
        (b"\xff\xfe{}\n", "line 2 is not JSON (not UTF-8 text)"),
        (b"\x00\x01 not a record, and no newline", "line 2 is not JSON"),
    ],
)
def test_damaged_archive_lines_name_file_and_line(tmp_path, line, problem):
    log = tmp_path / "archive.jsonl"
    append_jsonl(log, {"id": "a", "arch": {}, "objectives": {"error": 0.1}})
    with open(log, "ab") as handle:
        handle.write(line)
    with pytest.raises(ShiftnasError) as err:
        Archive(log)
    assert str(log) in str(err.value) and problem in str(err.value)
    assert "\n" not in str(err.value)


def test_umask_077_gives_private_files(tmp_path):
    mask = os.umask(0o077)
    try:
        write_bytes_atomic(tmp_path / "model.onnx", b"x")
    finally:
        os.umask(mask)
    assert (tmp_path / "model.onnx").stat().st_mode & 0o777 == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_damaged_file_of_one_network_takes_only_that_networks_work(tmp_path):
    run = RunDir(tmp_path)
    for arch_id in ("aaa", "bbb"):
        write_bytes_atomic(run.stage("retrain") / arch_id / "checkpoint.pt", arch_id.encode())
        write_bytes_atomic(run.stage("retrain") / arch_id / "metrics.jsonl", b"{}\n")
    write_bytes_atomic(run.stage("select") / "selected.json", b"{}")
    for stage in ("select", "retrain"):
        run.set_stage_state(stage, "done", outputs=record_outputs(run, stage))
    assert sorted(json.loads(run.state_path.read_text())["stages"]["retrain"]["outputs"]) == [
        "retrain/aaa/checkpoint.pt", "retrain/aaa/metrics.jsonl",
        "retrain/bbb/checkpoint.pt", "retrain/bbb/metrics.jsonl",
    ]  # fmt: skip
    (run.stage("retrain") / "aaa" / "checkpoint.pt").write_bytes(b"aab")  # same size, other bytes
    assert damaged_outputs(run, "retrain") == ["retrain/aaa/checkpoint.pt"]
    assert damaged_outputs(run, "select") == []
    console = Console(record=True, width=400)
    assert recover_damaged(run, ["select", "retrain"], console) == ["retrain"]
    assert not (run.stage("retrain") / "aaa").exists()  # that network is retrained
    assert (run.stage("retrain") / "bbb" / "checkpoint.pt").read_bytes() == b"bbb"
    assert len(list((tmp_path / "damaged").glob("*/retrain/aaa/checkpoint.pt"))) == 1
    stages = run.state()["stages"]
    assert stages["retrain"]["status"] == "damaged" and stages["select"]["status"] == "done"
    lines = console.export_text().strip().splitlines()
    assert len(lines) == 1 and "retrain/aaa/checkpoint.pt is damaged" in lines[0]


def test_outputs_and_their_mlflow_copies_are_readable_under_umask_022(tmp_path, monkeypatch):
    from shiftnas.files import torch_save_atomic
    from shiftnas.tracking import open_tracker
    from shiftnas.tracking.settings import TrackingConfig

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    mask = os.umask(0o022)
    try:
        write_bytes_atomic(tmp_path / "export" / "model.onnx", b"onnx")
        torch_save_atomic(tmp_path / "export" / "checkpoint.pt", {"model": {}})
        tracker = open_tracker(tmp_path, TrackingConfig(), "modes", {})
        with tracker.start_stage("export"):
            tracker.log_artifacts(tmp_path / "export", "export")
        tracker.close("FINISHED")
    finally:
        os.umask(mask)
    copies = list((tmp_path / "mlartifacts").rglob("model.onnx"))
    copies += list((tmp_path / "mlartifacts").rglob("checkpoint.pt"))
    assert len(copies) == 2
    for path in [tmp_path / "export" / "model.onnx", tmp_path / "export" / "checkpoint.pt"]:
        assert path.stat().st_mode & 0o777 == 0o644, path
    for path in copies:
        assert path.stat().st_mode & 0o777 == 0o644, path
