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

import hashlib
import io
import json
import os
import re
import signal
import time
import traceback
import warnings
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from multiprocessing.context import SpawnContext
from multiprocessing.process import BaseProcess
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
from sim.scenario import Scenario, load_scenario, scenario_from_resolved

DEFAULT_REPLICATES = 100
DEFAULT_BASE_SEED = 2011
PARAMETER_MODES = ("posterior", "point", "scenario")
#: Most runs per scenario a batch may ask for: a slip such as 1e9 would otherwise plan centuries of work.
MAX_REPLICATES = 100_000
#: Most worker processes a batch may start.
MAX_WORKERS = 256
#: Times a run may take its worker process down before it is recorded as failed.
WORKER_ATTEMPTS = 3
#: Version of the manifest's digests; a folder made with another version is not extended.
MANIFEST_FORMAT = 2
#: Mixed with a run's seed to give its posterior draw a random stream the model does not use.
_DRAW_STREAM = 7919
_READY = "ready"


class BatchError(KazsimInputError):
    """A batch folder that cannot be used as asked (other scenarios or seeds, corrupt files)."""


class BatchFolderWarning(UserWarning):
    """A damaged run (redone) or a foreign file (ignored) in a batch folder."""


@dataclass(frozen=True)
class RunSpec:
    """What a worker receives: the scenario as plain data, and a seed."""

    scenario: dict[str, Any]
    seed: int
    particle: int | None = None

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
    particle: int | None = None


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
        scenario = scenario_from_resolved(spec.scenario, f"batch scenario {spec.name}")
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
            particle=spec.particle,
        )
    except Exception as error:  # noqa: BLE001 - a failed run is recorded, not fatal to the batch
        return RunOutcome(
            name=spec.name,
            seed=spec.seed,
            seconds=time.perf_counter() - start,
            error=f"{type(error).__name__}: {error}",
            trace=traceback.format_exc(),
            particle=spec.particle,
        )


def _failed(spec: RunSpec, error: str, trace: str | None = None) -> RunOutcome:
    """The outcome of a run that produced no result (its worker died, or the executor failed it)."""
    return RunOutcome(name=spec.name, seed=spec.seed, error=error, trace=trace, particle=spec.particle)


def check_batch_size(replicates: int, workers: int, base_seed: int = DEFAULT_BASE_SEED) -> None:
    """Refuse a batch size, worker count or first seed outside the supported range.

    Raises:
        BatchError: naming the option (``--replicates``, ``--workers``, ``--seed``) and its limits.
    """
    if isinstance(replicates, bool) or not isinstance(replicates, int) or not 1 <= replicates <= MAX_REPLICATES:
        raise BatchError(f"--replicates must be between 1 and {MAX_REPLICATES:,} runs per scenario, not {replicates}")
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise BatchError(f"--workers must be between 1 and {MAX_WORKERS}, not {workers}")
    if isinstance(base_seed, bool) or not isinstance(base_seed, int) or base_seed < 0:
        raise BatchError(f"--seed must be a whole number >= 0, not {base_seed}")


def seeds_for(replicates: int, base_seed: int = DEFAULT_BASE_SEED) -> list[int]:
    """The batch's seed list; a longer batch extends a shorter one with the same base."""
    return [base_seed + i for i in range(replicates)]


