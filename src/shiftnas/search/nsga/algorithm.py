"""pymoo NSGA-II over a search space's integer genome, with the papers' operators.

Source: Deb, Pratap, Agarwal, Meyarivan 2002, "A fast and elitist multiobjective genetic
algorithm: NSGA-II", IEEE Transactions on Evolutionary Computation 6(2):182-197 (no arXiv).

Binary tournament selection (pymoo's NSGA-II default: constraint violation first, then
domination, then crowding), two-point crossover, polynomial mutation whose real-valued result is
rounded back to integers, and duplicate elimination on canonical architectures: two genomes that
build the same network (`space.canonical`) count as one. With `novel=True` an offspring is also
dropped (and another one bred) when its network was evaluated in an earlier generation, so every
generation spends its whole population on networks the search has not seen.
"""

from __future__ import annotations

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.core.duplicate import DefaultDuplicateElimination
from pymoo.core.problem import Problem
from pymoo.core.repair import Repair
from pymoo.core.sampling import Sampling
from pymoo.operators.crossover.pntx import TwoPointCrossover
from pymoo.operators.mutation.pm import PM
from pymoo.termination import get_termination

from shiftnas.arch import Arch
from shiftnas.search.space import SearchSpace


class ArchProblem(Problem):
    """Bounds and sizes only: evaluation happens outside pymoo (ask and tell).

    The real-valued bounds reach half a step beyond the integer ones, so that after rounding
    mutation lands on the first and last value of a gene as often as on the others.
    """

    def __init__(self, space: SearchSpace, n_obj: int, n_constr: int) -> None:
        low, high = space.genome_bounds
        self.space = space
        self.int_low = np.asarray(low, dtype=int)
        self.int_high = np.asarray(high, dtype=int)
        super().__init__(
            n_var=len(low),
            n_obj=n_obj,
            n_ieq_constr=n_constr,
            xl=self.int_low - 0.49,
            xu=self.int_high + 0.49,
            vtype=int,
        )

    def genomes(self, X: np.ndarray) -> np.ndarray:
        """Integer genomes `(N, n_var)` inside the space's bounds."""
        return np.clip(np.rint(np.asarray(X, dtype=float)), self.int_low, self.int_high).astype(int)

    def archs(self, X: np.ndarray) -> list[Arch]:
        """The canonical architecture of each row of `X`."""
        return [self.space.canonical(Arch(self.space.name, tuple(row))) for row in self.genomes(X)]


class IntegerRepair(Repair):
    """Round to the nearest integer and clip into the space's bounds."""

    def _do(self, problem: ArchProblem, X: np.ndarray, **kwargs: object) -> np.ndarray:
        return problem.genomes(X)


class SpaceSampling(Sampling):
    """Initial population drawn by the space itself (`space.sample`), distinct canonical
    networks, from the algorithm's own generator so the checkpoint captures it."""

    def _do(
        self,
        problem: ArchProblem,
        n_samples: int,
        *args: object,
        random_state=None,
        **kwargs: object,
    ) -> np.ndarray:
        seen: dict[tuple[int, ...], None] = {}
        for _ in range(100 * n_samples):
            if len(seen) == n_samples:
                break
            seen.setdefault(problem.space.sample(random_state).genome, None)
        return np.array(list(seen), dtype=int)


class CanonicalGenomes:
    """Duplicate key of a population: its canonical genomes (a class, so it pickles)."""

    def __init__(self, problem: ArchProblem) -> None:
        self.problem = problem

    def __call__(self, pop) -> np.ndarray:
        return np.array([a.genome for a in self.problem.archs(pop.get("X"))], dtype=float)


class NovelGenomes(DefaultDuplicateElimination):
    """Duplicates on canonical genomes; with `novel`, also every network in `evaluated` (filled
    by the search after each generation, and pickled with the algorithm in its checkpoint)."""

    def __init__(self, problem: ArchProblem, novel: bool) -> None:
        super().__init__(func=CanonicalGenomes(problem))
        self.novel = novel
        self.evaluated: set[tuple[int, ...]] = set()

    def record(self, archs: list[Arch]) -> None:
        self.evaluated.update(a.genome for a in archs)

    def _do(self, pop, other, is_duplicate):  # type: ignore[no-untyped-def]
        is_duplicate = super()._do(pop, other, is_duplicate)
        if other is None and self.novel and self.evaluated and len(pop):  # pass on the new ones
            keys = self.func(pop).astype(int)
            is_duplicate |= np.array([tuple(k) in self.evaluated for k in keys], dtype=bool)
        return is_duplicate


def make_nsga2(
    space: SearchSpace,
    n_obj: int,
    n_constr: int,
    population: int,
    generations: int,
    seed: int,
    crossover_prob: float = 0.9,
    mutation_eta: float = 3.0,
    mutation_prob: float | None = None,
    novel: bool = False,
    initial: np.ndarray | None = None,
) -> NSGA2:
    """A set-up NSGA-II ready for `ask()`; `generations` counts the initial population as 1.
    `initial`: the first population's genomes `(population, genes)` (default: `space.sample`)."""
    problem = ArchProblem(space, n_obj, n_constr)
    repair = IntegerRepair()
    algorithm = NSGA2(
        pop_size=population,
        sampling=SpaceSampling() if initial is None else initial,
        crossover=TwoPointCrossover(prob=crossover_prob),
        mutation=PM(prob=1.0, prob_var=mutation_prob, eta=mutation_eta, repair=repair),
        repair=repair,
        eliminate_duplicates=NovelGenomes(problem, novel),
    )
    algorithm.setup(problem, termination=get_termination("n_gen", generations), seed=seed)
    return algorithm
