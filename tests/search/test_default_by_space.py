"""`default` is chosen per space family by measurement (issue #25): on MobileNet-block spaces it
is the estimator measured best there, on NAS-Bench-201 the ensemble measured there."""

from __future__ import annotations

from shiftnas.search import get_space
from shiftnas.search.evaluators import RankEnsemble, get_evaluator
from shiftnas.search.evaluators.ensemble import DEFAULT_BY_SPACE
from shiftnas.search.evaluators.fidelity_table import MEASURED


def test_default_on_nbmacro_scores_as_negated_macs_of_the_benchmark():
    assert DEFAULT_BY_SPACE["nbmacro"] == DEFAULT_BY_SPACE["mbv3"] == ("macs",)
    space = get_space("nbmacro")
    default = get_evaluator("default", space=space)
    genomes = ["00000000", "12000000", "22222222"]
    scores = default.evaluate([space.from_string(g) for g in genomes])
    # the benchmark's own multiply-adds (its `flops`), from NAS-Bench-Macro's JSON
    macs = [7_713_280, 27_169_280, 105_660_928]
    assert scores == [-float(m) for m in macs] and default.name == "default"
    assert scores[0] > scores[1] > scores[2]  # the bigger network is predicted better


def test_default_on_nb201_is_still_the_measured_ensemble():
    default = get_evaluator("default", space=get_space("nb201"))
    assert isinstance(default, RankEnsemble) and default.reference_size == 48
    assert [m.name for m in default.members] == ["rwe", "synflow", "jacob_cov", "macs"]
    assert MEASURED["nb201"]["default"]["spearman"] >= 0.92  # not below today's held-out result
