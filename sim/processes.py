"""Local worker processes: one way to start them, for batches and calibration alike.

Workers are *spawned* (a fresh interpreter that imports what it runs), never forked: a fork copies
the parent's threads' locks (pyarrow's, numba's, Dask's) in whatever state they are, and Python 3.14
makes spawn-like starts the default for that reason. A script that starts workers must therefore put
its top-level code under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from multiprocessing.context import SpawnContext


def worker_context() -> SpawnContext:
    """The multiprocessing context every kazsim worker process is started with."""
    return get_context("spawn")


def process_map[T, R](function: Callable[[T], R], items: Iterable[T], workers: int, chunksize: int = 4) -> list[R]:
    """``[function(item) for item in items]`` on up to ``workers`` worker processes, in order."""
    items = list(items)
    if workers <= 1 or len(items) < 2:
        return [function(item) for item in items]
    with ProcessPoolExecutor(max_workers=min(workers, len(items)), mp_context=worker_context()) as pool:
        return list(pool.map(function, items, chunksize=chunksize))
