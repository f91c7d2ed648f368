"""Measured accuracy of networks of a space, read from the files users and benchmarks have.

Three formats, told apart by their content:
- a CSV with columns `arch,accuracy` (any extra columns ignored): `arch` in the space's string
  form (`shiftnas space describe`), accuracy in any unit where higher is better;
- the NAS-Bench-201 sample CSV (`index,arch,cifar10_test_acc_200ep`; Dong & Yang 2020,
  arXiv:2001.00326), space `nb201`;
- NAS-Bench-Macro's JSON (`{"<8 digits>": {"mean_acc", "params", "flops", ...}}`; Su et al. 2021,
  arXiv:2103.11922), space `nbmacro`, which also gives each network's params and MACs.
Every network is reduced to its canonical form, so genomes that build the same network count
once (rows that repeat one are averaged and counted in `repeated`).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from shiftnas.errors import ShiftnasError
from shiftnas.search.space import SearchSpace, get_space

NB201_COLUMN = "cifar10_test_acc_200ep"
FORMATS = "a CSV with columns arch,accuracy, the NAS-Bench-201 CSV or NAS-Bench-Macro's JSON"


@dataclass(frozen=True)
class Truth:
    """Accuracy of each distinct network (canonical string -> value, higher = better); `macs`
    and `params` where the file gives them (NAS-Bench-Macro), else empty."""

    space: str
    kind: str  # "csv", "nb201" or "nbmacro"
    path: Path
    accuracy: dict[str, float]
    macs: dict[str, float] = field(default_factory=dict)
    params: dict[str, float] = field(default_factory=dict)
    repeated: int = 0  # rows that named a network already read


def truth_space(path: Path) -> str | None:
    """The space a benchmark file belongs to (`nb201`, `nbmacro`), or None for a plain CSV."""
    kind = _kind(path)
    return {"nb201": "nb201", "nbmacro": "nbmacro"}.get(kind)


def load_truth(path: Path, space: SearchSpace | None = None) -> Truth:
    """Read `path` (see the module docstring); `space` defaults to the file's own space.

    Raises ShiftnasError (one line) for a missing or unreadable file, an unknown format, a
    benchmark file paired with another space, a row whose network is not of the space (with its
    line number) or whose accuracy is not a number."""
    kind = _kind(path)
    wanted = {"nb201": "nb201", "nbmacro": "nbmacro"}.get(kind)
    if space is None:
        if wanted is None:
            raise ShiftnasError(f"{path}: a plain arch,accuracy CSV needs --space NAME")
        space = get_space(wanted)
    elif wanted is not None and space.name != wanted:
        raise ShiftnasError(f"{path} is a {kind} benchmark file: its networks are of space "
                            f"'{wanted}', not '{space.name}': pass --space {wanted}")  # fmt: skip
    if kind == "nbmacro":
        return _nbmacro(path, space)
    column = NB201_COLUMN if kind == "nb201" else "accuracy"
    return _csv(path, space, kind, column)


def _kind(path: Path) -> str:
    if not path.is_file():
        raise ShiftnasError(f"--truth {path} does not exist: pass {FORMATS}")
    try:
        with path.open(newline="") as f:
            first = f.read(4096)
    except (OSError, UnicodeDecodeError) as err:
        raise ShiftnasError(f"{path} cannot be read as text ({err}): pass {FORMATS}") from None
    if first.lstrip().startswith("{"):
        return "nbmacro"
    header = [c.strip() for c in first.splitlines()[0].split(",")] if first.strip() else []
    if "arch" in header and NB201_COLUMN in header:
        return "nb201"
    if "arch" in header and "accuracy" in header:
        return "csv"
    raise ShiftnasError(f"{path}: header {header[:4]} is not a known truth format: pass {FORMATS}")


def _key(space: SearchSpace, text: str, where: str) -> str:
    try:
        arch = space.canonical(space.from_string(text))
    except ShiftnasError as err:
        raise ShiftnasError(f"{where}: {err}") from None
    return space.to_string(arch)


def _number(value: object, where: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ShiftnasError(f"{where}: accuracy '{value}' is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ShiftnasError(f"{where}: accuracy '{value}' is not a finite number")
    return number


def _merge(rows: list[tuple[str, float]]) -> tuple[dict[str, float], int]:
    sums: dict[str, list[float]] = {}
    for key, value in rows:
        sums.setdefault(key, []).append(value)
    return {k: sum(v) / len(v) for k, v in sums.items()}, len(rows) - len(sums)


def _csv(path: Path, space: SearchSpace, kind: str, column: str) -> Truth:
    rows = []
    with path.open(newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            where = f"{path} line {line}"
            rows.append((_key(space, row["arch"] or "", where), _number(row[column], where)))
    if not rows:
        raise ShiftnasError(f"{path} has a header but no networks: add rows arch,accuracy")
    accuracy, repeated = _merge(rows)
    return Truth(space.name, kind, path, accuracy, repeated=repeated)


def _nbmacro(path: Path, space: SearchSpace) -> Truth:
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ShiftnasError(f"{path} is not valid JSON: {err.msg} at line {err.lineno}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ShiftnasError(f"{path}: expected NAS-Bench-Macro's {{genome: {{mean_acc, ...}}}}")
    accuracy, macs, params, rows = {}, {}, {}, 0
    for genome, record in data.items():
        where = f"{path} network {genome}"
        key = _key(space, genome, where)
        rows += 1
        if key in accuracy:
            continue  # every genome carries its canonical network's record
        if "mean_acc" not in record:
            raise ShiftnasError(f"{where}: no mean_acc: is this NAS-Bench-Macro's file?")
        accuracy[key] = _number(record["mean_acc"], where)
        macs[key] = _number(record["flops"], where) if "flops" in record else None
        params[key] = _number(record["params"], where) if "params" in record else None
    clean = lambda d: {k: v for k, v in d.items() if v is not None}  # noqa: E731
    return Truth(space.name, "nbmacro", path, accuracy, clean(macs), clean(params),
                 repeated=rows - len(accuracy))  # fmt: skip
