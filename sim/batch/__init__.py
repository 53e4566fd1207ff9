"""Scenario batches: many seeded runs of several scenarios, resumable, locally or on Dask.

A batch runs every scenario with the same list of seeds (common random numbers): replicate i
of every scenario starts from the same random streams, so the difference between two
scenarios' replicate i is the effect of what differs, not of the draws.

Layout of a batch folder::

    manifest.json                              what the batch is (scenarios, seeds, provenance)
    events/scenario=<name>/seed=<seed>.parquet the run's events (incident schema)
    daily/scenario=<name>/seed=<seed>.parquet  the run's daily table
    runs/scenario=<name>/seed=<seed>.json      written last: the run is complete
    failures/scenario=<name>/seed=<seed>.json  a run that raised: error and traceback

Each file is written to a temporary name and renamed, and the run's record in ``runs/`` is
written only after its tables, so an interrupted batch (Ctrl-C, SIGKILL, a lost worker) leaves
no partial run: re-running the same command runs exactly the runs without a record. A run's
parameter draw depends on its seed alone, so a batch grows (more replicates into the same
folder) without touching the runs it has. A run whose files are damaged is reported and run
again; files the batch did not write are reported and ignored.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path
from typing import Any

from sim.batch.executors import failed, run_dask, run_one, run_processes
from sim.batch.plan import (
    DEFAULT_BASE_SEED,
    DEFAULT_REPLICATES,
    MANIFEST_FORMAT,
    MAX_REPLICATES,
    MAX_WORKERS,
    WORKER_ATTEMPTS,
    BatchError,
    BatchFolderWarning,
    BatchProgress,
    RunOutcome,
    RunSpec,
    check_batch_size,
    digest,
    draw_identity,
    seeds_for,
)
from sim.batch.reader import REDO_HINT, BatchResult, load_batch, load_complete
from sim.batch.store import BatchFolder, FolderProblem, FolderState, read_manifest
from sim.posterior import (
    PARAMETER_MODES,
    DrawError,
    parameter_draws,
    particle_for_seed,
    stated_parameters,
    with_parameters,
)
from sim.provenance import provenance, remove_abandoned_temporaries
from sim.scenario import Scenario, load_scenario

__all__ = ["DEFAULT_BASE_SEED", "DEFAULT_REPLICATES", "MANIFEST_FORMAT", "MAX_REPLICATES", "MAX_WORKERS",
           "PARAMETER_MODES", "REDO_HINT", "WORKER_ATTEMPTS", "BatchError", "BatchFolder", "BatchFolderWarning",
           "BatchProgress", "BatchResult", "FolderProblem", "FolderState", "RunOutcome", "RunSpec",
           "check_batch_size", "failed", "load_batch", "parameter_draws", "particle_for_seed", "read_manifest",
           "run_batch", "run_dask", "run_one", "run_processes", "seeds_for", "with_parameters"]


def _warn_with_python_warnings(message: str) -> None:
    """Report a folder problem as a :class:`BatchFolderWarning` (the Python API's default)."""
    warnings.warn(message, BatchFolderWarning, stacklevel=3)


def _scenario_record(scenario: Scenario, draws: dict[str, Any]) -> dict[str, Any]:
    """A scenario's manifest entry: its settings, the parameters it states (which draws leave alone) and the digest
    of both with the draws' identity, which a folder's runs must share to be extended."""
    resolved, stated = scenario.resolved(), sorted(stated_parameters(scenario))
    return {"digest": digest({**resolved, "draws": draws, "stated_parameters": stated}), "resolved": resolved,
            "stated_parameters": stated}


def run_batch(
    scenarios: Sequence[Scenario | str | Path],
    replicates: int = DEFAULT_REPLICATES,
    out: Path | str = "batches/latest",
    workers: int = 1,
    scheduler: str | None = None,
    base_seed: int = DEFAULT_BASE_SEED,
    overrides: Iterable[str] = (),
    progress: Callable[[BatchProgress], None] | None = None,
    parameters: str = "posterior",
    warn: Callable[[str], None] | None = None,
    runs_per_task: int | None = None,
    manifest_extra: dict[str, Any] | None = None,
    fixed_parameters: Collection[str] = (),
) -> BatchResult:
    """Run (or resume, or grow) a batch and return its results.

    Call it under ``if __name__ == "__main__":`` in a script run with ``workers`` > 1: the
    worker processes re-import the script.

    Args:
        scenarios: scenario objects, files or names.
        replicates: runs per scenario (1 to ``MAX_REPLICATES``); replicate i of every scenario
            uses seed ``base_seed + i``. More replicates into an existing folder add runs.
        out: the batch folder; runs already recorded there are not run again, damaged ones are.
        workers: local worker processes (1 runs in this process; at most ``MAX_WORKERS``); Dask
            workers with ``scheduler="local"``.
        scheduler: ``None`` for local processes, ``"local"`` for a loopback Dask ``LocalCluster``,
            or the address of an existing Dask scheduler (``tcp://host:port``).
        base_seed: the first seed.
        overrides: ``key=value`` overrides applied to every scenario loaded from a file.
        progress: called with the counts after every finished run.
        parameters: ``posterior`` (draw parameter sets from the scenarios' calibrated posterior,
            the same draw for replicate i of every scenario), ``point`` (the posterior mean) or
            ``scenario`` (the scenario files' own values). Without a posterior: ``scenario``.
        warn: called with a line for every damaged file (its run is redone) and foreign file
            (ignored) in the folder; by default a :class:`BatchFolderWarning`.
        runs_per_task: runs in one Dask task (default: shrinking as the batch nears its end, see
            :func:`sim.batch.executors.runs_per_task`); results do not depend on it.
        manifest_extra: more top-level fields for the manifest (an exploration's design record).
        fixed_parameters: parameters the draws leave at the scenarios' values (an exploration's varied ones).

    Returns:
        The whole batch's results (including runs from earlier invocations).

    Raises:
        BatchError: bad sizes, a folder that is a file, cannot be written or holds another batch,
            or worker processes that cannot start.
    """
    check_batch_size(replicates, workers, base_seed)
    warn = warn or _warn_with_python_warnings
    loaded = [s if isinstance(s, Scenario) else load_scenario(s, overrides=list(overrides)) for s in scenarios]
    names = [s.name for s in loaded]
    if len(set(names)) != len(names):
        raise BatchError(f"scenario names must differ within a batch, got {names}")
    folder = BatchFolder(Path(out))
    seeds = seeds_for(replicates, base_seed)
    try:
        draws, draw_info = parameter_draws(loaded, seeds, parameters)
    except DrawError as error:
        raise BatchError(str(error)) from None
    identity = draw_identity(draw_info)
    manifest = folder.start({
        "kind": "kazsim batch",
        "format": MANIFEST_FORMAT,
        "base_seed": base_seed,
        "replicates": replicates,
        "seeds": seeds,
        "parameters": draw_info,
        "scenarios": {s.name: _scenario_record(s, identity) for s in loaded},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "provenance": provenance(),
        **(manifest_extra or {}),
    })
    remove_abandoned_temporaries(folder.root)
    state = folder.inspect(manifest["scenarios"])
    for problem in state.problems:
        warn(f"{problem}; running it again" if problem.run is not None else str(problem))
    particles = draw_info.get("particles", {})
    draws = [{k: v for k, v in values.items() if k not in fixed_parameters} for values in draws]
    specs = [
        RunSpec(with_parameters(s, values), seed, particles.get(str(seed)), values or None)
        for seed, values in zip(seeds, draws, strict=True)
        for s in loaded
        if (s.name, seed) not in state.complete
    ]
    counts = BatchProgress(total=len(seeds) * len(loaded), done=len(seeds) * len(loaded) - len(specs))

    def record(outcome: RunOutcome) -> None:
        folder.save(outcome)
        if outcome.error is None:
            counts.done += 1
        else:
            counts.failed += 1
        if progress is not None:
            progress(counts)

    if progress is not None:
        progress(counts)
    if workers <= 1 and scheduler is None:
        for spec in specs:
            record(run_one(spec))
    elif specs and scheduler is None:
        run_processes(specs, workers, record)
    elif specs:
        run_dask(specs, workers, scheduler, record, chunk=runs_per_task)
    return load_complete(folder.root, names, seeds)

