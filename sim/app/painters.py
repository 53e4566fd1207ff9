"""The page's figures: a map and a timeline per model kind, drawn once and updated after each step.

Each painter builds its matplotlib figure once; after a step only the artists that move are
redrawn onto a saved background (blitting) and sent as PNG bytes. :data:`VIEWS` says which
painters show a model kind, so the rest of the page never asks which kind it shows.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from PIL import Image as PILImage

from sim.app.live import LiveModel
from sim.data import ObservedData
from sim.events import ATTACK_KINDS, DEATH_COLUMNS, monthly_series
from sim.scenario import Scenario

REGION_EDGE = "#555555"
EPSTEIN_COLOURS = ListedColormap(["#ffffff", "#d62728", "#9ecae1", "#222222", "#1f3fbf"])
DEATH_COLOURS = {"deaths_security": "#1f77b4", "deaths_civilian": "#9467bd",
                 "deaths_militant": "#8c564b", "deaths_unknown": "#bcbd22"}


# --- data shared by all pages -----------------------------------------------------------------

@lru_cache(maxsize=1)
def observed() -> ObservedData:
    """The seed data (loaded once per server)."""
    return ObservedData()


@lru_cache(maxsize=4)
def observed_monthly(start: dt.date, end: dt.date):
    """Observed monthly series of the seed-documented incidents."""
    return monthly_series(observed().seed_incidents, start, end)


@lru_cache(maxsize=1)
def boundary_segments() -> list[np.ndarray]:
    """Region boundary rings as arrays of (lon, lat)."""
    rings = []
    for feature in observed().boundaries.get("features", []):
        geometry = feature["geometry"]
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        for polygon in polygons:
            for ring in polygon:
                rings.append(np.asarray(ring, dtype=float)[:, :2])
    return rings


def recent_events(model: LiveModel) -> list:
    """The simulated incidents of the last ``flash_days`` days."""
    return model.sim.events.since(model.date - dt.timedelta(days=model.flash_days))


def simulated_monthly(model: LiveModel) -> dict[str, np.ndarray]:
    """Monthly attacks and deaths by category of the simulated incidents so far."""
    start, end = model.spec.period.start, model.spec.period.end
    n = (end.year - start.year) * 12 + end.month - start.month + 1
    out = {"attacks": np.zeros(n), **{c: np.zeros(n) for c in DEATH_COLUMNS}}
    for event in model.sim.events:
        month = (event.date.year - start.year) * 12 + event.date.month - start.month
        if not 0 <= month < n:
            continue
        if event.kind in ATTACK_KINDS:
            out["attacks"][month] += 1
        for column in DEATH_COLUMNS[:3]:
            out[column][month] += getattr(event, column)
    return out


def sympathiser_share(model: LiveModel) -> np.ndarray:
    """Share of each grid cell's free people who openly sympathise with or back militancy (stage >= 1)."""
    sim = model.sim
    groups = sim.civilians
    free = groups.free.astype(float)
    n = sim.layout.n_cells
    people = np.bincount(groups.cell, weights=free, minlength=n)
    open_ = np.bincount(groups.cell, weights=free * (groups.stage > 0), minlength=n)
    return np.divide(open_, people, out=np.zeros(n), where=people > 0)


def lever_dates(spec: Scenario) -> list[tuple[dt.date, str]]:
    """Dates to mark on the timeline: the religion law (if enabled) and the policy milestones."""
    marks = []
    law = spec.levers.religion_law
    if law.enabled and law.start:
        marks.append((law.start, "religion law (this run)"))
    for row in observed().policy_events.itertuples():
        marks.append((row.date.date() if hasattr(row.date, "date") else row.date, row.id))
    return [(d, label) for d, label in marks if spec.period.start <= d <= spec.period.end]


# --- painters ------------------------------------------------------------------------------

def _figure() -> Figure:
    fig = Figure(figsize=(7.6, 4.2), dpi=80)
    FigureCanvasAgg(fig)
    return fig


