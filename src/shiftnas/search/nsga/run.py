"""`run_search`: NSGA-II over a space, resumable, every evaluation archived.

Files in `out_dir` (the run's `search/` folder):
  settings.json   what this search is (space, measures, budgets, algorithm settings, seed);
                  a different search in the same folder is refused
  archive.jsonl   every evaluated network and its measures (the cache, also across resume)
  checkpoint.pkl  the algorithm after the last completed generation (atomic)
  metrics.jsonl   per generation: normalised hypervolume, front size, best of each objective
  pareto.json     the final front: the non-dominated feasible networks among everything
                  evaluated (`population_front`: those of the last population); pareto.png
                  its pairwise scatter
Kill it at any point and call it again with the same arguments: it goes on from the last
completed generation, takes every network already evaluated from the archive, and ends with the
same front and archive as an uninterrupted run. Calling it with more `generations` extends a
finished search exactly as if it had been asked for them at once; with fewer, it ends at the
generation already reached.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypedDict

import numpy as np
from pymoo.core.callback import Callback
from pymoo.core.evaluator import Evaluator as PymooEvaluator
from pymoo.problems.static import StaticProblem
from pymoo.termination import get_termination

from shiftnas.files import (
    append_jsonl,
    read_jsonl,
    write_text_atomic,
)  # fmt: skip
from shiftnas.progress import make_progress
from shiftnas.search.nsga.algorithm import make_nsga2
from shiftnas.search.nsga.archive import Archive, Values
from shiftnas.search.nsga.checkpoint import SearchState, bind_run_folder, load_state, save_state
from shiftnas.search.nsga.evaluation import Engine
from shiftnas.search.nsga.metrics import fixed_bounds, front_indices, generation_record
from shiftnas.search.nsga.objectives import (
    Budget,
    Measure,
    check_not_blind,
    check_some_feasible,
    constraint_matrix,
)
from shiftnas.search.nsga.report import plot_pareto, write_pareto_json
from shiftnas.search.nsga.seeding import spread_genomes
from shiftnas.search.settings import SearchConfig
from shiftnas.search.space import SearchSpace


class MetricsSink(Protocol):
    """Where per-generation metrics go besides `metrics.jsonl`: in the pipeline, its
    `shiftnas.tracking.Tracker` (MLflow), of which this is the one method a search needs."""

    def log_metrics(self, metrics: dict[str, float], step: int) -> None: ...


class FrontMember(TypedDict):
    """One network of the Pareto front, as `search/pareto.json` stores it."""

    id: str  # the canonical architecture's id (12 hex digits)
    arch: dict[str, Any]  # `Arch.to_json()`: {space, genome}
    string: str  # the space's string form of the genome
    objectives: dict[str, float]  # each search objective's value, all minimised


@dataclass(frozen=True)
class SearchResult:
    front: list[FrontMember]
    objectives: list[str]
    generations: int
    evaluations: int  # distinct networks in the archive
    hypervolume: float
    out_dir: Path
    stopped: str | None = None  # why the search ended before `generations`, if it did


class GenerationLogger(Callback):
    """pymoo's per-generation hook: writes the metrics line and forwards it to a tracker."""

    def __init__(self, path: Path, names: list[str], tracker: MetricsSink | None) -> None:
        super().__init__()
        self.path, self.names, self.tracker = path, names, tracker
        self.last: dict[str, Any] = {}
        self.bounds: dict[str, tuple[float, float]] = {}
        self.generation = 0
        self.evaluations = 0

    def notify(self, algorithm: Any) -> None:
        F, feasible = algorithm.pop.get("F"), algorithm.pop.get("feas")
        self.last = generation_record(
            self.generation, F, feasible, self.names, self.bounds, self.evaluations
        )
        append_jsonl(self.path, self.last)
        if self.tracker is not None:
            flat = {k: float(v) for k, v in self.last.items() if k not in ("best", "generation")}
            flat.update({f"best_{k}": v for k, v in self.last["best"].items() if v is not None})
            self.tracker.log_metrics(flat, step=self.generation)


