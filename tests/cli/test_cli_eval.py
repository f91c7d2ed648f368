"""`shiftnas eval METHOD`: one architecture, a resumable batch CSV, one-line errors."""

from __future__ import annotations

import csv

from cli_helpers import one_line_error, shiftnas

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
    code, _, err = shiftnas(*base)
    assert code == 0, err
    before = rows(out)
    assert [r["arch"] for r in before] == ARCHS[:2]
    assert float(before[0]["score"]) < float(before[1]["score"])  # convs beat skips
    archs.write_text("\n".join(ARCHS) + "\n")
    code, _, err = shiftnas(*base)
    assert code == 0, err
    after = rows(out)
    assert after[:2] == before  # already scored: skipped, not rewritten
    assert len(after) == 3 and after[2]["arch"] == ARCHS[2]


def test_single_arch_and_errors(tmp_path) -> None:
    code, out, err = shiftnas("eval", "params", "--space", "nb201", "--arch", ARCHS[0])
    assert code == 0 and "params=-1.53155e+06" in out, err  # NAS-Bench-201's 1.53M
    code, _, err = shiftnas("eval", "params", "--space", "nb201", "--arch", "|conv~0|")
    one_line_error(code, err, "--arch |conv~0| is no file", "genome of space 'nb201'")
    one_line_error(*shiftnas("eval", "nope", "--arch", ARCHS[0])[::2], "unknown evaluation method")
    missing = tmp_path / "a.json"
    one_line_error(*shiftnas("eval", "params", "--arch", missing)[::2], f"{missing} does not exist")


def test_every_dataset_of_the_config_is_accepted(tmp_path) -> None:
    """`--dataset` offers what `data.dataset` does: digits (the quickstart's) scores like shapes;
    an unknown name lists the choices; the folder datasets need --data-root."""
    code, out, err = shiftnas(
        "eval", "params", "--dataset", "digits", "--arch", "0-0-0-0-0-0-0-0-0-0-0-0"
    )
    assert code == 0 and "params=-" in out, err
    nb201 = ("--arch", ARCHS[0], "--space", "nb201")
    code, _, err = shiftnas("eval", "params", "--dataset", "imagenet", *nb201)
    one_line_error(
        code, err, "--dataset 'imagenet' is not one of shapes, digits, imagefolder, csv, cifar10"
    )
    code, _, err = shiftnas("eval", "params", "--dataset", "cifar10", *nb201)
    one_line_error(code, err, "--dataset cifar10 needs --data-root")
