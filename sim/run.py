"""Running a scenario: build the model, simulate, and write its outputs with provenance."""

from __future__ import annotations

import gc
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.epstein import EpsteinModel
from sim.events import totals
from sim.mesa_adapter import release_agents
from sim.model import KazakhstanModel
from sim.protocol import SimulationModel
from sim.provenance import provenance
from sim.scenario import Scenario

#: The model each scenario kind (``model = ...``) runs.
MODELS: dict[str, type[SimulationModel]] = {"national": KazakhstanModel, "epstein": EpsteinModel}

#: The files ``kazsim run`` writes into its output folder.
OUTPUT_FILES = ("events.csv", "daily.csv", "run.json")

_collector_frozen = False


def freeze_long_lived_objects() -> None:
    """Exclude the objects alive now (libraries, caches) from future garbage collections, once.

    A process that has loaded pandas, numba and Mesa tracks ~200,000 long-lived objects; each
    model creates enough new objects to trigger full collections that traverse all of them,
    ~0.1 s each on this machine, as much as simulating a year. Frozen, a collection costs ~5 ms.
    """
    global _collector_frozen
    if not _collector_frozen:
        gc.collect()
        gc.freeze()
        _collector_frozen = True


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector, then collect only the objects made meanwhile.

    Building a model allocates ~11,000 agents, enough to trigger collections; left to itself,
    the collector runs full collections at unlucky moments (~60 ms each, most of a simulated
    year). Paused, the objects made meanwhile stay in the youngest generation, and one young
    collection at the end clears whatever cycles the run left.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect(0)


def build_model(scenario: Scenario, seed: int | None = None) -> SimulationModel:
    """The model a scenario asks for, seeded with ``seed`` (default: the scenario's)."""
    freeze_long_lived_objects()
    return MODELS[scenario.model](scenario, rng=seed)


def advance(model: SimulationModel, days: int, progress: Callable[[int], None] | None = None) -> None:
    """Simulate ``days`` days of a model through Mesa's own loop; ``progress(1)`` after each day when given.

    Without a progress callback the whole period is one ``run_for`` call: Mesa schedules a run in one
    go at less cost per day than stepping the model day by day.
    """
    chunk = days if progress is None else 1
    done = 0
    while done < days:
        days_now = min(chunk, days - done)
        model.run_for(days_now)
        done += days_now
        if progress is not None:
            progress(days_now)


@dataclass(frozen=True)
class RunResult:
    """What one run produced."""

    scenario: Scenario
    seed: int
    days: int
    events: pd.DataFrame
    daily: pd.DataFrame

    def metadata(self, parameters: dict[str, object] | None = None) -> dict[str, object]:
        """The provenance record written as ``run.json`` (``parameters``: where the parameter values came from)."""
        return {
            "scenario": self.scenario.name,
            "model": self.scenario.model,
            "seed": self.seed,
            "days": self.days,
            "period": {
                "start": self.scenario.period.start.isoformat(),
                "end": self.daily["date"].iloc[-1] if len(self.daily) else None,
            },
            "resolved": self.scenario.resolved(),
            "parameters": parameters or {"mode": "scenario"},
            "totals": {k: int(v) for k, v in totals(self.events).items()},
            "provenance": provenance(),
        }


def simulate(
    scenario: Scenario,
    seed: int | None = None,
    days: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> RunResult:
    """Run a scenario once.

    Args:
        scenario: the validated scenario.
        seed: replaces the scenario's seed when given.
        days: number of days (default: the scenario's period).
        progress: called with 1 after each simulated day.
    """
    seed = scenario.seed if seed is None else seed
    days = scenario.period.days if days is None else days
    with collector_paused():
        model = build_model(scenario, seed)
        advance(model, days, progress)
        result = RunResult(scenario, seed, days, model.events_frame(), model.daily_frame())
        release_agents(model)
        del model
    return result


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A table as CSV with fixed formatting, so the same table always gives the same bytes."""
    return frame.to_csv(index=False, date_format="%Y-%m-%d", lineterminator="\n", float_format="%.10g").encode()


def write_outputs(result: RunResult, out: Path, parameters: dict[str, object] | None = None) -> None:
    """Write ``events.csv``, ``daily.csv`` and ``run.json`` to ``out``, all or nothing.

    The files are written to a temporary folder beside ``out`` and moved into place, so an
    interrupted run never leaves a half-written set.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        (staging / "events.csv").write_bytes(csv_bytes(result.events))
        (staging / "daily.csv").write_bytes(csv_bytes(result.daily))
        (staging / "run.json").write_text(json.dumps(result.metadata(parameters), indent=2, default=str) + "\n")
        out.mkdir(exist_ok=True)
        for name in OUTPUT_FILES:
            (staging / name).replace(out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
