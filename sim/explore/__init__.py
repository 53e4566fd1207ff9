"""Policy exploration: scenarios run over a design of lever settings (and parameters) × posterior draws.

Every design point of every base scenario is a scenario of one batch folder (``<base>.p<tag>``), with
the point's values in its resolved settings and the design in the manifest's ``exploration`` record, so
an exploration is stored, resumed after a kill, grown (more STEPS, more ``--points``, more replicates)
and replayed exactly like a batch. Replicate i of every point uses seed ``base_seed + i`` and the same
posterior draw: common random numbers across design points, so differences between points are the
settings' doing. A varied parameter keeps the design's value; the other calibrated parameters are drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from sim.batch import (
    DEFAULT_BASE_SEED,
    BatchError,
    BatchProgress,
    BatchResult,
    check_batch_size,
    load_batch,
    read_manifest,
    run_batch,
)
from sim.explore.design import (
    DESIGNS,
    MAX_POINTS,
    ExploreError,
    Vary,
    at,
    build_design,
    field_kind,
    numeric_fields,
    parse_vary,
    point_name,
    point_tag,
)
from sim.explore.results import efficient, point_summary, summaries
from sim.outcomes import outcomes_per_run
from sim.scenario import Scenario, load_scenario

__all__ = ["DESIGNS", "MAX_POINTS", "Exploration", "ExploreError", "Vary", "efficient", "field_kind",
           "load_exploration", "numeric_fields", "parse_vary", "point_summary", "run_exploration", "summaries"]


@dataclass(frozen=True)
class Exploration:
    """An exploration's design and results.

    Attributes:
        batch: the folder's runs of the design's points (a :class:`~sim.batch.BatchResult`).
        fields: the varied fields.
        points: one row per design point and base scenario: ``scenario`` (the point's scenario name),
            ``base``, ``point`` (its tag) and one column per varied field.
    """

    batch: BatchResult
    fields: list[Vary]
    points: pd.DataFrame

    @property
    def root(self) -> Path:
        """The exploration's folder."""
        return self.batch.root

    @property
    def bases(self) -> list[str]:
        """The base scenarios, in the order given."""
        return list(dict.fromkeys(self.points["base"]))

    @cached_property
    def runs(self) -> pd.DataFrame:
        """One row per run: scenario, seed, base, point, the varied fields' values and every outcome."""
        outcomes = outcomes_per_run(self.batch).reset_index()
        return self.points.merge(outcomes, on="scenario", how="inner")

    def summary(self, outcome: str) -> pd.DataFrame:
        """Per base and point: the outcome's mean over runs, its 90 % interval and 5-95 % range of single runs."""
        return point_summary(self.runs, [f.field for f in self.fields], outcome)


def _point_scenarios(bases: list[Scenario], fields: list[Vary], design: list[dict[str, float]]
                     ) -> tuple[list[Scenario], list[dict[str, Any]]]:
    """Every base scenario at every design point, and the rows of the points table."""
    scenarios, rows = [], []
    distinct = list({point_tag(values): values for values in design}.items())  # a hypercube may repeat a point
    for base in bases:
        for tag, values in distinct:
            shown = ", ".join(f"{field}={value:g}" for field, value in values.items())
            scenario = at(base, values).model_copy(update={
                "name": point_name(base.name, tag),
                "description": f"{base.name} with {shown} (a design point of kazsim explore)"})
            scenarios.append(scenario)
            rows.append({"scenario": scenario.name, "base": base.name, "point": tag, **values})
    return scenarios, rows


def run_exploration(
    scenarios: Sequence[Scenario | str | Path],
    vary: Sequence[str | Vary],
    replicates: int,
    out: Path | str,
    design: str | None = None,
    points: int | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    base_seed: int = DEFAULT_BASE_SEED,
    overrides: Iterable[str] = (),
    parameters: str = "posterior",
    progress: Callable[[BatchProgress], None] | None = None,
    warn: Callable[[str], None] | None = None,
    runs_per_task: int | None = None,
) -> Exploration:
    """Run (or resume, or grow) an exploration and return its results.

    Args:
        scenarios: the base scenarios (objects, files or names); with two or more, each design point
            has paired runs of every base (e.g. with and without a policy).
        vary: ``FIELD=LOW:HIGH:STEPS`` items (or :class:`Vary`), any numeric lever field or parameter.
        replicates: runs per design point and base (seeds ``base_seed`` + i, the same at every point).
        out: the exploration's folder (a batch folder); runs already there are not run again.
        design: ``grid`` (default for one or two fields) or ``lhs`` (Latin hypercube; default beyond).
        points: the hypercube's size (default: the most STEPS of any field); more into the same folder adds
            a block of points and keeps those run.
        workers, scheduler, base_seed, overrides, parameters, progress, warn, runs_per_task: as for
            :func:`sim.batch.run_batch`.

    Raises:
        ExploreError: a bad --vary, design or size.
        ScenarioError: a varied value the scenario schema refuses.
        BatchError: the folder holds another batch or exploration, or cannot be written.
    """
    check_batch_size(replicates, workers, base_seed)
    bases = [s if isinstance(s, Scenario) else load_scenario(s, overrides=list(overrides)) for s in scenarios]
    if not bases:
        raise ExploreError("give at least one scenario to explore")
    fields = [item if isinstance(item, Vary) else parse_vary(item, bases[0]) for item in vary]
    for base in bases[1:]:
        for field in fields:
            at(base, {field.field: field.low})
            at(base, {field.field: field.high})
    kind = design or ("grid" if len(fields) <= 2 else "lhs")
    root = Path(out)
    earlier = _earlier_exploration(root)
    values, blocks = build_design(fields, kind, points, base_seed, earlier)
    point_scenarios, rows = _point_scenarios(bases, fields, values)
    record = _merged_record(earlier, fields, kind, blocks, rows, [b.name for b in bases])
    varied_parameters = {f.field.split(".", 1)[1] for f in fields if f.field.startswith("parameters.")}
    result = run_batch(point_scenarios, replicates=replicates, out=root, workers=workers, scheduler=scheduler,
                       base_seed=base_seed, progress=progress, parameters=parameters, warn=warn,
                       manifest_extra={"exploration": record}, fixed_parameters=varied_parameters,
                       runs_per_task=runs_per_task)
    return Exploration(result, fields, pd.DataFrame(rows))


def _earlier_exploration(root: Path) -> dict[str, Any] | None:
    """The exploration record of a folder that holds one (None for a new or plain batch folder)."""
    if not (root / "manifest.json").is_file():
        return None
    record = read_manifest(root).get("exploration")
    return record if isinstance(record, dict) else None


def _merged_record(earlier: dict[str, Any] | None, fields: list[Vary], kind: str, blocks: list[int],
                   rows: list[dict[str, Any]], bases: list[str]) -> dict[str, Any]:
    """The manifest's exploration record: this design, and every point run in the folder by any design."""
    names = [f.field for f in fields]
    known = dict((earlier or {}).get("points", {}))
    if earlier and [f["field"] for f in earlier.get("fields", [])] != names:
        raise ExploreError(f"this folder explores {', '.join(f['field'] for f in earlier.get('fields', []))}, "
                           f"not {', '.join(names)}; use another --out")
    for row in rows:
        known[row["scenario"]] = {"base": row["base"], "point": row["point"],
                                  "values": {name: row[name] for name in names}}
    return {"fields": [f.as_json() for f in fields], "design": kind, "blocks": blocks, "bases": bases,
            "points": known}


def load_exploration(root: Path | str, every_point: bool = True) -> Exploration:
    """Read an exploration folder: its design record and every complete run of its points.

    Args:
        root: the folder ``kazsim explore`` wrote.
        every_point: include points of earlier designs run into the folder (e.g. before STEPS grew);
            False keeps the last design's grid or hypercube only.

    Raises:
        BatchError: not an exploration folder (naming what is missing), or damaged files.
    """
    root = Path(root)
    manifest = read_manifest(root)
    record = manifest.get("exploration")
    if not isinstance(record, dict) or not isinstance(record.get("points"), dict):
        raise BatchError(f"{root / 'manifest.json'}: no 'exploration' record; {root} is a batch folder, not an "
                         "exploration (made by kazsim explore)")
    fields = [Vary(**f) for f in record["fields"]]
    rows = [{"scenario": name, "base": point["base"], "point": point["point"], **point["values"]}
            for name, point in record["points"].items() if name in manifest["scenarios"]]
    points = pd.DataFrame(rows)
    if not every_point:
        last = set(_point_scenarios_names(record, manifest))
        points = points[points["scenario"].isin(last)]
    batch = load_batch(root, scenarios=list(points["scenario"]))
    return Exploration(batch, fields, points.reset_index(drop=True))


def _point_scenarios_names(record: dict[str, Any], manifest: dict[str, Any]) -> list[str]:
    """The scenario names of the record's last design (grid of its fields, or its hypercube blocks)."""
    fields = [Vary(**f) for f in record["fields"]]
    values, _ = build_design(fields, record["design"], sum(record["blocks"]) or None, manifest["base_seed"],
                             record if record["design"] == "lhs" else None)
    return [point_name(base, point_tag(v)) for base in record.get("bases", []) for v in values]
