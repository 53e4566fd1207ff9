"""An exploration's design: which fields vary over which values, as a grid or a Latin hypercube.

``--vary FIELD=LOW:HIGH:STEPS`` names any numeric lever field (``levers.sweeps.size``) or parameter
(``parameters.legitimacy``, or its bare name), validated by the scenario schema at both ends of its range.
Each field takes STEPS evenly spaced values from LOW to HIGH (whole numbers for integer fields). A grid
crosses them all; a Latin hypercube (the default beyond two fields) picks points so that each field's
levels are spread evenly, in blocks: asking for more points later adds a block and keeps the points run.
A design point is named by a digest of its values, so the same values are the same runs in any design.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import qmc

from sim.errors import KazsimInputError
from sim.levers import REGISTRY
from sim.parameters import BY_NAME as PARAMETERS
from sim.scenario import Scenario, build_scenario

DESIGNS = ("grid", "lhs")
MAX_FIELDS = 8
MAX_STEPS = 1001
MAX_POINTS = 10_000
#: Significant digits a design value keeps: values equal to that precision are the same point.
DIGITS = 12
VARY_PATTERN = re.compile(r"^(?P<field>[A-Za-z_][A-Za-z0-9_.]*)=(?P<low>[^:]+):(?P<high>[^:]+):(?P<steps>[^:]+)$")


class ExploreError(KazsimInputError):
    """An exploration that cannot be made as asked (a bad --vary, design or folder)."""


@dataclass(frozen=True)
class Vary:
    """One varied field: its dotted path, range and number of levels."""

    field: str
    low: float
    high: float
    steps: int
    integer: bool

    def levels(self) -> list[float]:
        """The field's values: STEPS evenly spaced from LOW to HIGH (distinct whole numbers for integer fields)."""
        values = np.linspace(self.low, self.high, self.steps)
        if self.integer:
            return [float(v) for v in dict.fromkeys(int(round(v)) for v in values)]
        return [canonical(v) for v in values]

    def as_json(self) -> dict[str, Any]:
        """The field as the manifest records it."""
        return {"field": self.field, "low": self.low, "high": self.high, "steps": self.steps,
                "integer": self.integer}


def canonical(value: float) -> float:
    """A value at ``DIGITS`` significant digits, so that 0.1 computed two ways is one design value."""
    return float(f"{value:.{DIGITS}g}")


