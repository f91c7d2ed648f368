"""Does the preset's search find better networks than chance at the same cost?

    .venv/bin/python benchmarks/search_vs_random.py [--run-dir runs/cifar10-cpu] [--n 4]

Searched networks: those the run's select stage picked (`select/selected.json`), then the other
members of its final front (`search/pareto.json`) by inherited error, until there are `n`.
Partners: for each, the first random network of the space (seeded) whose MACs are within
`--tolerance` (10%) of it. Every network is trained stand-alone under the ground-truth budget of
`_standalone.Budget` (the same as `supernet_ranking.py`, so a network trained there is read from
`benchmarks/results/mbv3_standalone.csv` instead of trained again) and tested on the 10,000 test
images. Writes `benchmarks/results/search_vs_random.json`: `pairs` (searched/random arch, MACs,
test accuracy as fractions), `mean_gain_pts` (mean of searched - random, in percentage points)
and `wins` (pairs the searched network wins). Needs a finished `search` stage of the preset run
(`benchmarks/cifar10_cpu_run.py`). Resumable: run it again after a kill.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from _machine import machine_info  # noqa: E402
from _standalone import (  # noqa: E402
    PRESET,
    Budget,
    add_training_arguments,
    append_row,
    cost,
    load_preset,
    preset_space,
    read_rows,
    train_standalone,
)

OUT = ROOT / "benchmarks" / "results" / "search_vs_random.json"
WORK = ROOT / "runs" / "bench-search-vs-random"


def searched_networks(space: Any, run_dir: Path, n: int) -> list[Any]:
    """The selected networks, then the rest of the front by inherited error, `n` at most."""
    from shiftnas.search import Arch

    selected = run_dir / "select" / "selected.json"
    pareto = run_dir / "search" / "pareto.json"
    if not pareto.exists():
        raise SystemExit(f"{pareto} is missing: run the preset's search first "
                         "(benchmarks/cifar10_cpu_run.py)")  # fmt: skip
    members = json.loads(selected.read_text())["selected"] if selected.exists() else []
    front = json.loads(pareto.read_text())["front"]
    members += sorted(front, key=lambda m: m["objectives"]["error"])
    picked: list[Any] = []
    for member in members:
        arch = space.canonical(Arch.from_json(member["arch"]))
        if arch not in picked:
            picked.append(arch)
    return picked[:n]


def random_partner(space: Any, arch: Any, tolerance: float, seed: int, tries: int = 5000) -> Any:
    """The first seeded random network other than `arch` with MACs within `tolerance` of it."""
    target = cost(space, arch)[0]
    rng = np.random.default_rng([seed, 23, *arch.genome])
    for _ in range(tries):
        other = space.sample(rng)
        if other != arch and abs(cost(space, other)[0] - target) <= tolerance * target:
            return other
    raise SystemExit(f"no random network within {tolerance:.0%} of {target} MACs in {tries} tries")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run-dir", type=Path, default=ROOT / "runs" / "cifar10-cpu")
    parser.add_argument("--n", type=int, default=4, help="searched networks (pairs)")
    parser.add_argument("--tolerance", type=float, default=0.10, help="MACs, relative")
    parser.add_argument("--seed", type=int, default=0)
    add_training_arguments(parser, OUT, WORK)
    args = parser.parse_args()
    budget = Budget(epochs=args.epochs, train_images=args.train_images)
    space = preset_space(load_preset())
    searched = searched_networks(space, args.run_dir, args.n)
    partners = [random_partner(space, a, args.tolerance, args.seed) for a in searched]
    genomes = [space.to_string(a) for a in searched + partners]
    done = read_rows(args.csv, budget)
    todo = list(dict.fromkeys(g for g in genomes if g not in done))
    with ProcessPoolExecutor(args.workers) as pool:
        for row in pool.map(train_standalone, todo, [budget] * len(todo),
                            [args.work] * len(todo)):  # fmt: skip
            append_row(row, args.csv)
            print(f"{row['arch']:>14} test acc {row['test_acc']:.4f}", flush=True)
    rows = read_rows(args.csv, budget)
    pairs = []
    for s, r in zip(searched, partners, strict=True):
        a, b = rows[space.to_string(s)], rows[space.to_string(r)]
        pairs.append({
            "searched_arch": space.to_string(s), "random_arch": space.to_string(r),
            "searched_macs": a["macs"], "random_macs": b["macs"],
            "searched_acc": a["test_acc"], "random_acc": b["test_acc"],
        })  # fmt: skip
    gains = [p["searched_acc"] - p["random_acc"] for p in pairs]
    result = {
        "pairs": pairs,
        "mean_gain_pts": round(100 * float(np.mean(gains)), 2),
        "wins": sum(g > 0 for g in gains),
        "n_pairs": len(pairs),
        "settings": {"budget": budget.key, "tolerance": args.tolerance, "seed": args.seed,
                     "run_dir": str(args.run_dir), "preset": str(PRESET.relative_to(ROOT))},
        "notes": "accuracies are fractions on the 10,000 test images; gain in percentage points",
        "machine": machine_info(),
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wins {result['wins']}/{len(pairs)}, mean gain {result['mean_gain_pts']:+.2f} points; "
          f"wrote {args.out}")  # fmt: skip


if __name__ == "__main__":
    main()
