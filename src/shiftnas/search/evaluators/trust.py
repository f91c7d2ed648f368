"""Is an estimator trusted on a space? Its measured rank fidelity there, against MACs.

An estimate is only as good as its ranking of the networks of the space it searches: RWE's
setting tuned on NAS-Bench-201 ranked MobileNet blocks backwards (issue #25). Each (space,
estimator) pair the product measured has its figures in `fidelity_table.MEASURED` (generated from
the committed benchmark JSON it names). `verdict` says, in one line, when an estimator was never
measured on a space, gives every network the same score there, or ranks it worse than the free
baseline `macs`; the pipeline prints that line before any work, or stops on it
(`search.evaluator.unmeasured: error`).
"""

from __future__ import annotations

from typing import Any

from shiftnas.search.evaluators.fidelity_table import MEASURED

# estimates that are not training-free (a trained supernet's weights): outside this table
NOT_JUDGED = frozenset({"inherited"})
# fewer networks than this give a rank correlation too noisy to trust (Spearman's standard error
# is about 1 / sqrt(n - 3): 0.19 at 30)
MIN_NETWORKS = 30


def figures(space: str) -> dict[str, dict[str, Any]]:
    """Every measured estimator of `space` -> its figure (spearman, kendall_tau, n, source)."""
    return dict(MEASURED.get(space, {}))


def best_choice(space: str) -> tuple[str, dict[str, Any]] | None:
    """What to use on `space` instead: `default` where it was measured there at or above MACs
    (it was chosen on a tune split, the others' figures are the ones it was judged on), else the
    measured estimator with the highest Spearman rho (None: none measured)."""
    measured = figures(space)
    default, macs = measured.get("default"), measured.get("macs")
    if (
        default is not None
        and default["spearman"] is not None
        and default["n"] >= MIN_NETWORKS
        and (macs is None or default["spearman"] >= macs["spearman"])
    ):
        return "default", default
    ranked = [
        (f["spearman"], name)
        for name, f in figures(space).items()
        if f["spearman"] is not None and f["n"] >= MIN_NETWORKS
    ]
    if not ranked:
        return None
    name = max(ranked)[1]
    return name, figures(space)[name]


def describe(name: str, figure: dict[str, Any]) -> str:
    return (
        f"{name} Spearman {figure['spearman']:+.3f} on {figure['n']} networks ({figure['source']})"
    )


def verdict(estimator: str, space: str) -> str | None:
    """One line when `estimator` is not trusted on `space`, else None.

    Not trusted: never measured there; measured on fewer than MIN_NETWORKS networks; measured
    with every network scored the same (Spearman undefined); or measured with a Spearman rho
    below that of `macs` there."""
    if estimator in NOT_JUDGED or estimator == "macs":
        return None
    measured = figures(space)
    best = best_choice(space)
    better = f"; choose {describe(*best)}" if best and best[0] != estimator else ""
    if estimator not in measured:
        where = ", ".join(s for s in MEASURED if MEASURED[s])
        return (
            f"estimator '{estimator}' was never measured on space '{space}' (rank fidelity is "
            f"on record for {where}): its ranking there is unknown{better}"
        )
    figure = measured[estimator]
    if figure["n"] < MIN_NETWORKS:
        return (
            f"estimator '{estimator}' was measured on only {figure['n']} networks of space "
            f"'{space}' ({figure['source']}): too few to trust its ranking{better}"
        )
    if figure["spearman"] is None:
        return (
            f"estimator '{estimator}' gave every network of space '{space}' the same score when "
            f"measured ({figure['source']}): it cannot rank them{better}"
        )
    macs = measured.get("macs")
    if macs is not None and macs["spearman"] is not None and figure["spearman"] < macs["spearman"]:
        return (
            f"estimator '{estimator}' ranks space '{space}' below MACs: Spearman "
            f"{figure['spearman']:+.3f} vs macs {macs['spearman']:+.3f} on {figure['n']} networks "
            f"({figure['source']}){better}"
        )
    return None