def run_search(
    space: SearchSpace,
    objectives: Sequence[Measure],
    settings: SearchConfig,
    out_dir: Path,
    seed: int,
    budgets: Sequence[Budget] = (),
    progress: bool = True,
    tracker: MetricsSink | None = None,
) -> SearchResult:
    """Run (or resume) NSGA-II minimising `objectives` subject to `budgets`."""
    out_dir = Path(out_dir)
    names = [m.name for m in objectives]
    measures = list(objectives) + _extra_measures(objectives, budgets)
    bind_run_folder(out_dir / "settings.json", space, names, budgets, settings, seed)
    archive = Archive(out_dir / "archive.jsonl")
    state = load_state(out_dir / "checkpoint.pkl")
    if state is None:
        state = _new_state(space, objectives, budgets, settings, seed)
    else:
        _rescale_population(state, archive, budgets)
    # `generations` may change between calls (extend a finished search, or stop a long one at
    # the generation reached): the state after generation g never depends on the target
    state.algorithm.termination = get_termination("n_gen", settings.generations)
    metrics_path = out_dir / "metrics.jsonl"
    _trim_metrics(metrics_path, state.generation)
    logger = GenerationLogger(metrics_path, names, tracker)
    engine = Engine(
        measures, budgets, archive, space.to_string, settings.workers, settings.skip_infeasible,
        ray=settings.ray if settings.executor == "ray" else None,
    )  # fmt: skip
    stopped = None
    with engine, make_progress(progress) as bar:
        task = bar.add_task("search", total=settings.generations, completed=state.generation)
        while state.generation < settings.generations:
            algorithm = state.algorithm
            pop = algorithm.ask()
            if pop is None or len(pop) == 0:  # the operators found no network not seen before
                stopped = (
                    f"ended after generation {state.generation} of {settings.generations}: "
                    f"NSGA-II found no network it had not evaluated yet ({len(archive)} distinct "
                    "networks evaluated; the space may hold no more)"
                )
                break
            archs = algorithm.problem.archs(pop.get("X"))
            values = engine.evaluate(archs, state.generation + 1)
            check_not_blind(measures, values, state.generation + 1)
            if hasattr(algorithm.eliminate_duplicates, "record"):  # (older checkpoints: no)
                algorithm.eliminate_duplicates.record(archs)
            F = _objective_matrix(values, names)
            extra = {"G": _constraint_matrix(values, budgets)} if budgets else {}
            PymooEvaluator().eval(StaticProblem(algorithm.problem, F=F, **extra), pop)
            algorithm.tell(infills=pop)
            state.generation += 1
            if state.bounds is None:
                state.bounds = fixed_bounds(
                    objectives, {b.measure.name: b.limit for b in budgets}, F
                )
            logger.bounds, logger.generation = state.bounds, state.generation
            logger.evaluations = len(archive)
            logger(algorithm)
            save_state(out_dir / "checkpoint.pkl", state)
            bar.update(
                task,
                completed=state.generation,
                description=f"search hv={logger.last['hypervolume']:.4f}",
            )
    return _finish(out_dir, space, state, archive, names, budgets, stopped)


def _new_state(
    space: SearchSpace,
    objectives: Sequence[Measure],
    budgets: Sequence[Budget],
    settings: SearchConfig,
    seed: int,
) -> SearchState:
    initial = None
    if settings.initial_population == "spread":
        initial = spread_genomes(space, objectives, budgets, settings.population, seed)
    algorithm = make_nsga2(
        space, len(objectives), len(budgets), population=settings.population,
        generations=settings.generations, seed=seed, crossover_prob=settings.crossover_prob,
        mutation_eta=settings.mutation_eta, mutation_prob=settings.mutation_prob,
        novel=settings.novel_offspring, initial=initial,
    )  # fmt: skip
    return SearchState(algorithm, bounds=None, generation=0)


