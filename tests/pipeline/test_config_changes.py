"""A changed config on an existing run folder re-runs only the stages the change invalidates
(issue 14): a typo fixed in a late stage's section keeps the trained supernet and the search."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import shiftnas, tiny_run_config, write_config

from shiftnas.errors import ShiftnasError
from shiftnas.pipeline import RunDir
from shiftnas.pipeline.changes import changed_keys, first_reader
from shiftnas.pipeline.config import config_from_dict
from shiftnas.tracking.state import PendingLog, TrackingState

STAGES = ["supernet", "search", "select", "retrain", "robustness", "export", "register"]


def test_changed_keys_and_the_stage_that_first_reads_them():
    old = {"seed": 0, "export": {"latency_backend": "ort-cpux", "tolerance": 1e-4},
           "search": {"objectives": [{"name": "error"}]}}  # fmt: skip
    new = {"seed": 0, "export": {"latency_backend": "ort-cpu", "tolerance": 1e-4},
           "search": {"objectives": [{"name": "error"}, {"name": "macs"}]}}  # fmt: skip
    assert changed_keys(old, new) == [
        ("export.latency_backend", "ort-cpux", "ort-cpu"),
        ("search.objectives", [{"name": "error"}], [{"name": "error"}, {"name": "macs"}]),
    ]
    assert first_reader("export.latency_backend") == "export"
    assert first_reader("registry.alias") == "register"
    assert first_reader("data.shapes.image_size") == "supernet"
    assert first_reader("supernet.lr") == "supernet"
    assert first_reader("supernet.bn_recalibration_batches") == "search"  # used by the search
    assert first_reader("tracking.experiment") is None
    assert first_reader("device") is None


def finished_run(root: Path, config) -> RunDir:
    """A run folder as a typo in export.latency_backend leaves it: every stage done but register,
    which failed; each stage's output on disk; MLflow bookkeeping for every stage."""
    run = RunDir(root)
    assert run.bind(config) == []
    for stage in STAGES:
        (root / stage).mkdir(parents=True, exist_ok=True)
        (root / stage / "out.txt").write_text(stage)
        run.set_stage_state(stage, "failed" if stage == "register" else "done")
    TrackingState(
        tracking_uri="sqlite:///x.db", experiment_id="1", parent_run_id="p",
        stages={s: f"run-{s}" for s in STAGES},
        models={"register/a1": "models:/m-1"}, registered={"shiftnas@register/a1": "1"},
    ).save(root)  # fmt: skip
    return run


def test_typo_fix_in_export_keeps_supernet_and_search(tmp_path):
    typo = tiny_run_config(export={"latency_backend": "ort-cpux"}, stages=STAGES)
    run = finished_run(tmp_path / "run", config_from_dict(typo))
    fixed = config_from_dict({**typo, "export": {"latency_backend": "ort-cpu"}})
    lines = run.bind(fixed)
    assert lines[0] == (
        "config changed: export.latency_backend: 'ort-cpux' -> 'ort-cpu': "
        "invalidates export, register"
    )
    assert lines[1].startswith("kept: supernet, search, select, retrain, robustness;")
    assert len(lines) == 2
    stages = run.state()["stages"]
    assert {s: stages[s]["status"] for s in stages} == {s: "done" for s in STAGES[:5]}
    assert (run.root / "supernet" / "out.txt").read_text() == "supernet"
    # the stale export moved aside, not deleted
    assert not (run.root / "export").exists()
    (moved,) = (run.root / "replaced").glob("*/export/out.txt")
    assert moved.read_text() == "export"
    tracking = TrackingState.load(run.root)
    assert set(tracking.stages) == set(STAGES[:5])
    assert tracking.models == {} and tracking.registered == {}
    assert run.load_config() == fixed
    assert run.bind(fixed) == []  # the same config again: nothing to say, nothing reset


def test_pending_logging_calls_of_invalidated_stages_are_dropped(tmp_path):
    """Calls journalled while the store was down: the re-run stages' would log stale outputs
    into their new MLflow runs on the next resume; the kept stages' and the parent's stay."""
    typo = tiny_run_config(export={"latency_backend": "ort-cpux"}, stages=STAGES)
    run = finished_run(tmp_path / "run", config_from_dict(typo))
    pending = PendingLog(run.root)
    calls = [("search", "metrics"), (None, "params"), ("export", "artifact"),
             ("register", "register"), ("robustness", "metrics")]  # fmt: skip
    for i, (stage, op) in enumerate(calls):
        pending.append({"op": op, "stage": stage, "key": f"k{i}", "values": {"x": i}})
    run.bind(config_from_dict({**typo, "export": {"latency_backend": "ort-cpu"}}))
    left = [(r["stage"], r["op"], r["key"]) for r in PendingLog(run.root).records()]
    assert left == [("search", "metrics", "k0"), (None, "params", "k1"),
                    ("robustness", "metrics", "k4")]  # fmt: skip
    # nothing to drop: the journal is not rewritten
    before = (run.root / "tracking_pending.jsonl").stat().st_mtime_ns
    run.bind(config_from_dict({**typo, "registry": {"alias": "best"}}))
    assert (run.root / "tracking_pending.jsonl").stat().st_mtime_ns == before


