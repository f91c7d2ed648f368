"""`shiftnas eval METHOD`: one architecture, a resumable batch CSV, one-line errors."""

from __future__ import annotations

import csv

from typer.testing import CliRunner

from shiftnas.cli import app

ARCHS = [
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
    "|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|",
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|",
]


def rows(path):
    with path.open() as f:
        return list(csv.DictReader(f))


def test_batch_resumes(tmp_path) -> None:
    archs, out = tmp_path / "archs.txt", tmp_path / "scores.csv"
    archs.write_text("\n".join(ARCHS[:2]) + "\n")
    base = ["eval", "synflow", "--space", "nb201", "--archs", str(archs), "--out", str(out),
            "--dataset", "shapes", "--seed", "0", "--no-progress"]  # fmt: skip
    first = CliRunner().invoke(app, base)
    assert first.exit_code == 0, first.output
    before = rows(out)
    assert [r["arch"] for r in before] == ARCHS[:2]
    assert float(before[0]["score"]) < float(before[1]["score"])  # convs beat skips
    archs.write_text("\n".join(ARCHS) + "\n")
    second = CliRunner().invoke(app, base)
    assert second.exit_code == 0, second.output
    after = rows(out)
    assert after[:2] == before  # already scored: skipped, not rewritten
    assert len(after) == 3 and after[2]["arch"] == ARCHS[2]


def test_single_arch_and_errors(tmp_path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["eval", "params", "--space", "nb201", "--arch", ARCHS[0]])
    assert ok.exit_code == 0 and "params=-1.53155e+06" in ok.output, ok.output
    bad = runner.invoke(app, ["eval", "params", "--space", "nb201", "--arch", "|conv~0|"])
    assert bad.exit_code != 0 and "nb201" in str(bad.exception)
    unknown = runner.invoke(app, ["eval", "nope", "--arch", ARCHS[0]])
    assert "unknown evaluation method" in str(unknown.exception)
