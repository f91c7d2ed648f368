"""Rank agreement and truth files: figures from hand counts, canonical networks counted once."""

from __future__ import annotations

import numpy as np
import pytest

from shiftnas.errors import ShiftnasError
from shiftnas.search import get_space
from shiftnas.search.fidelity import load_truth, rank_agreement, top_precision


def test_top_precision_counts_ties_at_the_boundary() -> None:
    truth = np.arange(20.0)  # top 10% = the two best: 19, 18
    assert top_precision(truth, truth) == 1.0
    assert top_precision(truth, -truth) == 0.0
    assert top_precision(truth, np.ones(20)) == 0.1  # a constant estimate: the base rate 2/20
    predicted = truth.copy()
    predicted[[0, 19]] = predicted[[19, 0]]  # the best scored worst, the worst scored best
    assert top_precision(truth, predicted) == 0.5  # {0, 18} predicted, 18 is truly top


def test_constant_estimate_has_undefined_correlation() -> None:
    truth = {str(i): float(i) for i in range(10)}
    result = rank_agreement(truth, dict.fromkeys(truth, 0.5))
    assert result.kendall_tau is None and result.spearman is None
    with pytest.raises(ShiftnasError, match="at least 3"):
        rank_agreement(truth, {"0": 1.0, "1": 2.0, "x": 3.0})


def test_truth_csv_merges_genomes_of_one_network(tmp_path) -> None:
    """10201020 and 10210020 build one nbmacro network: their rows are averaged, once."""
    path = tmp_path / "t.csv"
    path.write_text("arch,accuracy,note\n10201020,80,x\n10210020,90,y\n22222222,93,z\n")
    truth = load_truth(path, get_space("nbmacro"))
    assert truth.accuracy == {"10210020": 85.0, "22222222": 93.0} and truth.repeated == 1


def test_benchmark_files_name_their_space(tmp_path) -> None:
    path = tmp_path / "macro.json"
    path.write_text('{"00000000": {"mean_acc": 45.4, "params": 387882, "flops": 7713280}}')
    truth = load_truth(path)
    assert truth.space == "nbmacro" and truth.macs == {"00000000": 7713280.0}
    with pytest.raises(ShiftnasError, match="pass --space nbmacro"):
        load_truth(path, get_space("mbv3"))
    nb201 = tmp_path / "nb201.csv"
    nb201.write_text("index,arch,cifar10_test_acc_200ep\n1,|a~0|+|b~0|c~1|+|d~0|e~1|f~2|,x\n")
    with pytest.raises(ShiftnasError, match="line 2"):
        load_truth(nb201)
