"""`shiftnas fidelity`: how well an estimator ranks networks whose accuracy was measured.

    shiftnas fidelity --truth FILE [--space S] (--estimator NAME | --scores CSV | --run-dir D)

The truth is a CSV `arch,accuracy`, the NAS-Bench-201 sample CSV or NAS-Bench-Macro's JSON
(`shiftnas.search.fidelity.truth`). The estimate is an estimator run here on the truth's
networks (data and seed from `-c CONFIG`, default CIFAR-10-free `shapes`), a CSV `shiftnas eval
--archs --out` wrote, or a run's search archive (its `error` objective; with `--estimator
inherited`, the run's supernet scores the truth's networks). MACs and parameters are measured in
the same run as baselines.
"""

from __future__ import annotations

from pathlib import Path

import typer

from shiftnas.cli.options import CONFIG, DEVICE, JSON, QUIET, RUN_DIR_OPTIONAL, check_device
from shiftnas.errors import ShiftnasError

# these names are the baselines every report carries; an estimator of the same name is one too
BASELINES = ("macs", "params")


def fidelity_command(
    truth: Path = typer.Option(
        ...,
        "--truth",
        help="Measured accuracy: CSV arch,accuracy, "
        "the NAS-Bench-201 CSV or NAS-Bench-Macro's JSON.",
    ),
    space: str | None = typer.Option(
        None, "--space", help="Space of the truth's networks; default: the benchmark file's."
    ),
    estimator: str | None = typer.Option(None, "--estimator", help="Estimator to run here."),
    scores: Path | None = typer.Option(
        None, "--scores", help="CSV arch,score,seconds from `shiftnas eval --out` (lower=better)."
    ),
    run_dir: Path | None = RUN_DIR_OPTIONAL,
    config: Path | None = CONFIG,
    limit: int | None = typer.Option(
        None, "--limit", min=3, help="Score a seeded random sample of this many networks."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the sample and the estimator."),
    device: str | None = DEVICE,
    as_json: bool = JSON,
    plot: Path | None = typer.Option(None, "--plot", help="Write a scatter plot PNG here."),
    quiet: bool = QUIET,
) -> None:
    """Kendall tau, Spearman rho and top-10% precision of an estimate against measured accuracy,
    with the MACs and params baselines on the same networks (--run-dir: the run's search
    archive, or with --estimator inherited its supernet)."""
    import numpy as np

    from shiftnas.cli.fidelity_sources import archive_scores, estimator_scores, read_eval_csv
    from shiftnas.search.fidelity import load_truth, truth_space
    from shiftnas.search.fidelity.report import agreements, payload, scatter_png

    sources = [n for n, v in (("--estimator", estimator), ("--scores", scores)) if v is not None]
    if run_dir is not None and estimator != "inherited":
        sources.append("--run-dir")
    if len(sources) != 1:
        raise ShiftnasError(
            "fidelity needs exactly one estimate: --estimator NAME, --scores CSV or --run-dir D "
            f"(got {', '.join(sources) or 'none'})"
        )
    device = check_device(device) or "cpu"
    if plot is not None and plot.suffix.lower() != ".png":
        raise ShiftnasError(f"--plot {plot}: give a .png file name")
    space_obj = _truth_space(space, truth, config, truth_space(truth))
    measured = load_truth(truth, space_obj)
    keys = sorted(measured.accuracy)
    if limit is not None and limit < len(keys):
        picked = np.random.default_rng(seed).choice(len(keys), limit, replace=False)
        keys = sorted(keys[i] for i in picked)
    if scores is not None:
        name, lower = scores.stem, read_eval_csv(scores, measured.space)
    elif estimator is not None:
        name = estimator
        lower = estimator_scores(estimator, measured.space, keys, config, run_dir, seed, device,
                                 not quiet)  # fmt: skip
    else:
        assert run_dir is not None
        name, lower = "search archive", archive_scores(run_dir, measured.space)
    wanted = set(keys)
    lower = {k: v for k, v in lower.items() if k in wanted or scores is not None}
    shared = sorted(set(lower) & set(measured.accuracy))
    better = {name: {k: -lower[k] for k in shared}}
    for base in BASELINES:
        if base != name:
            better[base] = _baseline(base, measured, shared, config, seed)
    results = agreements(measured, better)
    if plot is not None:
        scatter_png(plot, measured, name, better[name], results[name])
    if as_json:
        import json

        typer.echo(json.dumps(payload(measured, name, lower, results), indent=1))
        return
    _table(measured.kind, truth, results)


def _truth_space(space: str | None, truth: Path, config: Path | None, benchmark: str | None):  # type: ignore[no-untyped-def]
    """`--space`, else the config's space (with its skeleton), else the benchmark file's."""
    from shiftnas.cli.resolve import space_name
    from shiftnas.search.space import get_space

    if config is not None:
        from shiftnas.pipeline.config import load_config

        cfg = load_config(config)
        return get_space(space_name(space, cfg), cfg.space)
    name = space or benchmark
    return get_space(name) if name else None


def _baseline(
    name: str, truth, keys: list[str], config: Path | None, seed: int
) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """MACs or params of each network (higher = predicted better): the file's where it has
    them (NAS-Bench-Macro), else counted here with fvcore."""
    given = truth.macs if name == "macs" else truth.params
    if all(k in given for k in keys):
        return {k: float(given[k]) for k in keys}
    from shiftnas.cli.fidelity_sources import estimator_scores

    lower = estimator_scores(name, truth.space, keys, config, None, seed, "cpu", False)
    return {k: -v for k, v in lower.items()}


def _table(kind: str, truth: Path, results: dict) -> None:  # type: ignore[type-arg]
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"rank fidelity against {truth} ({kind}; higher = better agreement)")
    for column in ("estimate", "networks", "Kendall tau", "Spearman", "top-10% precision"):
        table.add_column(column)
    fmt = lambda v: "undefined" if v is None else f"{v:+.3f}"  # noqa: E731
    for name, r in results.items():
        table.add_row(name, str(r.n), fmt(r.kendall_tau), fmt(r.spearman),
                      f"{r.top10_precision:.3f}")  # fmt: skip
    Console().print(table)