class Painter:
    """A figure drawn once; after each step only its moving artists are redrawn (blitting)."""

    fig: Figure
    moving: list

    def _animate(self, artists: list) -> None:
        self.moving = list(artists)
        for artist in self.moving:
            artist.set_animated(True)
        self.background = None

    def png(self, model: LiveModel) -> bytes:
        """The current day as PNG bytes."""
        self.update(model)
        canvas = self.fig.canvas
        if self.background is None:
            canvas.draw()
            self.background = canvas.copy_from_bbox(self.fig.bbox)
        else:
            canvas.restore_region(self.background)
        for artist in self.moving:
            self.fig.draw_artist(artist)
        width, height = canvas.get_width_height()
        image = PILImage.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        image.save(buffer, format="png", compress_level=1)
        return buffer.getvalue()

    def update(self, model: LiveModel) -> Figure:  # pragma: no cover - overridden
        """Bring the moving artists to the current day; returns the figure."""
        raise NotImplementedError


class RegionMap(Painter):
    """The national map: sympathy by grid cell, regions, police, militant cells and recent incidents."""

    def __init__(self, model: LiveModel) -> None:
        self.fig = fig = _figure()
        fig.subplots_adjust(left=0.08, right=0.92, top=0.92, bottom=0.11)
        layout = model.sim.layout
        d = layout.cell_degrees
        ax = self.ax = fig.add_subplot()
        self.extent = (layout.lon0, layout.lon0 + layout.width * d, layout.lat0, layout.lat0 + layout.height * d)
        self.image = ax.imshow(np.full((layout.height, layout.width), np.nan), origin="lower", extent=self.extent,
                               cmap="Reds", vmin=0.0, vmax=0.2, interpolation="nearest", aspect="auto")
        bar = fig.colorbar(self.image, ax=ax, fraction=0.03, pad=0.01)
        bar.set_label("open sympathisers (share of people)", fontsize=7)
        bar.ax.tick_params(labelsize=7)
        borders = ax.add_collection(LineCollection(boundary_segments(), colors=REGION_EDGE, linewidths=0.6))
        empty = np.empty((0, 2))
        self.patrols = ax.scatter(empty[:, 0], empty[:, 1], s=9, marker="s", c="#1f3fbf", label="patrol police",
                                  linewidths=0)
        self.special = ax.scatter(empty[:, 0], empty[:, 1], s=14, marker="D", c="#00a0a0", label="special forces",
                                  linewidths=0)
        self.cells = ax.scatter(empty[:, 0], empty[:, 1], s=28, marker="^", c="black", label="militant cells")
        self.events = ax.scatter(empty[:, 0], empty[:, 1], s=90, marker="*", c="#ff7f0e", edgecolors="black",
                                 linewidths=0.5, label=f"incidents, last {model.flash_days} days", zorder=5)
        ax.set_xlim(self.extent[0], self.extent[1])
        ax.set_ylim(self.extent[2], self.extent[3])
        ax.set_xlabel("longitude °E", fontsize=8)
        ax.set_ylabel("latitude °N", fontsize=8)
        ax.tick_params(labelsize=7)
        legend = ax.legend(loc="lower left", fontsize=7, markerscale=0.8, framealpha=0.8)
        self.title = ax.set_title("", fontsize=10)
        self._animate([self.image, borders, self.patrols, self.special, self.cells, self.events, legend, self.title])

    def update(self, model: LiveModel) -> Figure:
        """Redraw the data of the current day; returns the figure."""
        sim = model.sim
        layout = sim.layout
        self.image.set_data(layout.grid_array(sympathiser_share(model), fill=np.nan).T)
        units = sim.police
        for artist, kind in ((self.patrols, 0), (self.special, 1)):
            artist.set_offsets(layout.lonlat(units.cell[(units.kind == kind) & (units.strength >= 1)]))
        living = sim.militants.living
        self.cells.set_offsets(layout.lonlat(sim.militants.home[living]))
        events = recent_events(model)
        if events:
            self.events.set_offsets(np.array([(e.lon, e.lat) for e in events]))
            self.events.set_sizes([90 + 40 * min(e.deaths, 10) for e in events])
            self.events.set_facecolors(["#ff7f0e" if e.initiator == "militant" else "#2ca02c" for e in events])
        else:
            self.events.set_offsets(np.empty((0, 2)))
        self.title.set_text(f"{model.spec.name}: {model.date:%d %b %Y}  ·  {len(living)} militant cells")
        return self.fig


