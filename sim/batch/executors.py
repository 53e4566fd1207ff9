"""Running a batch's runs: in this process, on local worker processes, or on a Dask cluster.

Local workers are spawned processes, each with a pipe of its own; a worker holds the run it is working
on and one waiting, so a worker's death is charged to the run it was running. A run that takes its
worker down ``WORKER_ATTEMPTS`` times is recorded as failed; workers that cannot start at all (a script
without a main guard) stop the batch at once with a message that says what to do.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import signal
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from multiprocessing.context import SpawnContext
from multiprocessing.process import BaseProcess

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.batch.plan import WORKER_ATTEMPTS, BatchError, RunOutcome, RunSpec, digest
from sim.cluster import dask_client
from sim.events import totals
from sim.provenance import provenance
from sim.run import simulate
from sim.scenario import scenario_from_resolved

_READY = "ready"


def parquet_bytes(frame: pd.DataFrame, metadata: dict[str, object]) -> bytes:
    """A table as Parquet bytes, its provenance in the schema metadata (nothing time-dependent)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"kazsim": json.dumps(metadata).encode()})
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def run_one(spec: RunSpec) -> RunOutcome:
    """Run one (scenario, seed) and return compact results; never raises."""

    start = time.perf_counter()
    try:
        scenario = scenario_from_resolved(spec.scenario, f"batch scenario {spec.name}")
        result = simulate(scenario, seed=spec.seed)
        events = result.events.assign(seed=spec.seed)
        daily = result.daily.assign(seed=spec.seed)
        origin = provenance()
        metadata = {"scenario": spec.name, "seed": spec.seed, "scenario_digest": digest(spec.scenario),
                    "kazsim_version": origin["kazsim_version"], "git_revision": origin["git_revision"]}
        return RunOutcome(
            name=spec.name,
            seed=spec.seed,
            events=parquet_bytes(events, metadata),
            daily=parquet_bytes(daily, metadata),
            totals={k: int(v) for k, v in totals(result.events).items()},
            seconds=time.perf_counter() - start,
            particle=spec.particle,
            draw=spec.draw,
        )
    except Exception as error:
        return RunOutcome(
            name=spec.name,
            seed=spec.seed,
            seconds=time.perf_counter() - start,
            error=f"{type(error).__name__}: {error}",
            trace=traceback.format_exc(),
            particle=spec.particle,
            draw=spec.draw,
        )


def failed(spec: RunSpec, error: str, trace: str | None = None) -> RunOutcome:
    """The outcome of a run that produced no result (its worker died, or the executor failed it)."""
    return RunOutcome(name=spec.name, seed=spec.seed, error=error, trace=trace, particle=spec.particle,
                      draw=spec.draw)


def _exit_description(code: int | None) -> str:
    """A worker's exit status in words: the signal that killed it, or its exit code."""
    if code is None:
        return "exit status unknown"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _death_reason(deaths: int, code: int | None) -> str:
    """The error recorded for a run that took its worker process down ``deaths`` times."""
    cause = "killed by a signal, e.g. the out-of-memory killer?" if code is not None and code < 0 else "no result"
    return (f"WorkerDied: worker process died {deaths} times running this run ({cause}); "
            f"last time: {_exit_description(code)}")


def _startup_error(code: int | None) -> BatchError:
    """The error for worker processes that die before taking a run, typically a script without a main guard."""
    return BatchError(
        f"batch worker processes could not start ({_exit_description(code)} before taking a run). When calling "
        'run_batch from a script, put the call under `if __name__ == "__main__":` (spawned workers re-import the '
        "script), or use workers=1."
    )


