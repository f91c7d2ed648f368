"""Ground truth for the `mbv3` benchmarks on CIFAR-10: networks trained stand-alone under one
fixed budget, kept in `benchmarks/results/mbv3_standalone.csv` so no network is trained twice.

Shared by `supernet_ranking.py` and `search_vs_random.py`. One row per (network, budget): the
genome (`arch`, genes joined by '-'), MACs and parameters (fvcore), test accuracy on the 10,000
test images (fraction), validation accuracy, wall and CPU seconds of the training, and the budget
it was trained under. A network is trained in its own folder with checkpoints, so a killed
training resumes; its row is appended only once it has finished.
"""

from __future__ import annotations

import csv
import functools
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PRESET = ROOT / "configs" / "cifar10-cpu.yaml"
CSV = ROOT / "benchmarks" / "results" / "mbv3_standalone.csv"
COLUMNS = ("arch", "macs", "params", "test_acc", "val_acc", "seconds", "cpu_seconds", "budget")


@dataclass(frozen=True)
class Budget:
    """One fixed training recipe for every ground-truth network (from scratch, one thread)."""

    epochs: int = 2
    train_images: int = 20_000  # seeded subset of the 50,000; val_fraction of it is validation
    val_fraction: float = 0.2
    batch_size: int = 128
    lr: float = 0.1
    seed: int = 0  # the image subset, its validation split and (unless train_seed) the training
    train_seed: int | None = None  # another initialisation and batch order on the same images

    @property
    def key(self) -> str:
        """The budget's name in the CSV; `train_seed` appears only when set, so rows written
        before it existed keep their key."""
        return ";".join(f"{k}={v}" for k, v in asdict(self).items() if v is not None)

    @property
    def training_seed(self) -> int:
        return self.seed if self.train_seed is None else self.train_seed

    @property
    def folder(self) -> str:
        """Where this budget's networks keep their checkpoints, under the work folder: one folder
        per recipe (`standalone` for the default, `standalone-epochs=3-train_seed=1`...), so a
        checkpoint is never resumed under another recipe."""
        default = asdict(Budget())
        changed = [f"{k}={v}" for k, v in asdict(self).items() if v != default[k]]
        return "-".join(["standalone", *changed])

    def data_config(self, preset: Any) -> Any:
        return preset.data.model_copy(
            update={"max_train_images": self.train_images, "val_fraction": self.val_fraction}
        )

    def retrain_config(self, preset: Any) -> Any:
        return preset.retrain.model_copy(
            update={"epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr,
                    "init": "scratch", "checkpoint_every_steps": 50}
        )  # fmt: skip


def add_training_arguments(parser: Any, out: Path, work: Path) -> None:
    """The options both benchmarks share: the stand-alone budget, processes and file places."""
    parser.add_argument("--workers", type=int, default=2, help="processes, one thread each")
    parser.add_argument("--epochs", type=int, default=Budget.epochs, help="stand-alone budget")
    parser.add_argument("--train-images", type=int, default=Budget.train_images)
    parser.add_argument("--out", type=Path, default=out)
    parser.add_argument("--csv", type=Path, default=CSV, help="the ground-truth table")
    parser.add_argument("--work", type=Path, default=work, help="checkpoints (resumable)")


def load_preset(path: Path = PRESET) -> Any:
    """The preset's config, with its relative data paths made absolute (they are written for the
    repository root)."""
    from shiftnas.pipeline.config import load_config

    config = load_config(path)
    update = {}
    for key in ("root", "cache_dir"):
        value = getattr(config.data, key)
        if value is not None and not Path(value).is_absolute():
            update[key] = (ROOT / value).resolve()
    return config.model_copy(update={"data": config.data.model_copy(update=update)})


def preset_space(preset: Any) -> Any:
    from shiftnas.search import get_space

    return get_space("mbv3", preset.space)


@functools.cache
def _op_costs(space: Any) -> tuple[tuple[int, int], dict[tuple[int, int], tuple[int, int]]]:
    """fvcore (MACs, parameters) of the stem + head and of every (layer, gene) op on its own."""
    from shiftnas.profiling import network_cost
    from shiftnas.search import Arch

    s = space.settings
    base = space.build(Arch(space.name, (12,) * space.num_layers))  # 1x1 convolutions only
    whole = network_cost(base, (1, s.in_channels, s.input_size, s.input_size))
    ops = {}
    for spec in space.layer_specs:
        for gene in sorted({space.canonical_gene(spec.index, g) for g in range(13)}):
            c = network_cost(space.build_op(spec.index, gene),
                             (1, spec.in_channels, spec.input_size, spec.input_size))  # fmt: skip
            ops[spec.index, gene] = (c.macs, c.params)
    layers = [ops[i, 12] for i in range(space.num_layers)]
    rest = (whole.macs - sum(m for m, _ in layers), whole.params - sum(p for _, p in layers))
    return rest, ops