class LatticeMap(Painter):
    """Epstein's torus: active, quiet and jailed citizens and cops, cell by cell."""

    def __init__(self, model: LiveModel) -> None:
        self.fig = fig = _figure()
        fig.subplots_adjust(left=0.02, right=0.8, top=0.92, bottom=0.03)
        ax = self.ax = fig.add_subplot()
        self.image = ax.imshow(model.sim.grid_codes().T, origin="lower", cmap=EPSTEIN_COLOURS, vmin=0, vmax=4,
                               interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        labels = ("empty", "active", "quiet", "jailed", "cop")
        ax.legend(
            handles=[Patch(color=EPSTEIN_COLOURS(i), label=label) for i, label in enumerate(labels) if i],
            loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False,
        )
        self.title = ax.set_title("", fontsize=10)
        self._animate([self.image, self.title])

    def update(self, model: LiveModel) -> Figure:
        """Redraw the lattice; returns the figure."""
        self.image.set_data(model.sim.grid_codes().T)
        self.title.set_text(f"Epstein civil violence, step {model.days}")
        return self.fig


class MonthlyTimeline(Painter):
    """Simulated monthly attacks and deaths against the observed 2011 series, with the policy milestones."""

    def __init__(self, model: LiveModel) -> None:
        self.fig = fig = _figure()
        spec = model.spec
        fig.subplots_adjust(left=0.08, right=0.98, top=0.92, bottom=0.08, hspace=0.12)
        self.start, end = spec.period.start, spec.period.end
        obs = observed_monthly(self.start, end)
        n = self.n = len(obs)
        months = np.arange(n)
        top, bottom = self.top, self.bottom = fig.subplots(2, 1, sharex=True)
        self.attacks = top.bar(months - 0.2, np.zeros(n), width=0.4, color="#ff7f0e", label="simulated attacks")
        obs_attacks = obs["attacks"].to_numpy()
        top.bar(months + 0.2, obs_attacks, width=0.4, color="#7f7f7f", label="observed attacks (seed)")
        top.set_ylabel("attacks / month", fontsize=8)
        self.title = top.set_title("", fontsize=10)
        self.deaths = {
            column: bottom.bar(months - 0.2, np.zeros(n), width=0.4, color=colour,
                               label=column.replace("deaths_", "sim. "))
            for column, colour in DEATH_COLOURS.items()
        }
        obs_deaths = obs[list(DEATH_COLUMNS)].sum(axis=1).to_numpy()
        bottom.bar(months + 0.2, obs_deaths, width=0.4, color="#7f7f7f", label="observed deaths (all)")
        bottom.set_ylabel("deaths / month", fontsize=8)
        bottom.set_xticks(months, [p.strftime("%b") for p in obs.index], fontsize=7)
        bottom.set_xlim(-0.6, n - 0.4)
        self.obs_max = (max(obs_attacks.max(), 1), max(obs_deaths.max(), 1))
        for ax in (top, bottom):
            for day, label in lever_dates(spec):
                law = label.startswith("religion")
                ax.axvline(self.position(day), color="#d62728" if law else "#aaaaaa", linestyle="-" if law else ":",
                           linewidth=1.2 if law else 0.8)
            ax.tick_params(labelsize=7)
        self.now = [ax.axvline(0, color="black", linewidth=0.8, alpha=0.5) for ax in (top, bottom)]
        for day, label in lever_dates(spec):
            bottom.annotate(label, (self.position(day), 1), xycoords=("data", "axes fraction"), fontsize=6,
                            rotation=90, xytext=(2, -2), textcoords="offset points", color="#444444", va="top")
        seed = observed().seed_incidents
        self.seed_marks = [(self.position(row.date.date()), row.id) for row in seed.itertuples()
                           if self.start <= row.date.date() <= end]
        top.plot([x for x, _ in self.seed_marks], [0.93] * len(self.seed_marks), linestyle="none", marker="v",
                 color="black", markersize=4, transform=top.get_xaxis_transform())
        top.legend(fontsize=7, loc="upper left")
        bottom.legend(fontsize=7, loc="center left", ncol=1)
        self.limits = (0.0, 0.0)
        rects = [*self.attacks.patches, *(r for bars in self.deaths.values() for r in bars.patches)]
        self._animate([*rects, *self.now, self.title])

    def position(self, day: dt.date) -> float:
        """x position of a day (months are 0, 1, ...)."""
        month = (day.year - self.start.year) * 12 + day.month - self.start.month
        return month - 0.5 + (day.day - 1) / 31

    def update(self, model: LiveModel) -> Figure:
        """Redraw the series up to the current day; returns the figure."""
        series = simulated_monthly(model)
        for rect, value in zip(self.attacks, series["attacks"][: self.n], strict=True):
            rect.set_height(value)
        base = np.zeros(self.n)
        for column, bars in self.deaths.items():
            values = series[column][: self.n]
            for rect, b, value in zip(bars, base, values, strict=True):
                rect.set_y(b)
                rect.set_height(value)
            base = base + values
        limits = (max(self.obs_max[0], series["attacks"].max()) * 1.25, max(self.obs_max[1], base.max()) * 1.15)
        if limits != self.limits:  # the axes change: the background must be drawn again
            self.limits = limits
            self.top.set_ylim(0, limits[0])
            self.bottom.set_ylim(0, limits[1])
            self.background = None
        x = self.position(min(model.date, model.spec.period.end))
        for line in self.now:
            line.set_xdata([x, x])
        self.title.set_text(
            f"{model.spec.name}: simulated to {model.date:%d %b %Y} ({int(series['attacks'].sum())} attacks) "
            f"vs observed 2011"
        )
        return self.fig


class CountsTimeline(Painter):
    """Epstein's counts: active, jailed and quiet citizens, step by step."""

    def __init__(self, model: LiveModel) -> None:
        self.fig = fig = _figure()
        spec = model.spec
        fig.subplots_adjust(left=0.1, right=0.97, top=0.92, bottom=0.12)
        ax = self.ax = fig.add_subplot()
        self.lines = {}
        for column, colour in (("active", "#d62728"), ("jailed", "#222222"), ("quiet", "#9ecae1")):
            (self.lines[column],) = ax.plot([], [], color=colour, label=column, linewidth=1.2)
        ax.set_xlim(0, max(spec.period.days, 1))
        ax.set_ylim(0, max(model.sim.n_citizens, 1) * 1.05)
        ax.set_xlabel("step", fontsize=8)
        ax.set_ylabel("citizens", fontsize=8)
        ax.set_title("Epstein: active, jailed and quiet citizens", fontsize=10)
        ax.legend(fontsize=8, loc="center right")
        ax.tick_params(labelsize=7)
        self._animate(list(self.lines.values()))

    def update(self, model: LiveModel) -> Figure:
        """Redraw the counts up to the current step; returns the figure."""
        frame = model.sim.daily_frame()
        for column, line in self.lines.items():
            line.set_data(frame["step"].to_numpy(), frame[column].to_numpy())
        return self.fig


# --- which painters show which model kind --------------------------------------------------

@dataclass(frozen=True)
class View:
    """How the page shows a model kind: its map and timeline painters and a one-line summary of the run."""

    map: type[Painter]
    timeline: type[Painter]
    summary: Callable[[Scenario], str]
    incidents: bool


def national_summary(spec: Scenario) -> str:
    """One line naming the levers of a national run."""
    lv = spec.levers
    law = f"religion law from {lv.religion_law.start}" if lv.religion_law.enabled else "religion law off"
    sweeps = f"sweeps of {lv.sweeps.size} (precision {lv.sweeps.precision})" if lv.sweeps.enabled else "sweeps off"
    raids = (f"raids at intel {lv.raids.intel_threshold}, lethality {lv.raids.lethality}" if lv.raids.enabled
             else "raids off")
    return (f"Run: {spec.name}, seed {spec.seed}; {law}; {raids}; {sweeps}; "
            f"patrols x{lv.patrols.intensity}; tips x{lv.informants.tip_multiplier}")


def epstein_summary(spec: Scenario) -> str:
    """One line naming the settings of an Epstein run."""
    e = spec.epstein
    return f"Run: {spec.name}, seed {spec.seed}; legitimacy {e.legitimacy}, cop density {e.cop_density}"


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


def render_png(figure: Figure) -> bytes:
    """A whole figure as PNG bytes (full redraw)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
