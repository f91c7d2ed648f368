"""Build the measured-fidelity table the package ships, from the committed benchmark JSONs.

    .venv/bin/python benchmarks/fidelity_table.py            # rewrite the package module
    .venv/bin/python benchmarks/fidelity_table.py --check    # exit 1 if it disagrees

The table (`src/shiftnas/search/evaluators/fidelity_table.py`) holds, for each (space,
estimator) pair that was measured, its Spearman rho and Kendall tau against a trained truth, the
number of networks, the split, and the JSON file and key it comes from. Sources:
- nb201: `evaluator_fidelity_1000.json` (1,000 NB201 development networks; the mean over 5
  random holdout halves of the figures of each estimator; `default` = the ensemble chosen on the
  tune halves).
- `rwe_paper` (nb201, nbmacro, mbv3): `rwe_paper_scale.json`, the shipped setting (features
  rescaled), 40 networks (mbv3: all 46) each with 2,000 / 1,000 probe images (the shipped
  default: 10,000 / 5,000).
- nbmacro: `nbmacro_estimators.json`, the holdout half of 1,000 NAS-Bench-Macro networks.
- mbv3: `nbmacro_estimators.json`, `mbv3_transfer`: the 46 networks of `mbv3_standalone.csv`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MODULE = ROOT / "src" / "shiftnas" / "search" / "evaluators" / "fidelity_table.py"
NB201 = ["rwe", "naswot", "synflow", "jacob_cov", "macs", "params", "snip", "grad_norm", "fisher"]
NB201_DEFAULT = "rwe+synflow+jacob_cov+macs"
REGISTERED = [*NB201, "rwe_paper", "default"]


def lookup(source: str, key: str) -> Any:
    value: Any = json.loads((RESULTS / source).read_text())
    for part in key.split("/"):
        value = value[part]
    return value


def entry(source: str, key: str, split: str) -> dict[str, Any] | None:
    """One figure from `source` at `key` ('/'-separated); None where it was not measured."""
    try:
        figure = lookup(source, key)
    except (KeyError, FileNotFoundError):
        return None
    if figure is None:
        return None
    kendall = figure.get("kendall_tau", figure.get("kendall"))
    n = figure.get("n")
    if n is None:  # the NB201 halves: half of the file's networks each
        n = lookup(source, "n") // 2
    rho = figure.get("spearman")
    return {"spearman": rho, "kendall_tau": kendall, "n": n, "split": split,
            "source": f"benchmarks/results/{source}", "key": key}  # fmt: skip


def build() -> dict[str, dict[str, dict[str, Any]]]:
    table: dict[str, dict[str, dict[str, Any] | None]] = {"nb201": {}, "nbmacro": {}, "mbv3": {}}
    nb = "evaluator_fidelity_1000.json"
    for est in NB201:
        table["nb201"][est] = entry(nb, f"methods/{est}/holdout", "holdout (mean of 5 halves)")
    table["nb201"]["default"] = entry(
        nb, f"ensembles_chosen_on_tune/{NB201_DEFAULT}/holdout", "holdout (mean of 5 halves)"
    )
    for est in REGISTERED:
        table["nbmacro"][est] = entry("nbmacro_estimators.json", f"figures/{est}/holdout",
                                      "holdout half")  # fmt: skip
        table["mbv3"][est] = entry("nbmacro_estimators.json", f"mbv3_transfer/{est}", "all 46")
    # `rwe_paper` with its features rescaled (the shipped fix), at 2,000 / 1,000 probe images
    for space, split in (
        ("nb201", "40 development networks"),
        ("nbmacro", "40 networks over MACs"),
        ("mbv3", "all 46"),
    ):
        table[space]["rwe_paper"] = entry("rwe_paper_scale.json", f"spaces/{space}/rescaled",
                                          f"{split}, 2,000/1,000 images")  # fmt: skip
    return {s: {e: f for e, f in rows.items() if f is not None} for s, rows in table.items()}


def render(table: dict[str, Any]) -> str:
    body = json.dumps(table, indent=4, sort_keys=True).replace("null", "None")
    return (
        '"""Measured rank fidelity of each (space, estimator) pair: generated, do not edit.\n\n'
        "Written by `benchmarks/fidelity_table.py` from the committed JSONs each entry names\n"
        "(`source`, `key`); `tests/search/test_fidelity_table.py` fails if they disagree.\n"
        "Spearman rho / Kendall tau of -score against trained accuracy (higher = better).\n"
        '"""\n\n'
        "from typing import Any\n\n"
        f"MEASURED: dict[str, dict[str, dict[str, Any]]] = {body}\n"
    )


def markdown(table: dict[str, Any]) -> str:
    """One Markdown table per space: the figures of docs/concepts/estimators.md."""
    out = []
    for space in ("nb201", "nbmacro", "mbv3"):
        rows = table[space]
        out += [f"\n{space}:\n", "| estimator | Spearman | Kendall tau | networks | split | "
                "source |", "|---|---|---|---|---|---|"]  # fmt: skip
        for name, f in sorted(rows.items(), key=lambda kv: -(kv[1]["spearman"] or -9)):
            rho = "undefined" if f["spearman"] is None else f"{f['spearman']:+.3f}"
            tau = "undefined" if f["kendall_tau"] is None else f"{f['kendall_tau']:+.3f}"
            out.append(f"| {name} | {rho} | {tau} | {f['n']} | {f['split']} | "
                       f"`{f['source']}` |")  # fmt: skip
    return "\n".join(out)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--check", action="store_true")
    p.add_argument("--markdown", action="store_true", help="print the docs' tables")
    args = p.parse_args()
    table = build()
    if args.markdown:
        print(markdown(table))
        sys.exit(0)
    if args.check:
        from shiftnas.search.evaluators.fidelity_table import MEASURED

        same = table == MEASURED
        print("fidelity table agrees with the JSONs" if same else "fidelity table is stale")
        sys.exit(0 if same else 1)
    MODULE.write_text(render(table))
    subprocess.run([sys.executable, "-m", "ruff", "format", "-q", str(MODULE)], check=False)
    print(f"wrote {MODULE}")