def cost(space: Any, arch: Any) -> tuple[int, int]:
    """(MACs, parameters) of one network at the space's input size: the sum of its ops' costs
    and the stem and head's, each counted once by fvcore (a network is a chain of them)."""
    (macs, params), ops = _op_costs(space)
    for i, gene in enumerate(space.canonical(arch).genome):
        m, p = ops[i, gene]
        macs, params = macs + m, params + p
    return macs, params


def filter_twin(space: Any, arch: Any) -> Any | None:
    """The same network with the filter flipped on every stride-2 block: without it when `arch`
    has it anywhere, with it otherwise; None when no block can carry it (all 1x1 convolutions)."""
    has = space.without_filter(arch) != space.canonical(arch)
    twin = space.without_filter(arch) if has else space.with_filter(arch)
    return None if twin == space.canonical(arch) else twin


def stratified_with_twins(space: Any, strata: int, seed: int, pool: int = 400) -> list[Any]:
    """`2 * strata` networks: `pool` random networks sorted by MACs and cut into `strata` groups of
    equal size; one random network of each group that has a filter twin, and that twin."""
    rng = np.random.default_rng([seed, 11])
    archs = {a.id: a for a in (space.sample(rng) for _ in range(pool))}
    ranked = sorted(archs.values(), key=lambda a: cost(space, a)[0])
    picked: list[Any] = []
    for group in np.array_split(np.arange(len(ranked)), strata):
        for i in rng.permutation(group):
            twin = filter_twin(space, ranked[i])
            if twin is not None and ranked[i] not in picked and twin not in picked:
                picked += [ranked[i], twin]
                break
    return picked


def read_rows(path: Path = CSV, budget: Budget | None = None) -> dict[str, dict[str, Any]]:
    """Finished networks by genome string (of `budget` only, when given); a torn last line (a
    kill during the append) is skipped."""
    if not path.exists():
        return {}
    rows = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if None in row.values() or (budget is not None and row["budget"] != budget.key):
                continue
            try:
                parsed = {
                    k: float(row[k]) for k in ("test_acc", "val_acc", "seconds", "cpu_seconds")
                }
                parsed.update(macs=int(row["macs"]), params=int(row["params"]))
            except ValueError:
                continue
            rows[row["arch"]] = {**row, **parsed}
    return rows


def append_row(row: dict[str, Any], path: Path = CSV) -> None:
    """Append one finished network (the header first when the file is new)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or path.stat().st_size == 0
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow({k: row[k] for k in COLUMNS})
        handle.flush()


def train_standalone(genome: str, budget: Budget, work: Path, preset_path: Path = PRESET) -> dict:
    """Train one network under `budget` in `work/<genome>` (resumable), one thread; its row."""
    import torch

    torch.set_num_threads(1)
    from shiftnas.data import load_data
    from shiftnas.training.retrain import retrain

    preset = load_preset(preset_path)
    space = preset_space(preset)
    arch = space.from_string(genome)
    data = load_data(budget.data_config(preset), budget.seed)
    started, cpu = time.perf_counter(), time.process_time()
    done = retrain(
        space, arch, data, budget.retrain_config(preset), work / genome,
        seed=budget.training_seed, progress=False,
    )  # fmt: skip
    last = done.result.history[-1] if done.result.history else {}
    if "test_acc" not in last:  # finished earlier: evaluate the checkpoint again
        from shiftnas.training.retrain import evaluate_split, load_retrained

        model = load_retrained(space, work / genome).model
        device = torch.device("cpu")
        last = {f"{name}_acc": evaluate_split(model, split, data.mean, data.std, device)[1]
                for name, split in (("test", data.test), ("val", data.val))}  # fmt: skip
    macs, params = cost(space, arch)
    return {
        "arch": genome, "macs": macs, "params": params,
        "test_acc": round(float(last["test_acc"]), 4), "val_acc": round(float(last["val_acc"]), 4),
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1), "budget": budget.key,
    }  # fmt: skip
