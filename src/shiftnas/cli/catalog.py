"""What `shiftnas space list` and `shiftnas estimators` print: one line and the source of each
registered search space and estimator, and what each space can serve.

The name tables hold constructors only; the words live here, beside the commands that show them.
A test checks that every registered name has its line, so a new space or estimator cannot be
added without one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import typer
from rich.console import Console
from rich.table import Table

from shiftnas.cli.options import JSON
from shiftnas.errors import ShiftnasError


@dataclass(frozen=True)
class Entry:
    """One registered name: what it is in one line, and the paper it comes from."""

    description: str
    source: str


SPACES = {
    "mbv3": Entry(
        "MobileNetV3 blocks per layer of a fixed skeleton: kernel 3/5/7, expansion 3/6, with or "
        "without a BlurPool filter, or a 1x1 conv (13 candidates, SICNS Table I)",
        "SICNS; Howard et al. 2019, arXiv:1905.02244; BlurPool: Zhang 2019, arXiv:1904.11486",
    ),
    "nbmacro": Entry(
        "NAS-Bench-Macro: 8 layers in 3 stages, each identity, MobileNetV2 block k3 e3 or k5 e6 "
        "(3,969 distinct networks, each trained 3 times: a ground truth for MobileNet blocks)",
        "Su et al. 2021, arXiv:2103.11922 (benchmark Apache-2.0)",
    ),
    "nb201": Entry(
        "NAS-Bench-201 cell: 6 edges, 5 ops each (15,625 networks)",
        "Dong & Yang 2020, arXiv:2001.00326",
    ),
    "darts": Entry(
        "NASNet/DARTS micro cells: a normal and a reduction cell of 4 nodes, 2 inputs each",
        "Liu et al. 2019, arXiv:1806.09055; RWE (Hu et al. 2022, arXiv:2110.05242)",
    ),
    "macro": Entry(
        "Genetic-CNN phases of conv3x3 nodes with connection bits and a residual bit",
        "Xie & Yuille 2017, arXiv:1703.01513; NSGA-Net (Lu et al. 2019, arXiv:1810.03522)",
    ),
}

_ZERO_COST = "Abdelfattah et al. 2021, arXiv:2101.08134"
ESTIMATORS = {
    "inherited": Entry(
        "validation error with weights taken from the trained supernet, BatchNorm recalibrated",
        "one-shot NAS, SPOS: Guo et al. 2020, arXiv:1904.00420; SICNS",
    ),
    "rwe_paper": Entry(
        "random-weight evaluation as published: frozen random network, 5 SGD linear probes, "
        "validation error",
        "Hu et al. 2022, arXiv:2110.05242",
    ),
    "rwe": Entry(
        "random-weight evaluation as measured best here: reduced proxy network, ridge probe, "
        "training squared error",
        "after Hu et al. 2022, arXiv:2110.05242 (README, Performance estimators)",
    ),
    "synflow": Entry(
        "zero-cost: synaptic flow of a data-free all-ones input, negated",
        "Tanaka et al. 2020, arXiv:2006.05467",
    ),
    "naswot": Entry(
        "zero-cost: log-determinant of the activation-code kernel of one batch, negated",
        "Mellor et al. 2021, arXiv:2006.04647",
    ),
    "jacob_cov": Entry(
        "zero-cost: correlation of input Jacobians across one batch, negated",
        "Mellor et al. 2020, arXiv:2006.04647v1",
    ),
    "snip": Entry(
        "zero-cost: connection sensitivity sum |w * dL/dw| on one batch, negated",
        "Lee et al. 2019, arXiv:1810.02340",
    ),
    "grad_norm": Entry("zero-cost: norm of the loss gradient on one batch, negated", _ZERO_COST),
    "fisher": Entry(
        "zero-cost: Fisher information of the channels on one batch, negated",
        f"Theis et al. 2018, arXiv:1801.05787; {_ZERO_COST}",
    ),
    "macs": Entry("MACs of the network, negated: the 'bigger is better' baseline", _ZERO_COST),
    "params": Entry("parameters, negated: the 'bigger is better' baseline", _ZERO_COST),
    "ensemble": Entry("mean rank of the member estimators within one call", _ZERO_COST),
    "default": Entry(
        "chosen per space family by measurement: nb201 (and spaces not measured): rwe + synflow "
        "+ jacob_cov + macs, ranked against 48 fixed random networks; mbv3, nbmacro: naswot",
        "measured here (docs/concepts/estimators.md; shiftnas estimators --space S)",
    ),
}


UNDESCRIBED = Entry("(not described yet: add it to shiftnas/cli/catalog.py)", "")


def space_capabilities(name: str) -> dict[str, bool]:
    """What the pipeline can do with a space: train a supernet of it (the supernet stage and the
    `inherited` estimator) and pair each network with its twin without filters (robustness)."""
    from shiftnas.search.space import space_capabilities as capabilities

    have = capabilities(name)
    return {"supernet": "supernet" in have, "filter_twins": "filter_twins" in have}


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def list_spaces_command(
    as_json: bool = JSON,
) -> None:
    """Each registered search space, what it is, and whether it has a supernet and filter twins."""
    from shiftnas.search import list_spaces

    rows = {
        name: {**asdict(SPACES.get(name, UNDESCRIBED)), **space_capabilities(name)}
        for name in list_spaces()
    }
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="search spaces (shiftnas space describe NAME shows one)")
    for column in ("space", "supernet", "filter twins", "what it is", "source"):
        table.add_column(column, overflow="fold")
    for name, row in rows.items():
        table.add_row(name, _yes(row["supernet"]), _yes(row["filter_twins"]),
                      row["description"], row["source"])  # fmt: skip
    Console().print(table)


def estimators_command(
    as_json: bool = JSON,
    space: str | None = typer.Option(
        None, "--space", help="Add each estimator's measured rank fidelity on this space."
    ),
) -> None:
    """Each estimator `shiftnas eval` and `search.evaluator.name` take: what it is, its source,
    and with --space its measured Spearman/Kendall there and whether the search trusts it."""
    from shiftnas.search import list_spaces
    from shiftnas.search.evaluators import list_evaluators

    if space is not None and space not in list_spaces():
        choices = ", ".join(list_spaces())
        raise ShiftnasError(f"--space '{space}' is unknown: choose one of {choices}")
    rows: dict[str, dict] = {
        name: asdict(ESTIMATORS.get(name, UNDESCRIBED)) for name in list_evaluators()
    }
    if space is not None:
        from shiftnas.search.evaluators.trust import figures, verdict

        measured = figures(space)
        for name, row in rows.items():
            row["fidelity"] = measured.get(name)
            row["warning"] = verdict(name, space)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    title = "estimators (lower score = better network)"
    columns = ["name", "what it is", "source"]
    if space is not None:
        title += f"; rank fidelity measured on {space} (Spearman/Kendall vs trained accuracy)"
        columns = ["name", "Spearman", "Kendall", "networks", "measured in", "trusted"]
        columns.append("what it is")
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for name, row in rows.items():
        if space is None:
            table.add_row(name, row["description"], row["source"])
            continue
        fig = row["fidelity"] or {}
        trusted = "n/a" if name == "inherited" else ("no" if row["warning"] else "yes")
        table.add_row(name, _fmt(fig.get("spearman")), _fmt(fig.get("kendall_tau")),
                      str(fig.get("n", "")), fig.get("source", "never measured"), trusted,
                      row["description"])  # fmt: skip
    Console().print(table)


def _fmt(value: float | None) -> str:
    return f"{value:+.3f}" if isinstance(value, float) else ""
