"""What a user types, turned into a config, a search space and an architecture, in one place.

Every command that reads a config takes `--config/-c PATH`; every command that takes one
network takes `--arch VALUE`; every command that builds a space without a run defaults to
`mbv3`, or to the config's space when `--config` is given. The options themselves (one
definition, one help text each) are in `cli/options.py`. The library is imported inside the
functions, when a command runs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shiftnas.cli.options import DEFAULT_SPACE
from shiftnas.errors import ShiftnasError

if TYPE_CHECKING:
    from shiftnas.search import Arch, SearchSpace

ARCH_ID = re.compile(r"[0-9a-f]{12}")


def one_config(positional: Path | None, option: Path | None) -> Path | None:
    """The config of `shiftnas run`, given as `CONFIG` (shorthand) or `--config`, not both."""
    if positional is not None and option is not None:
        raise ShiftnasError(
            f"two configs given ({positional} and --config {option}): pass one of them"
        )
    return option if option is not None else positional


def space_name(space: str | None, config: Any = None) -> str:
    """`--space`, else the config's space, else `mbv3`; a `--space` the config contradicts is
    refused (`ShiftnasError`)."""
    if config is None:
        return space or DEFAULT_SPACE
    if space is not None and space != config.space.name:
        raise ShiftnasError(
            f"--space {space} contradicts the config's space '{config.space.name}': "
            "drop --space (the config sets the space)"
        )
    return str(config.space.name)


def load_space(
    space: str | None, config: Path | None, num_classes: int | None = None
) -> SearchSpace:
    """The default skeleton of `space` (default `mbv3`), or the space a run of `config` builds.

    A pipeline sizes the head from its data, so with a config the data is loaded to learn the
    number of classes unless `num_classes` is given: a table or profile made here then fits
    that run's space. Raises `ShiftnasError` for an unknown space, a bad config or bad data.
    """
    from shiftnas.search import get_space

    overrides = {} if num_classes is None else {"num_classes": num_classes}
    if config is None:
        return get_space(space_name(space), **overrides)
    from shiftnas.pipeline.config import load_config

    cfg = load_config(config)
    name = space_name(space, cfg)
    if num_classes is None:
        from shiftnas.data import load_data

        overrides["num_classes"] = load_data(cfg.data, cfg.seed, cfg.space).num_classes
    return get_space(name, cfg.space, **overrides)


def run_space(run_dir: Path) -> SearchSpace:
    """The space of a run's config, for reading architectures only: the head is left at its
    default size, since genomes, validation and ids do not depend on the number of classes."""
    from shiftnas.pipeline.rundir import RunDir
    from shiftnas.search import get_space

    config = RunDir(run_dir).load_config()
    return get_space(config.space.name, config.space)


def _is_file(path: Path) -> bool:
    """Whether `path` names a file; a genome string too long for a file name is not one."""
    try:
        return path.is_file()
    except OSError:  # ENAMETOOLONG
        return False


def _arch_file(path: Path) -> Arch:
    import yaml

    from shiftnas.search import Arch

    if path.suffix == ".json" or not _is_file(path):
        return Arch.load(path)  # its own one-line errors: missing file, bad JSON
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ShiftnasError(f"architecture file {path} is not valid YAML{where}") from None
    return Arch.from_json(data)


def find_arch_id(run_dir: Path, arch_id: str) -> Arch | None:
    """The architecture with this id in the run: its search archive, else `retrain/<id>/`."""
    from shiftnas.search import Arch
    from shiftnas.search.nsga.archive import Archive

    archive = Path(run_dir) / "search" / "archive.jsonl"
    if archive.is_file():
        record = Archive(archive).records.get(arch_id)
        if record is not None:
            return Arch.from_json(record["arch"])
    retrained = Path(run_dir) / "retrain" / arch_id / "arch.json"
    return Arch.load(retrained) if retrained.is_file() else None


def resolve_arch(value: str, space: SearchSpace, run_dir: Path | None = None) -> Arch:
    """`--arch VALUE` as the canonical architecture of `space`.

    VALUE is, tried in this order: a JSON/YAML file `{space, genome}` (a path that exists, or
    ends in .json/.yaml/.yml), a genome string of the space, an architecture id (12 hex
    digits) looked up in `run_dir`'s search archive and `retrain/` folders. Raises
    `ShiftnasError` naming what was tried and what to pass instead.
    """
    path = Path(value)
    if path.suffix in (".json", ".yaml", ".yml") or _is_file(path):
        return space.canonical(space.validate(_arch_file(path)))
    try:
        return space.canonical(space.from_string(value))
    except ShiftnasError as err:
        genome_error = str(err)
    if not ARCH_ID.fullmatch(value):
        raise ShiftnasError(
            f"--arch {value} is no file, no architecture id (12 hex digits) and not a genome "
            f"of space '{space.name}' ({genome_error})"
        )
    if run_dir is None:
        raise ShiftnasError(
            f"--arch {value} looks like an architecture id, which is looked up in a run: pass "
            "--run-dir D too, or a genome string or a JSON/YAML file"
        )
    found = find_arch_id(run_dir, value)
    if found is None:
        raise ShiftnasError(
            f"--arch {value}: no architecture with this id in "
            f"{Path(run_dir) / 'search' / 'archive.jsonl'} or {Path(run_dir) / 'retrain'}/: pass "
            "an id of that run (search/pareto.json lists them), a genome string or a file"
        )
    return space.canonical(space.validate(found))