def _serve(connection: Connection, runner: Callable[[RunSpec], RunOutcome]) -> None:
    """A worker process: announce that it started, then run each spec received, in order, until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which stops its workers
    try:
        connection.send(_READY)
        while (spec := connection.recv()) is not None:
            connection.send(runner(spec))
    except (EOFError, OSError):  # the parent is gone: nobody wants the results
        return


@dataclass
class _Worker:
    """A worker process and the runs sent to it: the first is running, the others wait in its pipe."""

    process: BaseProcess
    connection: Connection
    assigned: deque[RunSpec] = field(default_factory=deque)
    started: bool = False


def _start_worker(context: SpawnContext, runner: Callable[[RunSpec], RunOutcome]) -> _Worker:
    """Start a worker process serving ``runner`` over a pipe of its own."""
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve, args=(theirs, runner), daemon=True, name="kazsim-batch-worker")
    process.start()
    theirs.close()
    return _Worker(process, ours)


def _feed(worker: _Worker, queue: deque[RunSpec]) -> None:
    """Send a started worker runs until it has one waiting behind the running one (it never idles while we write)."""
    while worker.started and queue and len(worker.assigned) < 2:
        spec = queue.popleft()
        try:
            worker.connection.send(spec)
        except OSError:  # it died: the wait that follows sees its sentinel
            queue.appendleft(spec)
            return
        worker.assigned.append(spec)


def _receive(worker: _Worker) -> tuple[list[RunOutcome], bool]:
    """Every message a worker has sent: the outcomes, and False when its connection is closed (it died)."""
    outcomes = []
    try:
        while worker.connection.poll():
            message = worker.connection.recv()
            if message == _READY:
                worker.started = True
            else:
                worker.assigned.popleft()
                outcomes.append(message)
    except (EOFError, OSError):
        return outcomes, False
    return outcomes, True


def _stop_workers(pool: list[_Worker], graceful: bool) -> None:
    """Stop the workers: asked to exit when ``graceful`` (all idle), else terminated."""
    for worker in pool:
        if graceful:
            with contextlib.suppress(OSError):
                worker.connection.send(None)
    for worker in pool:
        worker.process.join(timeout=5 if graceful else 0)
        if worker.process.is_alive():
            worker.process.terminate()
            worker.process.join(timeout=5)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.connection.close()


def run_processes(
    specs: list[RunSpec], workers: int, on_outcome: Callable[[RunOutcome], None],
    runner: Callable[[RunSpec], RunOutcome] = run_one,
) -> None:
    """Run on local worker processes; a worker that dies is replaced, its run retried a bounded number of times.

    Each worker runs the specs it is sent in order, so a death is charged to the run it was running
    (runs queued behind it are re-queued uncharged). A run whose worker dies ``WORKER_ATTEMPTS``
    times is recorded as failed.

    Args:
        specs: the runs.
        workers: worker processes (at most one per run).
        on_outcome: called in this process with every run's outcome.
        runner: a module-level function (spawned workers import it by name) that runs one spec.

    Raises:
        BatchError: worker processes cannot start, or keep dying without taking a run.
    """
    context = get_context("spawn")
    queue = deque(specs)
    deaths: Counter[tuple[str, int]] = Counter()
    any_started = False
    idle_deaths = 0  # deaths no run can be charged with, since the last outcome: bounded, or a dying pool loops
    pool: list[_Worker] = []
    graceful = False
    try:
        pool = [_start_worker(context, runner) for _ in range(min(workers, len(specs)))]
        while queue or any(worker.assigned for worker in pool):
            for worker in pool:
                _feed(worker, queue)
            ready = set(wait([w.connection for w in pool] + [w.process.sentinel for w in pool]))
            dead = []
            for index, worker in enumerate(pool):
                if worker.connection in ready or worker.process.sentinel in ready:
                    outcomes, alive = _receive(worker)
                    any_started |= worker.started
                    if outcomes:
                        idle_deaths = 0
                    for outcome in outcomes:
                        on_outcome(outcome)
                    if not alive or worker.process.sentinel in ready:
                        dead.append(index)
            for index in dead:  # after every message is in: a death is judged knowing who started
                worker = pool[index]
                worker.process.join()
                code = worker.process.exitcode
                worker.connection.close()
                if not any_started:
                    raise _startup_error(code)
                if worker.assigned:
                    spec = worker.assigned.popleft()  # the run it was running; those behind it never started
                    queue.extendleft(reversed(worker.assigned))
                    deaths[(spec.name, spec.seed)] += 1
                    if deaths[(spec.name, spec.seed)] >= WORKER_ATTEMPTS:
                        on_outcome(failed(spec, _death_reason(deaths[(spec.name, spec.seed)], code)))
                    else:
                        queue.appendleft(spec)
                else:
                    idle_deaths += 1
                    if idle_deaths >= WORKER_ATTEMPTS:
                        raise BatchError(f"batch worker processes keep dying before taking a run (last: "
                                         f"{_exit_description(code)}); is memory short?")
                pool[index] = _start_worker(context, runner)
        graceful = True
    finally:
        _stop_workers(pool, graceful)


#: Most runs one Dask task carries: enough to spread the scheduler's per-task cost, few enough that a worker's
#: death (whose task is run again whole) loses little.
MAX_RUNS_PER_TASK = 8
#: Tasks per worker thread the runs still to send are cut into (guided self-scheduling).
TASKS_PER_THREAD = 4


def runs_per_task(remaining: int, threads: int) -> int:
    """Runs in the next Dask task: the runs not yet sent cut into ``TASKS_PER_THREAD`` tasks per worker thread.

    Tasks shrink as the batch nears its end (guided self-scheduling), so the workers finish together
    instead of one waiting for another's last long task; early on they are long (at most
    ``MAX_RUNS_PER_TASK``), so the scheduler's cost per task is spread over many runs.
    """
    return max(1, min(MAX_RUNS_PER_TASK, -(-remaining // max(1, TASKS_PER_THREAD * threads))))


def run_chunk(specs: list[RunSpec], runner: Callable[[RunSpec], RunOutcome] = run_one) -> list[RunOutcome]:
    """Run several specs in order in one task (one worker process): what a Dask task does."""
    return [runner(spec) for spec in specs]


def _killed_worker_reason(error: Exception) -> str:
    """The error recorded for a run Dask gave up on because its workers kept dying."""
    return (f"KilledWorker: worker process died on every try running this run (killed by a signal, e.g. the "
            f"out-of-memory killer?): {error}")


def run_dask(
    specs: list[RunSpec], workers: int, scheduler: str, on_outcome: Callable[[RunOutcome], None],
    runner: Callable[[RunSpec], RunOutcome] = run_one, chunk: int | None = None,
) -> None:
    """Run on a Dask cluster: ``local`` starts a loopback LocalCluster, else connect to an address.

    Several runs go in one task (``chunk`` of them; by default :func:`runs_per_task` of those not yet sent,
    fewer as the batch nears its end): a task costs the scheduler and the network a round trip whatever it
    does, as much as a short run. A task that fails on
    the cluster (its workers died ``distributed.scheduler.allowed-failures`` + 1 times: ``KilledWorker``, or
    any other error) is split into one task per run, so that the failure is charged to the run that caused
    it; a one-run task that fails is recorded as failed, and the batch goes on. Dask counts a death against
    every task on the dying worker, including one queued behind the culprit, so a run can rarely be recorded
    as failed with it; the next batch invocation retries it.
    """
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    with dask_client(scheduler, workers, BatchError) as client:
        threads, counted = 1, -math.inf
        fresh = deque(specs)
        alone: deque[RunSpec] = deque()  # runs of a failed task, each to be tried in a task of its own
        chunk_of: dict[str, list[RunSpec]] = {}
        running = as_completed()

        def top_up() -> None:
            """Keep two tasks per worker thread in flight; workers may join (or leave) while the batch runs."""
            nonlocal threads, counted
            if time.monotonic() - counted > 1.0:  # asking the scheduler costs a round trip: once a second at most
                threads, counted = max(sum(client.nthreads().values()), 1), time.monotonic()
            while (fresh or alone) and running.count() < 2 * threads:
                submit()

        def submit() -> None:
            if alone:
                part = [alone.popleft()]
            else:
                size = chunk or runs_per_task(len(fresh), threads)
                part = [fresh.popleft() for _ in range(min(size, len(fresh)))]
            future = client.submit(run_chunk, part, runner, pure=False)
            chunk_of[future.key] = part
            running.add(future)

        top_up()
        for future in running:
            part = chunk_of.pop(future.key)
            try:
                outcomes = future.result()
            except Exception as error:
                if len(part) > 1:  # split: each run is tried alone, so a failure is charged to its run
                    alone.extendleft(reversed(part))
                    outcomes = []
                elif isinstance(error, KilledWorker):
                    outcomes = [failed(part[0], _killed_worker_reason(error))]
                else:
                    outcomes = [failed(part[0], f"{type(error).__name__}: {error}", traceback.format_exc())]
            for outcome in outcomes:
                on_outcome(outcome)
            future.release()
            top_up()
