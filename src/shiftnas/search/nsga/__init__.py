"""Multi-objective architecture search: pymoo NSGA-II over any space's integer genome."""

from shiftnas.search.nsga.algorithm import make_nsga2
from shiftnas.search.nsga.archive import Archive
from shiftnas.search.nsga.objectives import Budget, Measure, macs_measure, params_measure
from shiftnas.search.nsga.run import FrontMember, MetricsSink, SearchResult, run_search

__all__ = [
    "Archive",
    "Budget",
    "FrontMember",
    "Measure",
    "MetricsSink",
    "SearchResult",
    "macs_measure",
    "make_nsga2",
    "params_measure",
    "run_search",
]
