"""Where `shiftnas fidelity` gets an estimate: an estimator run here, an `eval` CSV, a run's
search archive. Each returns {canonical network string: score}, lower = predicted better."""

from __future__ import annotations

from pathlib import Path

from shiftnas.errors import ShiftnasError
from shiftnas.progress import make_progress

CHUNK = 16  # networks per progress update


def _canonical(space, text: str) -> str:  # type: ignore[no-untyped-def]
    return space.to_string(space.canonical(space.from_string(text)))


def read_eval_csv(path: Path, space_name: str) -> dict[str, float]:
    from shiftnas.search.evaluators.batch import read_scores
    from shiftnas.search.space import get_space

    if not path.is_file():
        raise ShiftnasError(f"--scores {path} does not exist: pass the CSV `shiftnas eval --out` "
                            "wrote")  # fmt: skip
    space = get_space(space_name)
    return {_canonical(space, arch): score for arch, (score, _) in read_scores(path).items()}


def archive_scores(run_dir: Path, space_name: str) -> dict[str, float]:
    """The `error` objective of every network the run's search evaluated."""
    from shiftnas.cli.resolve import run_space
    from shiftnas.search.nsga.archive import Archive

    space = run_space(run_dir)
    if space.name != space_name:
        raise ShiftnasError(f"{run_dir} searched space '{space.name}', the truth is of "
                            f"'{space_name}': pass a truth of that space")  # fmt: skip
    path = Path(run_dir) / "search" / "archive.jsonl"
    if not path.is_file():
        raise ShiftnasError(f"{path} does not exist: run the search stage first")
    archive = Archive(path)
    out = {}
    for record in archive.records.values():
        if "error" not in record["objectives"]:
            raise ShiftnasError(f"{path}: the search had no error objective to judge: pass "
                                "--estimator NAME instead")  # fmt: skip
        arch = space.canonical(space.validate(_arch(record["arch"])))
        out[space.to_string(arch)] = float(record["objectives"]["error"])
    return out


def _arch(data):  # type: ignore[no-untyped-def]
    from shiftnas.arch import Arch

    return Arch.from_json(data)


def estimator_scores(
    name: str, space_name: str, keys: list[str], config: Path | None, run_dir: Path | None,
    seed: int, device: str, progress: bool,
) -> dict[str, float]:  # fmt: skip
    """Score `keys` with estimator `name`: on the config's data and skeleton, or, for
    `inherited`, with the supernet of `run_dir`."""
    from shiftnas.device import resolve_device
    from shiftnas.search.evaluators import get_evaluator, list_evaluators
    from shiftnas.search.space import get_space

    if name == "inherited":
        evaluator, space = _inherited(run_dir, space_name)
    else:
        if name not in list_evaluators():
            raise ShiftnasError(f"unknown estimator '{name}': choose one of "
                                f"{', '.join(list_evaluators())}")  # fmt: skip
        data, settings = None, None
        if config is not None:
            from shiftnas.data import load_data
            from shiftnas.pipeline.config import load_config

            cfg = load_config(config)
            if cfg.space.name != space_name:
                raise ShiftnasError(
                    f"--config {config} is for space '{cfg.space.name}', the truth for "
                    f"'{space_name}': pass a config of that space"
                )
            data, settings = load_data(cfg.data, seed, cfg.space), cfg.space
        elif name not in ("synflow", "macs", "params"):
            raise ShiftnasError(f"estimator '{name}' looks at images: pass -c CONFIG whose data "
                                "the truth's networks were trained on")  # fmt: skip
        overrides = {} if data is None else {"num_classes": data.num_classes}
        space = get_space(space_name, settings, **overrides)
        evaluator = get_evaluator(name, space=space, data=data, seed=seed,
                                  device=resolve_device(device))  # fmt: skip
    archs = [space.from_string(k) for k in keys]
    out: dict[str, float] = {}
    with make_progress(progress) as bar:
        task = bar.add_task(f"fidelity {name}", total=len(archs))
        for start in range(0, len(archs), CHUNK):
            chunk = archs[start : start + CHUNK]
            for arch, score in zip(chunk, evaluator.evaluate(chunk), strict=True):
                out[space.to_string(space.canonical(arch))] = float(score)
            bar.update(task, completed=start + len(chunk))
    return out


def _inherited(run_dir: Path | None, space_name: str):  # type: ignore[no-untyped-def]
    if run_dir is None:
        raise ShiftnasError("--estimator inherited needs --run-dir D (a run with a supernet)")
    from shiftnas.data import load_data
    from shiftnas.device import resolve_device
    from shiftnas.pipeline.objectives import inherited_evaluator
    from shiftnas.pipeline.rundir import RunDir
    from shiftnas.search.space import get_space
    from shiftnas.search.supernet import load_supernet

    run = RunDir(run_dir)
    cfg = run.load_config()
    if cfg.space.name != space_name:
        raise ShiftnasError(f"{run_dir} trained a supernet of '{cfg.space.name}', the truth "
                            f"is of '{space_name}': pass a truth of that space")  # fmt: skip
    ckpt = run.stage("supernet") / "checkpoint.pt"
    if not ckpt.exists():
        raise ShiftnasError(f"no supernet in {run_dir}: run `shiftnas supernet train` first")
    data = load_data(cfg.data, cfg.seed, cfg.space)
    space = get_space(cfg.space.name, cfg.space, num_classes=data.num_classes)
    device = resolve_device(cfg.device)
    return inherited_evaluator(cfg, load_supernet(space, ckpt, device), data, device), space
