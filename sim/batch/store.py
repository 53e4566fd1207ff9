"""A batch's folder: complete, damaged and foreign files, atomic saves, and the manifest.

Layout::

    manifest.json                              what the batch is (scenarios, seeds, provenance)
    events/scenario=<name>/seed=<seed>.parquet the run's events (incident schema)
    daily/scenario=<name>/seed=<seed>.parquet  the run's daily table
    runs/scenario=<name>/seed=<seed>.json      written last: the run is complete
    failures/scenario=<name>/seed=<seed>.json  a run that raised or killed its worker: the reason
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sim.batch.plan import BatchError, RunOutcome, draw_identity
from sim.provenance import atomic_write_bytes, atomic_write_text


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
        record = None
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
        # Records since this check hold their tables' sha256, which also catches damage the footer does not show.
        digests = record.get("sha256") if isinstance(record, dict) else None
        for kind in ("events", "daily"):
            path = self._path(kind, name, seed, ".parquet")
            problem = _table_problem(path, name, seed)
            if problem is None and isinstance(digests, dict) and kind in digests:
                try:
                    if hashlib.sha256(path.read_bytes()).hexdigest() != digests[kind]:
                        problem = "damaged: its sha256 is not the one the run recorded"
                except OSError as error:
                    problem = f"cannot be read ({error.strerror or error})"
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
        if outcome.draw:
            particle["draw"] = outcome.draw
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
                      "seconds": outcome.seconds, "sha256": {kind: hashlib.sha256(data).hexdigest() for kind, data
                                                             in (("events", outcome.events), ("daily", outcome.daily))}}
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


def changed_fields(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted names of the fields that differ between two resolved scenarios."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [changed for key in sorted(set(old) | set(new), key=str)
                for changed in changed_fields(old.get(key), new.get(key), f"{prefix}{key}.")]
    return [] if old == new else [prefix.rstrip(".")]


def _merged_manifest(existing: dict[str, Any], manifest: dict[str, Any], path: Path) -> dict[str, Any]:
    """The manifest of a folder extended by this batch; a BatchError when it holds a different batch."""
    another = "; use another --out folder"
    if ("exploration" in existing) != ("exploration" in manifest):
        held, asked = (("an exploration (made by kazsim explore)", "a batch") if "exploration" in existing
                       else ("a batch (made by kazsim batch)", "an exploration"))
        raise BatchError(f"{path}: this folder holds {held}; {asked} cannot be added to it{another}")
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
    if existing.get("format") == manifest["format"] and draw_identity(old_draws) != draw_identity(new_draws):
        if old_draws.get("mode") != new_draws.get("mode"):
            raise BatchError(f"{path}: field 'parameters.mode' is {old_draws.get('mode')!r}; this batch asks for "
                             f"{new_draws.get('mode')!r} (--parameters){another}")
        raise BatchError(f"{path}: this folder's runs drew parameters from a posterior with sha256 "
                         f"{str(old_draws.get('posterior_sha256'))[:12]}… ({old_draws.get('posterior')}); "
                         f"{new_draws.get('posterior')} now differs{another}")
    for name, scenario in manifest["scenarios"].items():
        old = existing["scenarios"].get(name)
        if old is not None and old["digest"] != scenario["digest"]:
            changed = changed_fields(old.get("resolved"), scenario["resolved"])
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
        if not isinstance(scenario.get("resolved", {}), dict):
            raise BatchError(f"{path}: field 'scenarios.{name}.resolved' must be an object (the resolved scenario)")
        stated = scenario.get("stated_parameters", [])
        if not isinstance(stated, list) or not all(isinstance(item, str) for item in stated):
            raise BatchError(f"{path}: field 'scenarios.{name}.stated_parameters' must be a list of parameter names")
    for key in ("base_seed", "replicates"):
        if not _is_int(manifest[key]):
            raise BatchError(f"{path}: field {key!r} must be a whole number, not {manifest[key]!r}")
    if not isinstance(manifest.get("parameters", {}), dict):
        raise BatchError(f"{path}: field 'parameters' must be an object, not {manifest['parameters']!r}")
    particles = manifest.get("parameters", {}).get("particles", {})
    if not isinstance(particles, dict) or not all(_is_int(particle) for particle in particles.values()):
        raise BatchError(f"{path}: field 'parameters.particles' must be an object mapping seeds to particle numbers")
    if not isinstance(manifest.get("provenance", {}), dict):
        raise BatchError(f"{path}: field 'provenance' must be an object")
    seeds = manifest.get("seeds", [])
    if not isinstance(seeds, list) or not all(_is_int(seed) for seed in seeds):
        raise BatchError(f"{path}: field 'seeds' must be a list of whole numbers")
    return manifest

