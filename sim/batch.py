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
no partial run: re-running the same command runs exactly the runs without a record.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import cached_property
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.cluster import dask_client
from sim.errors import KazsimInputError
from sim.parameters import PARAMETERS
from sim.provenance import atomic_write_bytes, atomic_write_text, provenance, remove_abandoned_temporaries
from sim.scenario import Scenario, build_scenario, load_scenario

DEFAULT_REPLICATES = 100
DEFAULT_BASE_SEED = 2011
PARAMETER_MODES = ("posterior", "point", "scenario")


class BatchError(KazsimInputError):
    """A batch folder that cannot be used as asked (other scenarios or seeds, corrupt files)."""


@dataclass(frozen=True)
class RunSpec:
    """What a worker receives: the scenario as plain data, and a seed."""

    scenario: dict[str, Any]
    seed: int

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.scenario["name"]


@dataclass(frozen=True)
class RunOutcome:
    """What a worker returns: compact tables as Parquet bytes, or the error."""

    name: str
    seed: int
    events: bytes | None = None
    daily: bytes | None = None
    totals: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    trace: str | None = None


def _parquet(frame: pd.DataFrame, metadata: dict[str, str]) -> bytes:
    """A table as Parquet bytes, its provenance in the schema metadata (nothing time-dependent)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"kazsim": json.dumps(metadata).encode()})
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def run_one(spec: RunSpec) -> RunOutcome:
    """Run one (scenario, seed) and return compact results; never raises."""
    from sim.run import simulate
    from sim.events import totals

    start = time.perf_counter()
    try:
        scenario = build_scenario(spec.scenario, f"batch scenario {spec.name}")
        result = simulate(scenario, seed=spec.seed)
        events = result.events.assign(seed=spec.seed)
        daily = result.daily.assign(seed=spec.seed)
        origin = provenance()
        metadata = {"scenario": spec.name, "seed": spec.seed, "scenario_digest": _digest(spec.scenario),
                    "kazsim_version": origin["kazsim_version"], "git_revision": origin["git_revision"]}
        return RunOutcome(
            name=spec.name,
            seed=spec.seed,
            events=_parquet(events, metadata),
            daily=_parquet(daily, metadata),
            totals={k: int(v) for k, v in totals(result.events).items()},
            seconds=time.perf_counter() - start,
        )
    except Exception as error:  # noqa: BLE001 - a failed run is recorded, not fatal to the batch
        return RunOutcome(
            name=spec.name,
            seed=spec.seed,
            seconds=time.perf_counter() - start,
            error=f"{type(error).__name__}: {error}",
            trace=traceback.format_exc(),
        )


def seeds_for(replicates: int, base_seed: int = DEFAULT_BASE_SEED) -> list[int]:
    """The batch's seed list; a longer batch extends a shorter one with the same base."""
    return [base_seed + i for i in range(replicates)]


def parameter_draws(
    scenarios: Sequence[Scenario], seeds: Sequence[int], mode: str, base_seed: int
) -> tuple[list[dict[str, float]], dict[str, Any]]:
    """Parameter values for each replicate, shared by every scenario (common draws).

    ``posterior`` draws replicate i's particle with probability equal to its weight, from a
    stream fixed by ``base_seed`` alone, so every scenario's replicate i uses the same parameter
    set; ``point`` uses the weighted posterior mean for every replicate; ``scenario`` uses each
    scenario's own values. Without a posterior named by the scenarios, every mode is ``scenario``.

    Returns:
        Per replicate, the parameter values to override, and a description for the manifest.
    """
    if mode not in PARAMETER_MODES:
        raise BatchError(f"--parameters must be one of {', '.join(PARAMETER_MODES)}, not {mode!r}")
    paths = {s.posterior for s in scenarios}
    if mode == "scenario" or paths == {None}:
        return [{} for _ in seeds], {"mode": "scenario"}
    if len(paths) != 1:
        raise BatchError(f"scenarios name different posteriors ({sorted(map(str, paths))}); common draws need one")
    from calibration.posterior import load_posterior

    path = paths.pop()
    posterior = load_posterior(Path(path))
    names = [c for c in posterior.columns if c not in ("particle", "weight")]
    weights = posterior["weight"].to_numpy()
    if mode == "point":
        point = {n: float((posterior[n] * weights).sum()) for n in names}
        return [dict(point) for _ in seeds], {"mode": "point", "posterior": str(path), "values": point}
    rng = np.random.default_rng(np.random.SeedSequence([base_seed, 7919]))
    chosen = rng.choice(len(posterior), size=len(seeds), p=weights / weights.sum())
    draws = [{n: float(posterior[n].iloc[i]) for n in names} for i in chosen]
    particles = {str(seed): int(posterior["particle"].iloc[i]) for seed, i in zip(seeds, chosen, strict=True)}
    return draws, {"mode": "posterior", "posterior": str(path), "particles": particles}


