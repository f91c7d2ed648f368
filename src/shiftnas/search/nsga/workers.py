"""Search workers that die: the lost networks are retried on fresh workers, then one line.

A process-pool worker or a Ray actor can be killed mid-search, most often by the kernel's
out-of-memory killer (SIGKILL). The networks it held are evaluated again on a fresh worker (a
new pool, or Ray's restart of the actor), at most `WORKER_RETRIES` times per batch; after that
the search stops with a `ShiftnasError` that says a worker died, names memory as the likely
cause when a signal killed it, and says that the same command resumes (every network already
evaluated is in the archive). Every worker, on every path, runs torch with `WORKER_THREADS`
threads: results are bitwise the same for any number of workers only with the same threads.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from shiftnas.errors import ShiftnasError

WORKER_RETRIES = 2  # fresh workers per batch after the first one dies
EXIT_WAIT_S = 2.0  # how long a dead pool's workers are waited for, to read their exit codes
WORKER_THREADS = 1  # torch threads of every evaluation of a pooled measure, in any process


def death_error(cause: str, retries: int = WORKER_RETRIES) -> ShiftnasError:
    """The one line for a worker that kept dying; `cause`: how it died, as far as known."""
    return ShiftnasError(
        f"a search worker died ({cause}) and again on each of {retries} fresh workers: every "
        "network evaluated so far is in the search archive; run the same command again to "
        "resume (with fewer search.workers if memory is short)"
    )


def signal_cause(exitcodes: Sequence[int | None]) -> str:
    """How pool workers ended: a negative exit code is the signal that killed the process."""
    killed = sorted({-code for code in exitcodes if code is not None and code < 0})
    if signal.SIGKILL in killed:
        return "killed by SIGKILL, which the out-of-memory killer sends: likely out of memory"
    if killed:
        names = ", ".join(signal.Signals(s).name for s in killed if s in signal.Signals)
        return f"killed by {names or 'a signal'}: possibly out of memory"
    return "it exited abruptly"


class RetryingPool:
    """`map` over a fork process pool that replaces the pool when a worker dies.

    `initializer(*initargs)` runs in every worker; `fn` must be a module-level function.
    """

    def __init__(self, workers: int, initializer: Callable[..., None], initargs: tuple) -> None:
        self.workers, self.initializer, self.initargs = workers, initializer, initargs
        self._pool: ProcessPoolExecutor | None = None
        self._processes: list[Any] = []

    def _fresh(self) -> ProcessPoolExecutor:
        # fork: the scorers' factories (closures over a supernet, a dataset) need no pickling
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("fork"),
                initializer=self.initializer, initargs=self.initargs,
            )  # fmt: skip
            self._processes = []
        return self._pool

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Any]:
        """`fn(item)` for each item, in order, as each is ready; raises `death_error` when the
        workers of one batch died more than `WORKER_RETRIES` times."""
        futures = self._submit(fn, items, range(len(items)))
        deaths = 0
        for i in range(len(items)):
            while True:
                try:
                    value = futures[i].result()
                    break
                except BrokenProcessPool:
                    deaths += 1
                    cause = signal_cause(self._exitcodes())
                    self.close()
                    if deaths > WORKER_RETRIES:
                        raise death_error(cause) from None
                    lost = [j for j in range(i, len(items)) if _lost(futures[j])]
                    futures.update(self._submit(fn, items, lost))
            yield value

    def _submit(self, fn: Callable, items: Sequence[Any], indices: Any) -> dict[int, Future]:
        indices = list(indices)
        for _ in range(1 + WORKER_RETRIES):
            pool = self._fresh()
            try:
                futures = {i: pool.submit(fn, items[i]) for i in indices}
            except BrokenProcessPool:  # a worker died while the pool waited between batches
                cause = signal_cause(self._exitcodes())
                self.close()
                continue
            if not self._processes:  # the workers start with the first task (fork: all at once)
                self._processes = list(getattr(pool, "_processes", {}).values())
            return futures
        raise death_error(cause)

    def _exitcodes(self) -> list[int | None]:
        """The exit codes of the broken pool's workers; the pool terminates the survivors
        itself, and a killed worker may take a moment to be reapable after its pipe closed."""
        for process in self._processes:
            process.join(timeout=EXIT_WAIT_S)
        return [process.exitcode for process in self._processes]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _lost(future: Future) -> bool:
    """A task whose result did not come back before its pool broke."""
    return not future.done() or future.cancelled() or future.exception() is not None


def ray_death_error(err: BaseException) -> ShiftnasError:
    """`death_error` for a Ray actor that died after its restarts (`ActorDiedError`, Ray's
    `OutOfMemoryError`): memory is named when Ray's message points at it."""
    text = str(err)
    memory = any(w in text for w in ("SIGKILL", "OOM", "out of memory", "OutOfMemory", "memory"))
    kind = type(err).__name__
    cause = f"Ray: {kind}" + (", likely out of memory" if memory else "")
    return death_error(cause)