def test_a_damaged_journal_stops_the_change_before_any_output_moves(tmp_path):
    """Review finding: the journal was read after the outputs had moved, so a damaged line left
    the folder half-changed (outputs moved, config and tracking.json not updated)."""
    typo = tiny_run_config(export={"latency_backend": "ort-cpux"}, stages=STAGES)
    run = finished_run(tmp_path / "run", config_from_dict(typo))
    journal = run.root / "tracking_pending.jsonl"
    journal.write_text('{"op": "metrics", "stage": "export", "key": "a"}\ngarbage{\n{"op": "x"}\n')
    fixed = config_from_dict({**typo, "export": {"latency_backend": "ort-cpu"}})
    with pytest.raises(ShiftnasError, match=r"line 2 is not JSON.*without the MLflow calls"):
        run.bind(fixed)
    assert (run.root / "export" / "out.txt").exists() and not (run.root / "replaced").exists()
    assert run.state()["stages"]["export"]["status"] == "done"
    assert set(TrackingState.load(run.root).stages) == set(STAGES)
    assert run.load_config() == config_from_dict(typo)
    journal.unlink()  # the fix the message names; the change then goes through
    assert run.bind(fixed)[0].startswith("config changed: export.latency_backend")


def test_a_change_read_by_the_supernet_invalidates_every_stage(tmp_path):
    config = tiny_run_config(stages=STAGES)
    run = finished_run(tmp_path / "run", config_from_dict(config))
    lines = run.bind(config_from_dict({**config, "seed": 1, "name": "renamed"}))
    assert lines[:2] == [
        "config changed: name: 'tiny' -> 'renamed': no stage's output depends on it",
        f"config changed: seed: 0 -> 1: invalidates {', '.join(STAGES)}",
    ]
    assert lines[2].startswith("kept: no stage;")
    assert run.state()["stages"] == {}
    assert not any((run.root / s).exists() for s in STAGES)


def test_run_on_a_changed_config_reruns_select_only(tmp_path):
    """Through `shiftnas run`: supernet and search are done (hand-made), select ran with k=1;
    with k=2 select runs again on the same front and the other stages are not touched."""
    root = tmp_path / "run"
    front = [
        {"id": f"n{i}", "arch": {"space": "mbv3", "genome": [i, i]},
         "objectives": {"error": e, "params": p, "macs": f}}
        for i, (e, p, f) in enumerate([(0.1, 9.0, 9.0), (0.5, 1.0, 5.0), (0.3, 5.0, 1.0)])
    ]  # fmt: skip
    (root / "search").mkdir(parents=True)
    pareto = {"objectives": ["error", "params", "macs"], "front": front}
    (root / "search" / "pareto.json").write_text(json.dumps(pareto))
    config = tiny_run_config(stages=["supernet", "search", "select"])
    run = RunDir(root)
    run.bind(config_from_dict(config))
    run.set_stage_state("supernet", "done")
    run.set_stage_state("search", "done")
    first = write_config(tmp_path / "k1.yaml", {**config, "select": {"k": 1}})
    assert shiftnas("run", str(first), "--run-dir", str(root))[0] == 0
    second = write_config(tmp_path / "k2.yaml", {**config, "select": {"k": 2}})
    code, out, err = shiftnas("run", str(second), "--run-dir", str(root))
    assert code == 0, err
    assert "config changed: select.k: 1 -> 2: invalidates select, retrain," in out
    assert "supernet: done earlier" in out and "search: done earlier" in out
    selected = json.loads((root / "select" / "selected.json").read_text())["selected"]
    # the knee of the front (n2, nearest the ideal point once scaled) and the best error (n0)
    assert [m["id"] for m in selected] == ["n2", "n0"]
    (old,) = (root / "replaced").glob("*/select/selected.json")
    assert [m["id"] for m in json.loads(old.read_text())["selected"]] == ["n2"]
