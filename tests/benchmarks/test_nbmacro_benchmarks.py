"""The NAS-Bench-Macro benchmarks' own arithmetic: the search judge against a hand count, the
oracle error, the shared score cache, and the supernet-ranking diagnostics on made-up scores."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import SHARED, needs_shared

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

pytestmark = [pytest.mark.shared, needs_shared]


@pytest.fixture(scope="module")
def true_front():
    from nbmacro_search import TrueFront

    return TrueFront()


def test_true_front_judges_itself_perfect_and_one_network_by_hand(true_front):
    me = true_front.judge(true_front.front)
    assert me["hypervolume_ratio"] == 1.0 and me["igd"] == 0.0
    assert me["true_front_members_found"] == len(true_front.front)
    # one network: its hypervolume is the rectangle up to the reference point
    g = true_front.front[len(true_front.front) // 2]
    err, macs = 100.0 - true_front.acc[g], true_front.macs[g]
    ref_err, ref_macs = true_front.reference
    assert true_front.hypervolume([g]) == pytest.approx((ref_err - err) * (ref_macs - macs))
    # the reference point is 10% beyond the front's worst error and worst MACs
    pts = true_front.points(true_front.front)
    assert ref_err == pytest.approx(1.1 * pts[:, 0].max())
    assert ref_macs == pytest.approx(1.1 * pts[:, 1].max())
    # the all-identity network is the smallest there is, so it is on the true front
    assert "00000000" in true_front.front


def test_oracle_error_is_the_benchmarks_test_error(true_front):
    from nbmacro_search import error_measure

    from shiftnas.search import get_space

    space = get_space("nbmacro")
    measure = error_measure(space, SimpleNamespace(estimator="oracle"))
    score = measure.make()
    archs = [space.from_string("00000000"), space.from_string("22222222")]
    assert score(archs) == pytest.approx(
        [1 - true_front.acc["00000000"] / 100, 1 - true_front.acc["22222222"] / 100]
    )
    assert measure.bounds == (0.0, 1.0) and measure.fraction


def test_cached_scores_compute_each_network_once_and_share_it(tmp_path):
    from nbmacro_search import CachedScores

    from shiftnas.search import get_space

    space = get_space("nbmacro")
    calls: list[str] = []

    def build():
        def compute(key: str) -> dict:
            calls.append(key)
            return {"arch": key, "value": float(key.count("2"))}

        return compute

    def read(path: Path) -> dict[str, float]:
        if not path.exists():
            return {}
        return {r["arch"]: r["value"] for r in map(json.loads, path.read_text().splitlines())}

    path = tmp_path / "scores.jsonl"
    first = CachedScores(space, path, build, read, lambda line: line["value"])
    a, b = space.from_string("22000000"), space.from_string("12120000")
    assert first([a, b, a]) == [2.0, 2.0, 2.0]
    assert calls == ["22000000", "12120000"]  # a twice, computed once
    second = CachedScores(space, path, build, read, lambda line: line["value"])
    assert second([b, a]) == [2.0, 2.0] and len(calls) == 2  # another run reads the file


def test_ranking_diagnostics_on_an_exactly_additive_prediction():
    from nbmacro_supernet_ranking import diagnose, truth

    from shiftnas.search.fidelity import rank_agreement

    raw = json.loads(
        (SHARED / "benchmarks/nas-bench-macro/nas-bench-macro_cifar10.json").read_text()
    )
    keys = sorted(truth())[::40]
    records = {g: raw[g] for g in keys}
    # a prediction that is a sum over layers (k5e6 worth 2, k3e3 1, identity 0): exact integers,
    # so its ties are real ties, which the fit must keep
    additive = {g: float(sum(int(c) for c in g)) for g in keys}
    out = diagnose(additive, records)
    assert out["residual_std_pct"] == pytest.approx(0.0, abs=1e-9)
    acc = {g: float(records[g]["mean_acc"]) for g in keys}
    assert out["additive_fit_tau"] == pytest.approx(
        rank_agreement(acc, additive).kendall_tau, abs=1e-4
    )
    depth = {g: float(sum(c != "0" for c in g)) for g in keys}
    assert out["non_identity_layers_tau"] == pytest.approx(
        rank_agreement(acc, depth).kendall_tau, abs=1e-4
    )
    assert [len(t["macs_m"]) for t in out["by_macs_tercile"]] == [2, 2, 2]
    assert np.isclose(out["prediction_std_pct"], np.std([v * 100 for v in additive.values()]))


def test_ranking_figures_ignore_networks_the_search_added_to_the_shared_cache():
    from nbmacro_supernet_ranking import planned_sample

    plan = list("abcdefgh")  # the smaller budgets' networks are the first 2 ("a", "b")
    # the ranking run scored its first 2; the search added "c" and "g": neither counts
    assert planned_sample(plan, 2, dict.fromkeys("abcg", 0.5)) == ["a", "b"]
    # an early look: only what the ranking run itself has scored so far
    assert planned_sample(plan, 2, dict.fromkeys("bc", 0.5)) == ["b"]
    # every planned network scored: all of them, in plan order
    assert planned_sample(plan, 2, dict.fromkeys("hgfedcbaxy", 0.5)) == plan


@pytest.mark.parametrize(
    "name",
    [
        "nbmacro_search.json",
        "nbmacro_search_oracle.json",
        "nbmacro_search_naswot.json",
        "nbmacro_search_naswot_additive.json",
        "nbmacro_search_inherited_additive.json",
        "nbmacro_search_inherited_additive_12ep.json",
    ],
)
def test_committed_search_figures_recomputed_from_their_fronts(true_front, name):
    """Each committed front, judged again against the whole truth, gives the stored figures; and
    every front network's stored MACs and accuracy are the benchmark's own."""
    result = json.loads((Path(__file__).resolve().parents[2] / "benchmarks/results" / name)
                        .read_text())  # fmt: skip
    assert [r["seed"] for r in result["runs"]] == [0, 1, 2]
    for run in result["runs"]:
        assert run["evaluations"] <= 400  # at most 10% of the 3,969 networks
        for key, front in (("search", run["front"]), ("random", run["random_front"])):
            archs = [f["arch"] for f in front]
            for f in front:
                assert f["true_acc"] == true_front.acc[f["arch"]]
            again = true_front.judge(archs)
            stored = run["judged"][key]
            assert stored["hypervolume_ratio"] == pytest.approx(
                again["hypervolume_ratio"], abs=1e-4
            )
            assert stored["igd"] == pytest.approx(again["igd"], abs=1e-5)
