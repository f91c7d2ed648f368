"""The NB201 search benchmark: seeded determinism with the real `default` estimator, and the
judge's hypervolume against a hand count."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from shiftnas.search import Arch, get_space
from shiftnas.search.nsga import Measure, macs_measure, run_search
from shiftnas.search.settings import SearchConfig, SearchEvaluatorConfig, SearchObjectiveConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from _nb201_truth import MacsModel, Truth, estimated_front


def _search(space, data, out: Path, seed: int, workers: int):
    from shiftnas.search.evaluators import get_evaluator

    made = {}

    def make():  # the real default ensemble, with 4 reference networks instead of 48
        if "ev" not in made:
            made["ev"] = get_evaluator("default", space=space, data=data, seed=seed, reference=4)
        return made["ev"].evaluate

    error = Measure("error", "expensive", make, bounds=(0.0, 1.0))
    settings = SearchConfig(
        population=6,
        generations=3,
        workers=workers,
        evaluator=SearchEvaluatorConfig(name="default"),
        objectives=[
            SearchObjectiveConfig(name="error", bounds=(0.0, 1.0)),
            SearchObjectiveConfig(name="macs"),
        ],
    )
    return run_search(space, [error, macs_measure(space)], settings, out, seed, progress=False)


def test_same_seed_same_front_and_archive(tmp_path, tiny_data):
    space = get_space("nb201", channels=4, cells_per_stage=1, input_size=16)
    a = _search(space, tiny_data, tmp_path / "a", seed=3, workers=1)
    b = _search(space, tiny_data, tmp_path / "b", seed=3, workers=2)
    assert a.evaluations >= 12  # three generations of six, duplicates removed
    assert [e["id"] for e in a.front] == [e["id"] for e in b.front]
    assert [e["objectives"] for e in a.front] == [e["objectives"] for e in b.front]
    assert (tmp_path / "a/archive.jsonl").read_text() == (tmp_path / "b/archive.jsonl").read_text()
    other = _search(space, tiny_data, tmp_path / "c", seed=4, workers=1)
    assert (tmp_path / "c/archive.jsonl").read_text() != (tmp_path / "a/archive.jsonl").read_text()
    assert other.evaluations >= 12


def test_macs_model_matches_fvcore_and_truth_hypervolume_by_hand(tmp_path):
    from shiftnas.profiling import count_macs

    space = get_space("nb201")
    # all none, all skip, one 1x1 conv, one 3x3 conv, all 3x3 convs
    genomes = [(0,) * 6, (1,) * 6, (0, 0, 0, 2, 0, 0), (0, 0, 0, 3, 0, 0), (3,) * 6]
    archs = [Arch("nb201", g) for g in genomes]
    model = MacsModel(space)
    for arch in archs:
        assert model(arch) == count_macs(space.build(arch), (1, 3, 32, 32))
    accs = [10.0, 60.0, 70.0, 80.0, 90.0]  # errors 90, 40, 30, 20, 10 %
    pairs = enumerate(zip(archs, accs, strict=True))
    rows = "\n".join(f"{i},{space.to_string(a)},{acc}" for i, (a, acc) in pairs)
    csv = tmp_path / "dev.csv"
    csv.write_text("index,arch,cifar10_test_acc_200ep\n" + rows + "\n")
    truth = Truth(space, csv)
    m = [model(a) / 1e6 for a in archs]
    # (error, MMACs): none and skip cost the same MACs, so skip (40%) dominates none (90%)
    assert m[0] == m[1] < m[2] < m[3] < m[4]
    assert [truth.arch[i].genome for i in truth.front] == [genomes[k] for k in (1, 2, 3, 4)]
    ref = (1.1 * 40.0, 1.1 * m[4])
    assert truth.reference.tolist() == pytest.approx(ref)
    # the staircase by hand: each front point's slab up to the next point's MACs
    pts = [(40.0, m[1]), (30.0, m[2]), (20.0, m[3]), (10.0, m[4])]
    edges = [p[1] for p in pts[1:]] + [ref[1]]
    by_hand = sum((ref[0] - e) * (right - mm) for (e, mm), right in zip(pts, edges, strict=True))
    assert truth.hypervolume(truth.front) == pytest.approx(by_hand)
    ids = [space.canonical(a).id for a in archs]
    judged = truth.judge([ids[1], ids[3], "not-in-the-file"], ids[:4])
    assert judged["front_members"] == 3 and judged["front_members_with_truth"] == 2
    two = truth.hypervolume([ids[1], ids[3]])
    by_hand_two = (ref[0] - 40.0) * (m[3] - m[1]) + (ref[0] - 20.0) * (ref[1] - m[3])
    assert two == pytest.approx(by_hand_two)
    assert judged["hypervolume_ratio_front"] == pytest.approx(round(two / by_hand, 4))
    assert judged["true_front_members_found"] == sorted([ids[1], ids[3]])


def test_estimated_front_keeps_non_dominated_records():
    recs = [
        {"id": "a", "objectives": {"error": 0.5, "macs": 10}},
        {"id": "b", "objectives": {"error": 0.4, "macs": 20}},
        {"id": "c", "objectives": {"error": 0.6, "macs": 20}},  # dominated by b
        {"id": "d", "objectives": {"error": 0.2, "macs": 30}},
    ]
    assert [r["id"] for r in estimated_front(recs)] == ["a", "b", "d"]
