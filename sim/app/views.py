"""Which painters show which model kind, so the rest of the page never asks which kind it shows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from matplotlib.figure import Figure

from sim.app.figures import Painter
from sim.app.lattice import CountsTimeline, LatticeMap, epstein_summary
from sim.app.live import LiveModel
from sim.app.national import MonthlyTimeline, RegionMap, national_summary
from sim.scenario import Scenario


@dataclass(frozen=True)
class View:
    """How the page shows a model kind: its map and timeline painters and a one-line summary of the run."""

    map: type[Painter]
    timeline: type[Painter]
    summary: Callable[[Scenario], str]
    incidents: bool


VIEWS: dict[str, View] = {
    "national": View(RegionMap, MonthlyTimeline, national_summary, incidents=True),
    "epstein": View(LatticeMap, CountsTimeline, epstein_summary, incidents=False),
}


def view_of(model: LiveModel) -> View:
    """How the page shows this model."""
    return VIEWS[model.spec.model]


def _painter(model: LiveModel, role: str) -> Painter:
    painters = model.__dict__.setdefault("_painters", {})
    if role not in painters:
        painters[role] = getattr(view_of(model), role)(model)
    return painters[role]


def map_figure(model: LiveModel) -> Figure:
    """The map for the model's current day."""
    return _painter(model, "map").update(model)


def timeline_figure(model: LiveModel) -> Figure:
    """The timeline for the model's current day."""
    return _painter(model, "timeline").update(model)


def map_png(model: LiveModel) -> bytes:
    """The map of the current day as PNG bytes (what the page shows)."""
    return _painter(model, "map").png(model)


def timeline_png(model: LiveModel) -> bytes:
    """The timeline of the current day as PNG bytes (what the page shows)."""
    return _painter(model, "timeline").png(model)
