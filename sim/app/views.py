"""Which painters show which model kind, so the rest of the page never asks which kind it shows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from matplotlib.figure import Figure

from sim.app.controls import lever_summary
from sim.app.figures import FULL, FigureSize, Painter
from sim.app.lattice import CountsTimeline, LatticeMap, epstein_summary
from sim.app.live import LiveModel
from sim.app.national import RegionMap
from sim.app.timeline import MonthlyTimeline
from sim.scenario import Scenario


def national_summary(spec: Scenario) -> str:
    """The levers of a national run at its start, control by control (from the lever registry)."""
    levers = "; ".join(lever_summary(spec, spec.period.start))
    return f"Run: {spec.name}, seed {spec.seed}; levers at the start: {levers}"


@dataclass(frozen=True)
class View:
    """How the page shows a model kind: its map and timeline painters and a one-line summary of the run."""

    map: Callable[[LiveModel, FigureSize], Painter]
    timeline: Callable[[LiveModel, FigureSize], Painter]
    summary: Callable[[Scenario], str]
    incidents: bool


VIEWS: dict[str, View] = {
    "national": View(RegionMap, MonthlyTimeline, national_summary, incidents=True),
    "epstein": View(LatticeMap, CountsTimeline, epstein_summary, incidents=False),
}


def view_of(model: LiveModel) -> View:
    """How the page shows this model."""
    return VIEWS[model.spec.model]


def painter(model: LiveModel, role: str, size: FigureSize = FULL) -> Painter:
    """The model's painter for ``role`` (``map`` or ``timeline``) at ``size``, made on first use."""
    painters = model.__dict__.setdefault("_painters", {})
    if (role, size) not in painters:
        painters[role, size] = getattr(view_of(model), role)(model, size)
    return painters[role, size]


def map_figure(model: LiveModel, size: FigureSize = FULL) -> Figure:
    """The map for the model's current day."""
    return painter(model, "map", size).update(model)


def timeline_figure(model: LiveModel, size: FigureSize = FULL) -> Figure:
    """The timeline for the model's current day."""
    return painter(model, "timeline", size).update(model)


def map_png(model: LiveModel, size: FigureSize = FULL) -> bytes:
    """The map of the current day as PNG bytes (what the page shows)."""
    return painter(model, "map", size).png(model)


def timeline_png(model: LiveModel, size: FigureSize = FULL) -> bytes:
    """The timeline of the current day as PNG bytes (what the page shows)."""
    return painter(model, "timeline", size).png(model)