def _number(text: str, item: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ExploreError(f"--vary {item}: {what} {text!r} is not a number") from None
    if not np.isfinite(value):
        raise ExploreError(f"--vary {item}: {what} must be a finite number")
    return value


def field_kind(path: str) -> tuple[str, type] | None:
    """The canonical dotted path of a numeric lever field or parameter, and its type; None if it is not one."""
    parts = path.split(".")
    if len(parts) == 1 and parts[0] in PARAMETERS:
        parts = ["parameters", parts[0]]
    if len(parts) == 2 and parts[0] == "parameters" and parts[1] in PARAMETERS:
        return ".".join(parts), int if PARAMETERS[parts[1]].integer else float
    if len(parts) == 3 and parts[0] == "levers" and parts[1] in REGISTRY:
        field = REGISTRY[parts[1]].settings.model_fields.get(parts[2])
        if field is not None and field.annotation in (int, float):
            return ".".join(parts), field.annotation
    return None


def field_unit(path: str) -> str:
    """A varied field's unit, for axis labels: the page control's, the parameter's, or one read from its bounds."""
    kind = field_kind(path)
    if kind is None:
        return "value"
    parts = kind[0].split(".")
    if parts[0] == "parameters":
        unit = PARAMETERS[parts[1]].unit
        return unit[3:-1] if unit.startswith("1 (") and unit.endswith(")") else ("ratio" if unit == "1" else unit)
    family = REGISTRY[parts[1]]
    for control in family.controls:
        if control.field == parts[2] and control.unit:
            return control.unit
    if parts[2].endswith("_days"):
        return "days"
    bounds = [(getattr(m, "ge", None), getattr(m, "le", None)) for m in family.settings.model_fields[parts[2]].metadata]
    if (0.0, None) in bounds and (None, 1.0) in bounds:
        return "0-1 scale"
    return "as in docs/ODD.md"


def field_label(path: str) -> str:
    """A varied field as an axis label: ``sweeps.size (people)``."""
    kind = field_kind(path)
    shown = kind[0].removeprefix("levers.").removeprefix("parameters.") if kind else path
    return f"{shown} ({field_unit(path)})"


def numeric_fields() -> list[str]:
    """Every field ``--vary`` accepts, lever fields first."""
    levers = [f"levers.{name}.{field}" for name, family in REGISTRY.items() for field, info in
              family.settings.model_fields.items() if info.annotation in (int, float)]
    return levers + [f"parameters.{name}" for name in PARAMETERS]


def parse_vary(item: str, scenario: Scenario) -> Vary:
    """A ``FIELD=LOW:HIGH:STEPS`` option, checked against the scenario's schema at LOW and at HIGH.

    Raises:
        ExploreError: the text is malformed, the field is not a numeric lever field or parameter, or STEPS is
            out of range.
        ScenarioError: LOW or HIGH is not a value the schema accepts for the field (naming it).
    """
    match = VARY_PATTERN.fullmatch(item.strip())
    if match is None:
        raise ExploreError(f"--vary {item!r}: expected FIELD=LOW:HIGH:STEPS, e.g. levers.sweeps.size=0:200:5")
    kind = field_kind(match["field"])
    if kind is None:
        import difflib

        close = difflib.get_close_matches(match["field"], numeric_fields(), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else " (see the lever table in docs/ODD.md)"
        raise ExploreError(f"--vary {item}: {match['field']!r} is not a numeric lever field (levers.<family>."
                           f"<field>) or parameter{hint}")
    field, annotation = kind
    low, high = _number(match["low"], item, "LOW"), _number(match["high"], item, "HIGH")
    try:
        steps = int(match["steps"])
    except ValueError:
        raise ExploreError(f"--vary {item}: STEPS {match['steps']!r} is not a whole number") from None
    if not 1 <= steps <= MAX_STEPS or (steps == 1 and low != high):
        raise ExploreError(f"--vary {item}: STEPS must be between 2 and {MAX_STEPS} (1 only when LOW equals HIGH)")
    if high < low:
        raise ExploreError(f"--vary {item}: HIGH {high:g} is below LOW {low:g}")
    vary = Vary(field, low, high, steps, annotation is int)
    for end in (low, high):
        at(scenario, {field: end}, f"--vary {item}")
    return vary


def at(scenario: Scenario, values: dict[str, float], given: str = "--vary") -> Scenario:
    """The scenario with some numeric fields set (whole numbers rounded for integer fields), validated.

    Only what the scenario states and the fields set here count as stated: a parameter the scenario
    leaves at its default is still drawn from the posterior in a batch (:func:`sim.posterior.stated_parameters`).

    Raises:
        ScenarioError: a value the schema refuses, naming the field and ``given``.
    """
    data = scenario.model_dump(exclude_unset=True)
    for path, value in values.items():
        field, annotation = field_kind(path) or (path, float)
        *parents, last = field.split(".")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = int(round(value)) if annotation is int else float(value)
    return build_scenario(data, f"scenario {scenario.name}", {field_kind(p)[0]: given for p in values})


def point_tag(values: dict[str, float]) -> str:
    """A short, stable name for a design point's values."""
    text = json.dumps({k: canonical(v) for k, v in sorted(values.items())}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def point_name(base: str, tag: str) -> str:
    """The scenario name of a base scenario at a design point: ``<base>.p<tag>``."""
    return f"{base[:84]}.p{tag}"


def grid(fields: list[Vary]) -> list[dict[str, float]]:
    """Every combination of the fields' levels, the first field varying slowest."""
    return [dict(zip([f.field for f in fields], combo, strict=True))
            for combo in itertools.product(*(f.levels() for f in fields))]


def lhs_block(fields: list[Vary], points: int, seed: int, block: int) -> list[dict[str, float]]:
    """A Latin hypercube of ``points`` points on the fields' levels, drawn from a stream fixed by seed and block."""
    sampler = qmc.LatinHypercube(d=len(fields), rng=np.random.default_rng([seed, block, 1013]))
    unit = sampler.random(points)
    design = []
    for row in unit:
        values = {}
        for u, field in zip(row, fields, strict=True):
            levels = field.levels()
            values[field.field] = levels[min(int(u * len(levels)), len(levels) - 1)]
        design.append(values)
    return design


def check_size(points: int, fields: list[Vary]) -> None:
    """Refuse designs beyond ``MAX_POINTS`` points or ``MAX_FIELDS`` fields, or without a field."""
    if not fields:
        raise ExploreError("give at least one --vary FIELD=LOW:HIGH:STEPS")
    if len(fields) > MAX_FIELDS:
        raise ExploreError(f"{len(fields)} --vary fields; expected at most {MAX_FIELDS}")
    if len({f.field for f in fields}) != len(fields):
        raise ExploreError("a field is given twice with --vary")
    if points > MAX_POINTS:
        raise ExploreError(f"the design has {points:,} points; expected at most {MAX_POINTS:,} (fewer STEPS, "
                           "or --design lhs with --points)")


def build_design(fields: list[Vary], kind: str, points: int | None, seed: int,
                 earlier: dict[str, Any] | None) -> tuple[list[dict[str, float]], list[int]]:
    """The design's points in order, and (Latin hypercube) the sizes of its blocks.

    Args:
        fields: the varied fields.
        kind: ``grid`` or ``lhs``.
        points: Latin hypercube points (default: the most STEPS of any field).
        seed: the exploration's first seed, which fixes the hypercube's random stream.
        earlier: the folder's exploration record, whose hypercube blocks are kept (more points add a block).

    Raises:
        ExploreError: an unknown design, too many points, or a hypercube over other fields than the folder's.
    """
    if kind not in DESIGNS:
        raise ExploreError(f"--design must be one of {', '.join(DESIGNS)}, not {kind!r}")
    if kind == "grid":
        if points is not None:
            raise ExploreError("--points sets the size of a Latin hypercube (--design lhs); a grid has STEPS per field")
        size = int(np.prod([len(f.levels()) for f in fields]))
        check_size(size, fields)
        return grid(fields), []
    wanted = points if points is not None else max(f.steps for f in fields)
    check_size(wanted, fields)
    if wanted < 1:
        raise ExploreError(f"--points must be at least 1, not {wanted}")
    blocks: list[int] = []
    if earlier and earlier.get("design") == "lhs":
        if earlier.get("fields") != [f.as_json() for f in fields]:
            raise ExploreError("this folder holds a Latin hypercube over other fields or ranges "
                               f"({', '.join(f['field'] for f in earlier.get('fields', []))}); use another --out")
        blocks = list(earlier.get("blocks", []))
    if sum(blocks) < wanted:
        blocks.append(wanted - sum(blocks))
    design = [point for index, size in enumerate(blocks) for point in lhs_block(fields, size, seed, index)]
    return design[:wanted], blocks