def _extra_measures(objectives: Sequence[Measure], budgets: Sequence[Budget]) -> list[Measure]:
    """Measures that only a budget needs (e.g. a params budget without a params objective)."""
    seen = {m.name for m in objectives}
    extra = []
    for budget in budgets:
        if budget.measure.name not in seen:
            seen.add(budget.measure.name)
            extra.append(budget.measure)
    return extra


def _objective_matrix(values: list[Values], names: list[str]) -> np.ndarray:
    # a network skipped for breaking a cheap budget is infeasible; pymoo never ranks its F
    return np.array([[np.inf if v[n] is None else v[n] for n in names] for v in values], float)


def _constraint_matrix(values: list[Values], budgets: Sequence[Budget]) -> np.ndarray:
    # relative to each limit (`Budget.violation`); unknown (skipped) values add no violation
    return constraint_matrix(values, budgets)


def _rescale_population(state: SearchState, archive: Archive, budgets: Sequence[Budget]) -> None:
    """Recompute the checkpointed population's `G` from the archive, so a search checkpointed
    by a version that used raw units goes on with every violation on the same scale."""
    pop = state.algorithm.pop
    if not budgets or pop is None or not len(pop):
        return
    archs = state.algorithm.problem.archs(pop.get("X"))
    if not all(a.id in archive for a in archs):
        return
    G = _constraint_matrix([archive.values(a.id) for a in archs], budgets)
    for individual, g in zip(pop, G, strict=True):
        individual.G, individual.CV = g, None  # CV is computed again from G when read


def _trim_metrics(path: Path, generations: int) -> None:
    """Drop metrics lines of generations after the checkpoint: they will be computed again."""
    lines = [r for r in read_jsonl(path) if r.get("generation", 0) <= generations]
    if path.exists():
        write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in lines))


def _feasible(values: Values, budgets: Sequence[Budget]) -> bool:
    return all(
        values[b.measure.name] is not None and values[b.measure.name] <= b.limit for b in budgets
    )


def _finish(
    out_dir: Path,
    space: SearchSpace,
    state: SearchState,
    archive: Archive,
    names: list[str],
    budgets: Sequence[Budget],
    stopped: str | None = None,
) -> SearchResult:
    records = archive.all()
    check_some_feasible(budgets, [r["objectives"] for r in records])  # archive and checkpoint kept
    # the front is taken from every network evaluated, not only the last population: NSGA-II's
    # crowding truncation drops non-dominated networks (benchmarks/search_levers_nb201.py)
    all_F = _objective_matrix([r["objectives"] for r in records], names)
    all_feasible = np.array([_feasible(r["objectives"], budgets) for r in records], bool)
    front = [records[i] for i in front_indices(all_F, all_feasible)]
    front.sort(key=lambda r: [r["objectives"][n] for n in names])
    pop = state.algorithm.pop
    archs = state.algorithm.problem.archs(pop.get("X"))
    population_front = list(
        dict.fromkeys(archs[i].id for i in front_indices(pop.get("F"), pop.get("feas")))
    )
    last = list(read_jsonl(out_dir / "metrics.jsonl"))
    hv = float(last[-1]["hypervolume"]) if last else 0.0
    payload = {
        "space": space.name,
        "objectives": names,
        "bounds": state.bounds,
        "budgets": {b.measure.name: b.limit for b in budgets},
        "generations": state.generation,
        "evaluations": len(archive),
        "hypervolume": hv,
        "front": [
            {
                "id": r["id"],
                "arch": r["arch"],
                "string": r["string"],
                "objectives": {n: r["objectives"][n] for n in names},
            }
            for r in front
        ],
        "archive_front": [r["id"] for r in front],  # the same networks as `front`
        "population_front": population_front,
        "stopped": stopped,
    }
    write_pareto_json(out_dir / "pareto.json", payload)
    front_F = _objective_matrix([r["objectives"] for r in front], names)
    plot_pareto(out_dir / "pareto.png", names, all_F, all_feasible, front_F.reshape(-1, len(names)))
    return SearchResult(
        payload["front"], names, state.generation, len(archive), hv, out_dir, stopped
    )
