"""Replaying one run of a batch (or exploration) exactly, from what its folder stored.

A run is fully described by the scenario the manifest resolved, its seed, and its parameter draw:
the values in the run's record (written by batches from this version on), else the posterior
particle the manifest names for the seed, read from the posterior file whose sha256 the manifest
holds. Replaying re-runs the model with exactly these and compares the tables with the stored ones
byte for byte (the Parquet files are re-encoded with the stored files' own metadata, so only the
data can differ).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sim.batch.executors import parquet_bytes
from sim.batch.plan import BatchError, RunSpec
from sim.batch.store import read_manifest
from sim.parameters import PARAMETERS
from sim.posterior import load_posterior, parameter_names, prior_draw, with_parameters
from sim.run import RunResult, simulate
from sim.scenario import scenario_from_resolved

TABLES = ("events", "daily")


@dataclass(frozen=True)
class Replay:
    """A replayed run: its spec, the result, and whether each stored table was reproduced byte for byte.

    ``identical`` maps ``events`` and ``daily`` to True or False; it is empty when the folder holds no
    complete record of the run (a failed or missing run can be replayed, not checked).
    """

    spec: RunSpec
    result: RunResult
    identical: dict[str, bool]
    source: dict[str, Any]


def _record(root: Path, name: str, seed: int) -> dict[str, Any] | None:
    path = root / "runs" / f"scenario={name}" / f"seed={seed}.json"
    try:
        record = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _posterior_values(draws: dict[str, Any], particle: int, seed: int, manifest_path: Path) -> dict[str, float]:
    """A run's draw: its particle's values from the posterior file the manifest names (if it is still the same
    file), and the prior draws of the seed for every other parameter (as ``sim.posterior.parameter_draws``)."""
    path = Path(str(draws.get("posterior")))
    try:
        content = path.read_bytes()
    except OSError as error:
        raise BatchError(f"{manifest_path}: the runs drew parameters from {path}, which cannot be read now "
                         f"({error.strerror or error}); the run cannot be replayed exactly") from None
    if hashlib.sha256(content).hexdigest() != draws.get("posterior_sha256"):
        raise BatchError(f"{manifest_path}: {path} changed since the runs drew parameters from it (sha256 differs); "
                         "the run cannot be replayed exactly")
    posterior = load_posterior(path)
    rows = posterior[posterior["particle"] == particle]
    if rows.empty:
        raise BatchError(f"{path}: no particle {particle}, which the run drew")
    names = parameter_names(posterior)
    others = [p.name for p in PARAMETERS if p.name not in names]
    return {**prior_draw(seed, others), **{name: float(rows.iloc[0][name]) for name in names}}


def stored_spec(root: Path | str, scenario: str | None, seed: int) -> RunSpec:
    """The spec a batch folder's run was made from: resolved scenario, seed, particle and parameter draw.

    Args:
        root: the batch or exploration folder.
        scenario: the scenario's name in the folder; may be omitted when the folder holds one scenario.
        seed: the run's seed.

    Raises:
        BatchError: no such folder, scenario or seed, or a draw that can no longer be reconstructed.
    """
    root = Path(root)
    manifest = read_manifest(root)
    path = root / "manifest.json"
    names = list(manifest["scenarios"])
    if scenario is None:
        if len(names) != 1:
            raise BatchError(f"--scenario: {root} holds {len(names)} scenarios; name one of {', '.join(names[:10])}"
                             + (" …" if len(names) > 10 else ""))
        scenario = names[0]
    if scenario not in manifest["scenarios"]:
        close = [n for n in names if scenario in n][:5] or names[:5]
        raise BatchError(f"--scenario {scenario!r}: not a scenario of {root} (it holds e.g. {', '.join(close)})")
    seeds = manifest.get("seeds") or []
    if seed not in seeds:
        span = f"{min(seeds)}-{max(seeds)}" if seeds else "none"
        raise BatchError(f"--seed {seed}: not a seed of {root} (its seeds: {span})")
    resolved = manifest["scenarios"][scenario].get("resolved")
    if not isinstance(resolved, dict):
        raise BatchError(f"{path}: field 'scenarios.{scenario}.resolved' is missing; the run cannot be replayed")
    draws = manifest.get("parameters", {})
    record = _record(root, scenario, seed) or {}
    particle = record.get("particle", draws.get("particles", {}).get(str(seed)))
    values = record.get("draw")
    if not isinstance(values, dict):
        if draws.get("mode") == "posterior" and particle is not None:
            values = _posterior_values(draws, int(particle), seed, path)
        elif draws.get("mode") == "point":
            values = draws.get("values", {})
        else:
            values = {}
    base = scenario_from_resolved(resolved, f"{path} (scenario {scenario})")
    stated = set(manifest["scenarios"][scenario].get("stated_parameters", []))
    return RunSpec(with_parameters(base, values, stated), seed, particle, values or None)


def replay(root: Path | str, scenario: str | None, seed: int) -> Replay:
    """Re-run a stored run and compare its tables with the stored ones byte for byte."""
    root = Path(root)
    spec = stored_spec(root, scenario, seed)
    result = simulate(scenario_from_resolved(spec.scenario, f"{root} (scenario {spec.name})"), seed=seed)
    identical: dict[str, bool] = {}
    if _record(root, spec.name, seed) is not None:
        frames = {"events": result.events.assign(seed=seed), "daily": result.daily.assign(seed=seed)}
        for kind in TABLES:
            stored = root / kind / f"scenario={spec.name}" / f"seed={seed}.parquet"
            try:
                metadata = json.loads((pq.read_metadata(stored).metadata or {})[b"kazsim"])
                identical[kind] = parquet_bytes(frames[kind], metadata) == stored.read_bytes()
            except (OSError, KeyError, ValueError, pa.ArrowException):
                identical[kind] = False
    source = {"folder": str(root), "scenario": spec.name, "seed": seed, "particle": spec.particle,
              "draw": spec.draw}
    return Replay(spec, result, identical, source)
