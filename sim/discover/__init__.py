"""Scenario discovery: where in the space of lever settings and parameters does a condition hold?

A case is a run of a batch or exploration folder, or, with a baseline, a pair of runs at the same seed
(and design point): the counterfactual and the baseline. Its dimensions are the exploration's varied
fields and the parameters its draw set; its names for ``--where`` are the outcomes (the run's, or the
counterfactual's), and with a baseline ``baseline_<outcome>`` and ``effect_<outcome>`` (counterfactual
minus baseline). PRIM (:mod:`sim.discover.prim`) then finds the box of dimensions where the condition
mostly holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.batch import load_batch
from sim.batch.replay import stored_spec
from sim.discover.expression import ConditionError, evaluate, names_in
from sim.discover.prim import (
    DEFAULT_MASS_MIN,
    DEFAULT_MIN_DENSITY,
    DEFAULT_PEEL_ALPHA,
    Box,
    DiscoveryError,
    find_box,
)
from sim.outcomes import OUTCOMES, outcomes_per_run

__all__ = ["Box", "ConditionError", "Discovery", "DiscoveryError", "cases_of", "discover", "find_box"]


@dataclass(frozen=True)
class Discovery:
    """A condition, the cases it was judged on, and the box PRIM found.

    Attributes:
        condition: the ``--where`` text.
        cases: one row per case: ``scenario``, ``seed`` (and ``baseline`` when paired), the dimensions, the
            outcome columns, and ``holds``.
        dimensions: the columns PRIM searched.
        box: the chosen box.
        dropped: cases left out because a name the condition uses has no value for them.
    """

    condition: str
    cases: pd.DataFrame
    dimensions: list[str]
    box: Box
    dropped: int

    @property
    def inside(self) -> pd.Series:
        """Whether each case lies in the chosen box."""
        inside = pd.Series(True, index=self.cases.index)
        for name, row in self.box.limits[self.box.limits["restricts"]].iterrows():
            inside &= self.cases[name].between(row["low"], row["high"])
        return inside


def _run_dimensions(root: Path, manifest: dict, runs: pd.DataFrame) -> pd.DataFrame:
    """Per run: the exploration's varied values and the parameters the run drew."""
    exploration = manifest.get("exploration") or {}
    points = exploration.get("points", {})
    rows = []
    for name, seed in zip(runs["scenario"], runs["seed"].astype(int), strict=True):
        row: dict[str, object] = {"scenario": name, "seed": seed}
        row.update(points.get(name, {}).get("values", {}))
        record_path = root / "runs" / f"scenario={name}" / f"seed={seed}.json"
        draw = json.loads(record_path.read_bytes()).get("draw")
        if draw is None and manifest.get("parameters", {}).get("mode") == "posterior":
            draw = stored_spec(root, name, seed).draw
        row.update({f"parameters.{key}": value for key, value in (draw or {}).items()})
        rows.append(row)
    return pd.DataFrame(rows)


def cases_of(root: Path | str, baseline: str | None = None, scenario: str | None = None) -> tuple[pd.DataFrame,
                                                                                                      list[str]]:
    """The cases of a batch or exploration folder, and their dimensions.

    Args:
        root: the folder.
        baseline: pair each run with the baseline's run at the same seed (and design point): a base scenario of
            an exploration, or a scenario of a batch.
        scenario: keep the cases of this (counterfactual) scenario only; needed when the folder holds several.

    Raises:
        DiscoveryError: an unknown baseline or scenario, or several scenarios without ``scenario``.
    """
    root = Path(root)
    batch = load_batch(root)
    manifest = batch.manifest
    outcomes = outcomes_per_run(batch).reset_index()
    dimensions = _run_dimensions(root, manifest, batch.runs)
    runs = dimensions.merge(outcomes, on=["scenario", "seed"])
    points = (manifest.get("exploration") or {}).get("points", {})
    runs["base"] = [points.get(name, {}).get("base", name) for name in runs["scenario"]]
    runs["point"] = [points.get(name, {}).get("point", "") for name in runs["scenario"]]
    bases = list(dict.fromkeys(runs["base"]))
    dims = [c for c in dimensions.columns if c not in ("scenario", "seed")]
    if baseline is not None:
        if baseline not in bases:
            raise DiscoveryError(f"--baseline {baseline!r}: not a scenario of {root} (it holds {', '.join(bases)})")
        names = [o.name for o in OUTCOMES]
        reference = runs[runs["base"] == baseline][["point", "seed", *names]]
        runs = runs[runs["base"] != baseline].merge(reference, on=["point", "seed"], suffixes=("", "_of_baseline"))
        for name in names:
            runs[f"baseline_{name}"] = runs.pop(f"{name}_of_baseline")
            runs[f"effect_{name}"] = runs[name] - runs[f"baseline_{name}"]
        bases = [b for b in bases if b != baseline]
    if scenario is not None:
        if scenario not in bases:
            raise DiscoveryError(f"--scenario {scenario!r}: not a {'counterfactual ' if baseline else ''}scenario of "
                                 f"{root} (choose from {', '.join(bases)})")
        runs = runs[runs["base"] == scenario]
    elif len(bases) > 1:
        what = "counterfactual scenarios" if baseline else "scenarios"
        raise DiscoveryError(f"{root} holds {len(bases)} {what} ({', '.join(bases[:6])}); choose one with --scenario"
                             + ("" if baseline else ", or pair them with --baseline"))
    return runs.reset_index(drop=True), [d for d in dims if runs[d].nunique() > 1]


def discover(root: Path | str, condition: str, baseline: str | None = None, scenario: str | None = None,
             min_density: float = DEFAULT_MIN_DENSITY, peel_alpha: float = DEFAULT_PEEL_ALPHA,
             mass_min: float = DEFAULT_MASS_MIN) -> Discovery:
    """Find the box of lever settings and parameters where ``condition`` holds, in a batch or exploration folder.

    Raises:
        ConditionError: a condition that cannot be evaluated (naming what is wrong).
        DiscoveryError: see :func:`cases_of` and :func:`sim.discover.prim.find_box`.
    """
    cases, dimensions = cases_of(root, baseline, scenario)
    used = names_in(condition)
    known = {c: cases[c].to_numpy() for c in cases.columns if c not in ("scenario", "base", "point") and
             pd.api.types.is_numeric_dtype(cases[c]) and c not in dimensions}
    missing = [name for name in used if name not in known]
    if missing:
        evaluate(condition, known)  # raises, naming the unknown name
    measured = cases[used].notna().all(axis=1) if used else pd.Series(True, index=cases.index)
    dropped = int((~measured).sum())
    cases = cases[measured].reset_index(drop=True)
    if cases.empty:
        raise DiscoveryError(f"--where {condition!r}: no case has a value for {', '.join(used)} (e.g. November-"
                             "December outcomes of runs that end earlier)")
    holds = evaluate(condition, {c: cases[c].to_numpy() for c in known if c in cases})
    cases = cases.assign(holds=holds)
    box = find_box(cases[dimensions], np.asarray(holds), min_density, peel_alpha, mass_min)
    return Discovery(condition, cases, dimensions, box, dropped)
