"""Damaged run folders, as a user meets them on the command line: every case is exit code 2
with one line naming the file (and the stage), or the correct result; no stage stays marked done
with a damaged output."""

from __future__ import annotations

import json
import os

import pytest
import run_helpers
import torch
from run_helpers import one_line_error, shiftnas, state

from shiftnas.pipeline.context import RunContext

finished, run = run_helpers.finished, run_helpers.run  # the shared fixtures


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


def test_selected_json_without_networks_is_one_line(run):
    from shiftnas.errors import ShiftnasError
    from shiftnas.pipeline import RunDir
    from shiftnas.pipeline.config import load_config

    config, root = run
    path = root / "select" / "selected.json"
    ctx = RunContext(load_config(config), RunDir(root), torch.device("cpu"))
    assert len(ctx.selected()) == 1
    cases = [
        ('{"selected": [{"id": "x"}]}', "no valid 'arch'"),
        ('{"selected": {}}', "no 'selected' (list)"),
        ("\x00", "not JSON"),
    ]
    for text, problem in cases:
        path.write_text(text)
        with pytest.raises(ShiftnasError) as err:
            ctx.selected()
        assert str(err.value).startswith(f"{path} is damaged") and problem in str(err.value)


def test_damaged_pareto_plot_costs_no_search(run):
    config, root = run
    archive = (root / "search" / "archive.jsonl").stat()
    plot = root / "search" / "pareto.png"
    plot.write_bytes(b"not a png")
    code, out, err = shiftnas("run", config, "--run-dir", root)
    assert code == 0 and f"damaged: {plot} is damaged" in out, err
    assert plot.read_bytes().startswith(b"\x89PNG")  # drawn again from the archive
    after = (root / "search" / "archive.jsonl").stat()  # the same file: nothing evaluated
    assert (after.st_ino, after.st_mtime_ns) == (archive.st_ino, archive.st_mtime_ns)
    moved = [p.relative_to(root) for p in (root / "damaged").rglob("*") if p.is_file()]
    assert [p.parts[2:] for p in moved] == [("search", "pareto.png")]
    assert state(root)["search"]["status"] == "done"