def posterior_particle(weights: np.ndarray, seed: int) -> int:
    """Row of the posterior particle a run with ``seed`` uses, drawn with probability equal to its weight.

    The draw depends on the weights and the seed alone, so a run's parameters do not change when
    the batch around it grows.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, _DRAW_STREAM]))
    return int(rng.choice(len(weights), p=weights / weights.sum()))


def parameter_draws(
    scenarios: Sequence[Scenario], seeds: Sequence[int], mode: str
) -> tuple[list[dict[str, float]], dict[str, Any]]:
    """Parameter values for each replicate, shared by every scenario (common draws).

    ``posterior`` draws seed s's particle with probability equal to its weight from a stream
    fixed by s alone (:func:`posterior_particle`), so every scenario's run with seed s uses the
    same parameter set; ``point`` uses the weighted posterior mean for every replicate;
    ``scenario`` uses each scenario's own values. Without a posterior named by the scenarios,
    every mode is ``scenario``.

    Returns:
        Per replicate, the parameter values to override, and a description for the manifest:
        the mode, the posterior's path and sha256 (its identity), and the particle of each seed.
    """
    if mode not in PARAMETER_MODES:
        raise BatchError(f"--parameters must be one of {', '.join(PARAMETER_MODES)}, not {mode!r}")
    paths = {s.posterior for s in scenarios}
    if mode == "scenario" or paths == {None}:
        return [{} for _ in seeds], {"mode": "scenario"}
    if len(paths) != 1:
        raise BatchError(f"scenarios name different posteriors ({sorted(map(str, paths))}); common draws need one")
    from calibration.posterior import load_posterior

    path = Path(paths.pop())
    posterior = load_posterior(path)
    identity = {"posterior": str(path), "posterior_sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    names = [c for c in posterior.columns if c not in ("particle", "weight")]
    weights = posterior["weight"].to_numpy()
    if mode == "point":
        point = {n: float((posterior[n] * weights).sum()) for n in names}
        return [dict(point) for _ in seeds], {"mode": "point", **identity, "values": point}
    chosen = [posterior_particle(weights, seed) for seed in seeds]
    rows = posterior[names].to_numpy(dtype=float).tolist()
    draws = [dict(zip(names, rows[i], strict=True)) for i in chosen]
    ids = posterior["particle"].tolist()
    particles = {str(seed): int(ids[i]) for seed, i in zip(seeds, chosen, strict=True)}
    return draws, {"mode": "posterior", **identity, "particles": particles}


def _draw_identity(draw_info: dict[str, Any]) -> dict[str, Any]:
    """What makes two batches' parameter draws the same: the mode and the posterior's content."""
    return {key: draw_info[key] for key in ("mode", "posterior_sha256") if key in draw_info}


def with_parameters(scenario: Scenario, values: dict[str, float]) -> dict[str, Any]:
    """A scenario's resolved data with some parameter values replaced (integers rounded)."""
    data = scenario.resolved()
    if values:
        integers = {p.name for p in PARAMETERS if p.integer}
        data["parameters"] = {**data["parameters"],
                              **{k: int(round(v)) if k in integers else v for k, v in values.items()}}
    return data