def _with_parameters(scenario: Scenario, values: dict[str, float]) -> dict[str, Any]:
    data = scenario.resolved()
    if values:
        integers = {p.name for p in PARAMETERS if p.integer}
        data["parameters"] = {**data["parameters"],
                              **{k: int(round(v)) if k in integers else v for k, v in values.items()}}
    return data


def _digest(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


class BatchFolder:
    """A batch's folder: what is done, what failed, and writing results atomically."""

    def __init__(self, root: Path) -> None:
        """Open (not create) the folder at ``root``."""
        self.root = Path(root)

    def _path(self, kind: str, name: str, seed: int, suffix: str) -> Path:
        return self.root / kind / f"scenario={name}" / f"seed={seed}{suffix}"

    def done(self) -> set[tuple[str, int]]:
        """(scenario, seed) of every complete run."""
        found = set()
        for record in (self.root / "runs").glob("scenario=*/seed=*.json"):
            found.add((record.parent.name.removeprefix("scenario="), int(record.stem.removeprefix("seed="))))
        return found

    def failures(self) -> list[dict[str, Any]]:
        """The recorded failures that no later success replaced."""
        done = self.done()
        out = []
        for record in sorted((self.root / "failures").glob("scenario=*/seed=*.json")):
            data = json.loads(record.read_text())
            if (data["scenario"], data["seed"]) not in done:
                out.append(data)
        return out

    def save(self, outcome: RunOutcome) -> None:
        """Store a run's result: tables first, then the record that marks it complete."""
        failure = self._path("failures", outcome.name, outcome.seed, ".json")
        if outcome.error is not None:
            record = {"scenario": outcome.name, "seed": outcome.seed, "error": outcome.error,
                      "traceback": outcome.trace, "seconds": outcome.seconds}
            atomic_write_text(failure, json.dumps(record, indent=2) + "\n")
            return
        atomic_write_bytes(self._path("events", outcome.name, outcome.seed, ".parquet"), outcome.events)
        atomic_write_bytes(self._path("daily", outcome.name, outcome.seed, ".parquet"), outcome.daily)
        record = {"scenario": outcome.name, "seed": outcome.seed, "totals": outcome.totals, "seconds": outcome.seconds}
        atomic_write_text(self._path("runs", outcome.name, outcome.seed, ".json"), json.dumps(record, indent=2) + "\n")
        failure.unlink(missing_ok=True)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Write the manifest, refusing a folder that holds a different batch."""
        path = self.root / "manifest.json"
        if path.exists():
            existing = read_manifest(self.root)
            for name, scenario in manifest["scenarios"].items():
                old = existing["scenarios"].get(name)
                if old is not None and old["digest"] != scenario["digest"]:
                    raise BatchError(
                        f"{path}: scenario {name!r} differs from the one this folder was started with; "
                        "use another --out folder"
                    )
            if existing["base_seed"] != manifest["base_seed"]:
                raise BatchError(f"{path}: field 'base_seed' is {existing['base_seed']}, not {manifest['base_seed']}")
            manifest = {**existing, **manifest, "scenarios": {**existing["scenarios"], **manifest["scenarios"]},
                        "replicates": max(existing["replicates"], manifest["replicates"]),
                        "created": existing.get("created", manifest.get("created"))}
        atomic_write_text(path, json.dumps(manifest, indent=2, default=str) + "\n")


def read_manifest(root: Path) -> dict[str, Any]:
    """A batch folder's manifest; a clear error when it is missing or unreadable."""
    path = Path(root) / "manifest.json"
    if not path.is_file():
        raise BatchError(f"{path}: missing; is {root} a batch folder (made by kazsim batch)?")
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise BatchError(f"{path}: not valid JSON ({error.msg} at line {error.lineno})") from None
    for key in ("scenarios", "base_seed", "replicates"):
        if key not in manifest:
            raise BatchError(f"{path}: field {key!r} is missing")
    return manifest


@dataclass
class BatchProgress:
    """Counts a progress display needs."""

    total: int
    done: int = 0
    failed: int = 0


def _run_processes(specs: list[RunSpec], workers: int, on_outcome: Callable[[RunOutcome], None]) -> None:
    """Run on local worker processes; a pool broken by a dead worker is replaced."""
    pending = list(specs)
    while pending:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
        futures: dict[Future, RunSpec] = {}
        queue = list(pending)
        try:
            while queue or futures:
                # A few runs in flight per worker: results stream back and little is lost on a kill.
                while queue and len(futures) < 2 * workers:
                    spec = queue.pop(0)
                    futures[pool.submit(run_one, spec)] = spec
                finished, _ = wait(list(futures), return_when=FIRST_COMPLETED)
                for future in finished:
                    spec = futures.pop(future)
                    on_outcome(future.result())
                    pending.remove(spec)
        except BrokenProcessPool:
            continue  # a worker died: start a new pool and run what is still missing
        finally:
            pool.shutdown(cancel_futures=True)


def _run_dask(specs: list[RunSpec], workers: int, scheduler: str, on_outcome: Callable[[RunOutcome], None]) -> None:
    """Run on a Dask cluster: ``local`` starts a loopback LocalCluster, else connect to an address."""
    from distributed import as_completed

    with dask_client(scheduler, workers, BatchError) as client:
        slots = max(2 * sum(client.nthreads().values()), 2)
        queue = list(specs)
        running = as_completed()
        while queue and running.count() < slots:
            running.add(client.submit(run_one, queue.pop(0), pure=False))
        for future in running:
            on_outcome(future.result())
            future.release()
            if queue:
                running.add(client.submit(run_one, queue.pop(0), pure=False))


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
) -> BatchResult:
    """Run (or resume) a batch and return its results.

    Args:
        scenarios: scenario objects, files or names.
        replicates: runs per scenario; replicate i of every scenario uses seed ``base_seed + i``.
        out: the batch folder; runs already recorded there are not run again.
        workers: local worker processes (1 runs in this process); Dask workers with ``scheduler="local"``.
        scheduler: ``None`` for local processes, ``"local"`` for a loopback Dask ``LocalCluster``,
            or the address of an existing Dask scheduler (``tcp://host:port``).
        base_seed: the first seed.
        overrides: ``key=value`` overrides applied to every scenario loaded from a file.
        progress: called with the counts after every finished run.
        parameters: ``posterior`` (draw parameter sets from the scenarios' calibrated posterior,
            the same draw for replicate i of every scenario), ``point`` (the posterior mean) or
            ``scenario`` (the scenario files' own values). Without a posterior: ``scenario``.

    Returns:
        The whole batch's results (including runs from earlier invocations).
    """
    loaded = [s if isinstance(s, Scenario) else load_scenario(s, overrides=list(overrides)) for s in scenarios]
    names = [s.name for s in loaded]
    if len(set(names)) != len(names):
        raise BatchError(f"scenario names must differ within a batch, got {names}")
    folder = BatchFolder(Path(out))
    seeds = seeds_for(replicates, base_seed)
    draws, draw_info = parameter_draws(loaded, seeds, parameters, base_seed)
    manifest = {
        "kind": "kazsim batch",
        "base_seed": base_seed,
        "replicates": replicates,
        "seeds": seeds,
        "parameters": draw_info,
        "scenarios": {s.name: {"digest": _digest({**s.resolved(), "draws": draw_info}), "resolved": s.resolved()}
                      for s in loaded},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "provenance": provenance(),
    }
    folder.write_manifest(manifest)
    remove_abandoned_temporaries(folder.root)
    done = folder.done()
    specs = [
        RunSpec(_with_parameters(s, values), seed)
        for seed, values in zip(seeds, draws, strict=True)
        for s in loaded
        if (s.name, seed) not in done
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
        _run_processes(specs, workers, record)
    elif specs:
        _run_dask(specs, workers, scheduler, record)
    return load_batch(folder.root, scenarios=names, seeds=seeds)


@dataclass(frozen=True)
class BatchResult:
    """A batch's tables, restricted to the requested scenarios and seeds.

    ``events`` and ``daily`` are read from the folder when first used (a long batch need not
    hold every run in memory to report what it did); a completed run whose file is unreadable
    raises :class:`BatchError` then.
    """

    root: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame
    failures: list[dict[str, Any]]

    @cached_property
    def events(self) -> pd.DataFrame:
        """Every run's events (incident schema), with ``seed`` and ``scenario`` columns."""
        return _read_partitioned(self.root, "events", self._complete)

    @cached_property
    def daily(self) -> pd.DataFrame:
        """Every run's daily table, with ``seed`` and ``scenario`` columns."""
        return _read_partitioned(self.root, "daily", self._complete)

    @property
    def _complete(self) -> set[tuple[str, int]]:
        return set(zip(self.runs["scenario"], self.runs["seed"].astype(int), strict=True))

    @property
    def scenarios(self) -> list[str]:
        """Scenario names, in manifest order."""
        return [n for n in self.manifest["scenarios"] if n in set(self.runs["scenario"])]


def _read_partitioned(root: Path, kind: str, keep: set[tuple[str, int]]) -> pd.DataFrame:
    ordered = sorted(keep)

    def read(run: tuple[str, int]) -> pa.Table:
        path = root / kind / f"scenario={run[0]}" / f"seed={run[1]}.parquet"
        try:
            return pq.read_table(path)
        except (OSError, pa.ArrowInvalid) as error:
            raise BatchError(f"{path}: unreadable or missing ({error}); re-run the batch command to redo it") from None

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # Parquet reads release the GIL
        tables = list(pool.map(read, ordered))
    if not tables:
        return pd.DataFrame()
    # One conversion to pandas for the whole batch: per-file conversion cost ~10 ms a run.
    frame = pa.concat_tables(tables, promote_options="permissive").to_pandas()
    frame["scenario"] = np.repeat([name for name, _ in ordered], [t.num_rows for t in tables])
    return frame


def load_batch(root: Path | str, scenarios: Sequence[str] | None = None, seeds: Sequence[int] | None = None) -> BatchResult:
    """Read a batch folder (complete runs only).

    Raises:
        BatchError: the manifest is missing or corrupt, or a completed run's table is unreadable.
    """
    root = Path(root)
    manifest = read_manifest(root)
    folder = BatchFolder(root)
    keep = {
        (name, seed)
        for name, seed in folder.done()
        if (scenarios is None or name in scenarios) and (seeds is None or seed in seeds)
    }
    runs = pd.DataFrame(sorted(keep), columns=["scenario", "seed"])
    return BatchResult(root, manifest, runs, folder.failures())
