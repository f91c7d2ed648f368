"""`shiftnas fidelity` on hand-made truths whose figures are counted by hand."""

from __future__ import annotations

import json

from cli_helpers import one_line_error, shiftnas

# nbmacro networks whose MACs and params the benchmark gives (and test_spaces_nbmacro checks):
# MACs a < b < c < d < e (7.71M, 12.02M, 12.13M, 14.45M, 27.17M);
# params a < c < d < b < e (387,882; 396,298; 415,082; 419,050; 456,714)
NETS = {"a": "00000000", "b": "00100000", "c": "10000000", "d": "01000000", "e": "12000000"}
TRUTH = {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0, "e": 5.0}


def _files(tmp_path, scores: dict[str, float]):
    truth = tmp_path / "truth.csv"
    truth.write_text("arch,accuracy\n" + "".join(f"{NETS[k]},{v}\n" for k, v in TRUTH.items()))
    est = tmp_path / "mine.csv"
    est.write_text(
        "arch,score,seconds\n" + "".join(f"{NETS[k]},{v},0.1\n" for k, v in scores.items())
    )
    return truth, est


def test_one_swap_gives_the_hand_counted_figures(tmp_path) -> None:
    """Predicted best to worst e, d, b, c, a: one discordant pair of 10 -> tau 0.8; rank
    differences 1 and 1 -> rho 1 - 6*2/(5*24) = 0.9; top decile (1 network) e in both -> 1.0.
    MACs order the truth exactly (tau 1); params swap b past c and d (tau (10-4)/10 = 0.6)."""
    truth, est = _files(tmp_path, {"e": 0.1, "d": 0.2, "b": 0.3, "c": 0.4, "a": 0.5})
    code, out, err = shiftnas("fidelity", "--truth", truth, "--space", "nbmacro",
                              "--scores", est, "--json")  # fmt: skip
    assert code == 0, err
    result = json.loads(out)["results"]
    assert abs(result["mine"]["kendall_tau"] - 0.8) < 1e-12
    assert abs(result["mine"]["spearman"] - 0.9) < 1e-12
    assert result["mine"]["top10_precision"] == 1.0 and result["mine"]["n"] == 5
    assert abs(result["macs"]["kendall_tau"] - 1.0) < 1e-12
    assert abs(result["params"]["kendall_tau"] - 0.6) < 1e-12


def test_a_perfectly_inverted_estimate(tmp_path) -> None:
    truth, est = _files(tmp_path, dict(TRUTH))  # lower = better, so the best is scored worst
    plot = tmp_path / "scatter.png"
    code, out, err = shiftnas("fidelity", "--truth", truth, "--space", "nbmacro",
                              "--scores", est, "--plot", plot)  # fmt: skip
    assert code == 0, err
    row = next(line for line in out.splitlines() if "mine" in line)
    assert "-1.000" in row and row.count("-1.000") == 2 and "0.000" in row
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_input_is_one_line(tmp_path) -> None:
    truth, est = _files(tmp_path, dict(TRUTH))
    code, _, err = shiftnas("fidelity", "--truth", tmp_path / "none.csv", "--space", "nbmacro",
                            "--scores", est)  # fmt: skip
    one_line_error(code, err, "does not exist")
    code, _, err = shiftnas("fidelity", "--truth", truth, "--space", "nbmacro")
    one_line_error(code, err, "exactly one estimate")
    code, _, err = shiftnas("fidelity", "--truth", truth, "--scores", est)
    one_line_error(code, err, "--space")
    bad = tmp_path / "bad.csv"
    bad.write_text("arch,accuracy\n00000000,1\n0120,2\n")
    code, _, err = shiftnas("fidelity", "--truth", bad, "--space", "nbmacro", "--scores", est)
    one_line_error(code, err, "line 3", "nbmacro architecture")
    code, _, err = shiftnas("fidelity", "--truth", truth, "--space", "nbmacro",
                            "--estimator", "snip")  # fmt: skip
    one_line_error(code, err, "-c CONFIG")