def _digest(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class FolderProblem:
    """A file in a batch folder that is not what the batch wrote.

    ``run`` names the (scenario, seed) whose files are damaged: that run counts as not done and
    is run again. Without ``run`` the file is foreign and ignored.
    """

    path: Path
    problem: str
    run: tuple[str, int] | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


@dataclass(frozen=True)
class FolderState:
    """What a batch folder holds: its complete runs, its failures, and files that are not right."""

    complete: set[tuple[str, int]]
    failures: list[dict[str, Any]]
    problems: list[FolderProblem]


def _is_int(value: object) -> bool:
    """Whether a JSON value is a whole number (``True`` is not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _table_problem(path: Path, name: str, seed: int) -> str | None:
    """What is wrong with a run's Parquet table, judged from its footer (cheap), or None."""
    kind = path.parent.parent.name
    try:
        metadata = pq.read_metadata(path).metadata or {}
    except FileNotFoundError:
        return f"missing: the run is complete but has no {kind} table"
    except (OSError, pa.ArrowException) as error:
        return f"not a readable Parquet file ({str(error).splitlines()[0]})"
    try:
        origin = json.loads(metadata[b"kazsim"])
    except (KeyError, ValueError):
        return "a Parquet file without kazsim metadata (not written by kazsim batch)"
    if not isinstance(origin, dict) or origin.get("scenario") != name or origin.get("seed") != seed:
        found = origin
        if isinstance(origin, dict):
            found = f"scenario {origin.get('scenario')!r} seed {origin.get('seed')!r}"
        return f"holds the table of {found}, not of scenario {name!r} seed {seed}"
    return None


def _entries(directory: Path, problems: list[FolderProblem]) -> list[Path]:
    """A folder's entries in name order, leaving out hidden ones (temporary files of an interrupted write)."""
    try:
        return sorted(path for path in directory.iterdir() if not path.name.startswith("."))
    except OSError as error:
        problems.append(FolderProblem(directory, f"cannot be listed ({error.strerror or error}); ignored"))
        return []


class BatchFolder:
    """A batch's folder: what is done, what failed, and writing results atomically."""

    def __init__(self, root: Path) -> None:
        """Open (not create) the folder at ``root``."""
        self.root = Path(root)

    def _path(self, kind: str, name: str, seed: int, suffix: str) -> Path:
        return self.root / kind / f"scenario={name}" / f"seed={seed}{suffix}"

    def _listing(self, kind: str, suffix: str, scenarios: Collection[str] | None,
                 problems: list[FolderProblem]) -> dict[tuple[str, int], Path]:
        """The ``<kind>/scenario=<name>/seed=<seed><suffix>`` files; anything else is reported."""
        found: dict[tuple[str, int], Path] = {}
        directory = self.root / kind
        if not directory.exists():
            return found
        if not directory.is_dir():
            problems.append(FolderProblem(directory, "expected a folder; ignored"))
            return found
        pattern = re.compile(r"seed=(0|[1-9][0-9]*)" + re.escape(suffix))
        for scenario_dir in _entries(directory, problems):
            name = scenario_dir.name.removeprefix("scenario=")
            if not scenario_dir.is_dir() or name == scenario_dir.name:
                problems.append(FolderProblem(scenario_dir, "not a scenario=<name> folder; ignored"))
                continue
            if scenarios is not None and name not in scenarios:
                problems.append(FolderProblem(scenario_dir, f"scenario {name!r} is not in manifest.json; ignored"))
                continue
            for path in _entries(scenario_dir, problems):
                match = pattern.fullmatch(path.name)
                if match is None or not path.is_file():
                    problems.append(FolderProblem(path, f"not a seed=<integer>{suffix} file; ignored"))
                    continue
                found[(name, int(match.group(1)))] = path
        return found

    def _run_problems(self, run: tuple[str, int], record_path: Path) -> list[FolderProblem]:
        """What is wrong with a complete run's record and tables (empty: nothing)."""
        name, seed = run
        problems = []
        try:
            record = json.loads(record_path.read_bytes())
        except (OSError, ValueError):
            problems.append(FolderProblem(record_path, "run record is not readable JSON", run))
        else:
            if not isinstance(record, dict) or not isinstance(record.get("totals"), dict):
                problems.append(FolderProblem(record_path, "run record is not an object with scenario, seed and "
                                                           "totals", run))
            elif record.get("scenario") != name or not _is_int(record.get("seed")) or record["seed"] != seed:
                problems.append(FolderProblem(record_path, f"run record names scenario {record.get('scenario')!r} "
                                                           f"seed {record.get('seed')!r}, not this path's", run))
        for kind in ("events", "daily"):
            path = self._path(kind, name, seed, ".parquet")
            problem = _table_problem(path, name, seed)
            if problem is not None:
                problems.append(FolderProblem(path, problem, run))
        return problems

    def inspect(self, scenarios: Collection[str] | None = None) -> FolderState:
        """Check the folder: every complete run's record and table footers, every failure record.

        Args:
            scenarios: the batch's scenario names (the manifest's); folders of other names are foreign.

        Returns:
            The complete runs (record and both tables sound), the failures no success replaced,
            and every damaged or foreign file.
        """
        problems: list[FolderProblem] = []
        records = self._listing("runs", ".json", scenarios, problems)
        failure_records = self._listing("failures", ".json", scenarios, problems)
        for kind in ("events", "daily"):
            self._listing(kind, ".parquet", scenarios, problems)  # tables without a record: an interrupted run
        runs = sorted(records)
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:  # file reads release the GIL
            checked = list(pool.map(self._run_problems, runs, [records[run] for run in runs]))
        complete = set()
        for run, run_problems in zip(runs, checked, strict=True):
            problems.extend(run_problems)
            if not run_problems:
                complete.add(run)
        failures = []
        for run, path in sorted(failure_records.items()):
            if run in complete:
                continue
            try:
                record = json.loads(path.read_bytes())
            except (OSError, ValueError):
                record = None
            if (not isinstance(record, dict) or record.get("scenario") != run[0] or not _is_int(record.get("seed"))
                    or record["seed"] != run[1] or not isinstance(record.get("error"), str)):
                problems.append(FolderProblem(path, "not a failure record (JSON naming this scenario and seed, with "
                                                    "an error); ignored"))
                continue
            failures.append(record)
        return FolderState(complete, failures, problems)

    def done(self) -> set[tuple[str, int]]:
        """(scenario, seed) of every complete run whose files are sound."""
        return self.inspect().complete

    def save(self, outcome: RunOutcome) -> None:
        """Store a run's result: tables first, then the record that marks it complete.

        Raises:
            BatchError: a file cannot be written (naming it).
        """
        failure = self._path("failures", outcome.name, outcome.seed, ".json")
        particle = {} if outcome.particle is None else {"particle": outcome.particle}
        target = failure
        try:
            if outcome.error is not None:
                record = {"scenario": outcome.name, "seed": outcome.seed, **particle, "error": outcome.error,
                          "traceback": outcome.trace, "seconds": outcome.seconds}
                atomic_write_text(failure, json.dumps(record, indent=2) + "\n")
                return
            target = self._path("events", outcome.name, outcome.seed, ".parquet")
            atomic_write_bytes(target, outcome.events)
            target = self._path("daily", outcome.name, outcome.seed, ".parquet")
            atomic_write_bytes(target, outcome.daily)
            record = {"scenario": outcome.name, "seed": outcome.seed, **particle, "totals": outcome.totals,
                      "seconds": outcome.seconds}
            target = self._path("runs", outcome.name, outcome.seed, ".json")
            atomic_write_text(target, json.dumps(record, indent=2) + "\n")
            target = failure
            failure.unlink(missing_ok=True)
        except OSError as error:
            raise BatchError(f"{target}: cannot write ({error.strerror or error})") from None

    def start(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Check the folder can hold this batch, then create it and write the (merged) manifest.

        A folder started by an earlier invocation is extended when its scenarios, base seed and
        parameter draws are the same: the manifest then records the union of both.

        Returns:
            The manifest written.

        Raises:
            BatchError: ``root`` is a file or cannot be written, or holds a different batch;
                nothing is written then.
        """
        path = self.root / "manifest.json"
        if self.root.exists() and not self.root.is_dir():
            raise BatchError(f"{self.root}: is a file; --out needs a folder (a new one, or a batch folder to extend)")
        if path.exists():
            manifest = _merged_manifest(read_manifest(self.root), manifest, path)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".write-check.{os.getpid()}-0.tmp"  # named so that a kill leaves no litter
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            raise BatchError(f"{self.root}: cannot write in this folder ({error.strerror or error}); "
                             "choose another --out") from None
        atomic_write_text(path, json.dumps(manifest, indent=2, default=str) + "\n")
        return manifest


def _changed_fields(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted names of the fields that differ between two resolved scenarios."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [changed for key in sorted(set(old) | set(new), key=str)
                for changed in _changed_fields(old.get(key), new.get(key), f"{prefix}{key}.")]
    return [] if old == new else [prefix.rstrip(".")]


def _merged_manifest(existing: dict[str, Any], manifest: dict[str, Any], path: Path) -> dict[str, Any]:
    """The manifest of a folder extended by this batch; a BatchError when it holds a different batch."""
    another = "; use another --out folder"
    if existing.get("format") != manifest["format"]:
        mismatched = [name for name, scenario in manifest["scenarios"].items()
                      if name in existing["scenarios"] and existing["scenarios"][name]["digest"] != scenario["digest"]]
        if mismatched:
            raise BatchError(f"{path}: made by an earlier version of kazsim (field 'format' is "
                             f"{existing.get('format')!r}, not {manifest['format']}), whose runs this one cannot "
                             f"extend{another}")
    if existing["base_seed"] != manifest["base_seed"]:
        raise BatchError(f"{path}: field 'base_seed' is {existing['base_seed']}, not {manifest['base_seed']} "
                         f"(--seed){another}")
    old_draws, new_draws = existing.get("parameters", {}), manifest["parameters"]
    if existing.get("format") == manifest["format"] and _draw_identity(old_draws) != _draw_identity(new_draws):
        if old_draws.get("mode") != new_draws.get("mode"):
            raise BatchError(f"{path}: field 'parameters.mode' is {old_draws.get('mode')!r}; this batch asks for "
                             f"{new_draws.get('mode')!r} (--parameters){another}")
        raise BatchError(f"{path}: this folder's runs drew parameters from a posterior with sha256 "
                         f"{str(old_draws.get('posterior_sha256'))[:12]}… ({old_draws.get('posterior')}); "
                         f"{new_draws.get('posterior')} now differs{another}")
    for name, scenario in manifest["scenarios"].items():
        old = existing["scenarios"].get(name)
        if old is not None and old["digest"] != scenario["digest"]:
            changed = _changed_fields(old.get("resolved"), scenario["resolved"])
            detail = f" (changed: {', '.join(changed[:5])})" if changed else ""
            raise BatchError(f"{path}: scenario {name!r} differs from the one this folder was started with"
                             f"{detail}{another}")
    parameters = dict(new_draws)
    if "particles" in new_draws:
        parameters["particles"] = {**old_draws.get("particles", {}), **new_draws["particles"]}
    seeds = sorted({*existing.get("seeds", []), *manifest["seeds"]})
    return {**existing, **manifest, "scenarios": {**existing["scenarios"], **manifest["scenarios"]},
            "replicates": max(existing["replicates"], manifest["replicates"]), "seeds": seeds,
            "parameters": parameters, "created": existing.get("created", manifest.get("created"))}


def read_manifest(root: Path) -> dict[str, Any]:
    """A batch folder's manifest; a clear error when it is missing, unreadable or of the wrong shape."""
    path = Path(root) / "manifest.json"
    if not path.is_file():
        raise BatchError(f"{path}: missing; is {root} a batch folder (made by kazsim batch)?")
    try:
        manifest = json.loads(path.read_bytes())
    except json.JSONDecodeError as error:
        raise BatchError(f"{path}: not valid JSON ({error.msg} at line {error.lineno})") from None
    except (OSError, ValueError) as error:
        raise BatchError(f"{path}: unreadable ({error})") from None
    if not isinstance(manifest, dict):
        raise BatchError(f"{path}: expected a JSON object (a batch manifest), got a JSON {type(manifest).__name__}")
    for key in ("scenarios", "base_seed", "replicates"):
        if key not in manifest:
            raise BatchError(f"{path}: field {key!r} is missing")
    scenarios = manifest["scenarios"]
    if not isinstance(scenarios, dict):
        raise BatchError(f"{path}: field 'scenarios' must be an object mapping scenario names to their settings, "
                         f"not a JSON {type(scenarios).__name__}")
    for name, scenario in scenarios.items():
        if not isinstance(scenario, dict) or not isinstance(scenario.get("digest"), str):
            raise BatchError(f"{path}: field 'scenarios.{name}' must be an object with a 'digest' string")
    for key in ("base_seed", "replicates"):
        if not _is_int(manifest[key]):
            raise BatchError(f"{path}: field {key!r} must be a whole number, not {manifest[key]!r}")
    if not isinstance(manifest.get("parameters", {}), dict):
        raise BatchError(f"{path}: field 'parameters' must be an object, not {manifest['parameters']!r}")
    seeds = manifest.get("seeds", [])
    if not isinstance(seeds, list) or not all(_is_int(seed) for seed in seeds):
        raise BatchError(f"{path}: field 'seeds' must be a list of whole numbers")
    return manifest


@dataclass
class BatchProgress:
    """Counts a progress display needs."""

    total: int
    done: int = 0
    failed: int = 0


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
            try:
                worker.connection.send(None)
            except OSError:
                pass
    for worker in pool:
        worker.process.join(timeout=5 if graceful else 0)
        if worker.process.is_alive():
            worker.process.terminate()
            worker.process.join(timeout=5)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.connection.close()


def _run_processes(
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
                        on_outcome(_failed(spec, _death_reason(deaths[(spec.name, spec.seed)], code)))
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


def _killed_worker_reason(error: Exception) -> str:
    """The error recorded for a run Dask gave up on because its workers kept dying."""
    return (f"KilledWorker: worker process died on every try running this run (killed by a signal, e.g. the "
            f"out-of-memory killer?): {error}")


def _run_dask(
    specs: list[RunSpec], workers: int, scheduler: str, on_outcome: Callable[[RunOutcome], None],
    runner: Callable[[RunSpec], RunOutcome] = run_one,
) -> None:
    """Run on a Dask cluster: ``local`` starts a loopback LocalCluster, else connect to an address.

    A run whose task fails on the cluster (its workers died ``distributed.scheduler.allowed-failures``
    + 1 times: ``KilledWorker``, or any other error) is recorded as failed; the batch goes on. Dask
    counts a death against every task on the dying worker, including one queued behind the culprit,
    so a run can rarely be recorded as failed with it; the next batch invocation retries it.
    """
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    with dask_client(scheduler, workers, BatchError) as client:
        slots = max(2 * sum(client.nthreads().values()), 2)
        queue = deque(specs)
        spec_of: dict[str, RunSpec] = {}
        running = as_completed()

        def submit() -> None:
            spec = queue.popleft()
            future = client.submit(runner, spec, pure=False)
            spec_of[future.key] = spec
            running.add(future)

        while queue and running.count() < slots:
            submit()
        for future in running:
            spec = spec_of.pop(future.key)
            try:
                outcome = future.result()
            except KilledWorker as error:
                outcome = _failed(spec, _killed_worker_reason(error))
            except Exception as error:  # noqa: BLE001 - a run the cluster could not run is recorded, not fatal
                outcome = _failed(spec, f"{type(error).__name__}: {error}", traceback.format_exc())
            on_outcome(outcome)
            future.release()
            if queue:
                submit()


def _warn_with_python_warnings(message: str) -> None:
    """Report a folder problem as a :class:`BatchFolderWarning` (the Python API's default)."""
    warnings.warn(message, BatchFolderWarning, stacklevel=3)


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
    draws, draw_info = parameter_draws(loaded, seeds, parameters)
    identity = _draw_identity(draw_info)
    manifest = folder.start({
        "kind": "kazsim batch",
        "format": MANIFEST_FORMAT,
        "base_seed": base_seed,
        "replicates": replicates,
        "seeds": seeds,
        "parameters": draw_info,
        "scenarios": {s.name: {"digest": _digest({**s.resolved(), "draws": identity}), "resolved": s.resolved()}
                      for s in loaded},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "provenance": provenance(),
    })
    remove_abandoned_temporaries(folder.root)
    state = folder.inspect(manifest["scenarios"])
    for problem in state.problems:
        warn(f"{problem}; running it again" if problem.run is not None else str(problem))
    particles = draw_info.get("particles", {})
    specs = [
        RunSpec(with_parameters(s, values), seed, particles.get(str(seed)))
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
        _run_processes(specs, workers, record)
    elif specs:
        _run_dask(specs, workers, scheduler, record)
    return _load(folder.root, names, seeds)


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
    problems: list[FolderProblem] = field(default_factory=list)

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


REDO_HINT = "run `kazsim batch` with the same arguments to redo the run"


def _read_partitioned(root: Path, kind: str, keep: set[tuple[str, int]]) -> pd.DataFrame:
    ordered = sorted(keep)

    def read(run: tuple[str, int]) -> pa.Table:
        path = root / kind / f"scenario={run[0]}" / f"seed={run[1]}.parquet"
        try:
            return pq.read_table(path)
        except (OSError, pa.ArrowException) as error:
            reason = str(error).splitlines()[0]
            raise BatchError(f"{path}: unreadable ({reason}); delete it, then {REDO_HINT}") from None

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # Parquet reads release the GIL
        tables = list(pool.map(read, ordered))
    if not tables:
        return pd.DataFrame()
    # One conversion to pandas for the whole batch: per-file conversion cost ~10 ms a run.
    frame = pa.concat_tables(tables, promote_options="permissive").to_pandas()
    frame["scenario"] = np.repeat([name for name, _ in ordered], [t.num_rows for t in tables])
    return frame


def _load(root: Path, scenarios: Sequence[str] | None, seeds: Sequence[int] | None) -> BatchResult:
    """A batch folder's sound complete runs (damaged ones left out, listed in ``problems``)."""
    manifest = read_manifest(root)
    state = BatchFolder(root).inspect(manifest["scenarios"])
    keep = {
        (name, seed)
        for name, seed in state.complete
        if (scenarios is None or name in scenarios) and (seeds is None or seed in seeds)
    }
    runs = pd.DataFrame(sorted(keep), columns=["scenario", "seed"])
    return BatchResult(root, manifest, runs, state.failures, state.problems)


def load_batch(
    root: Path | str, scenarios: Sequence[str] | None = None, seeds: Sequence[int] | None = None
) -> BatchResult:
    """Read a batch folder (complete runs only); foreign files are listed in ``problems`` and ignored.

    Raises:
        BatchError: the manifest is missing, corrupt or of the wrong shape, or a completed run's
            files are damaged (naming the file).
    """
    result = _load(Path(root), scenarios, seeds)
    damaged = [
        problem for problem in result.problems
        if problem.run is not None and (scenarios is None or problem.run[0] in scenarios)
        and (seeds is None or problem.run[1] in seeds)
    ]
    if damaged:
        others = f" ({len(damaged) - 1} more damaged file(s))" if len(damaged) > 1 else ""
        raise BatchError(f"{damaged[0]}; {REDO_HINT}{others}")
    return result
