"""How the page shows the national model: a map of the regions and a monthly timeline against 2011."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from sim.app.figures import Painter, new_figure
from sim.app.live import LiveModel
from sim.data import ObservedData
from sim.events import ATTACK_KINDS, DEATH_COLUMNS, monthly_series
from sim.scenario import Scenario

REGION_EDGE = "#555555"
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


class RegionMap(Painter):
    """The national map: sympathy by grid cell, regions, police, militant cells and recent incidents."""

    def __init__(self, model: LiveModel) -> None:
        self.fig = fig = new_figure()
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


class MonthlyTimeline(Painter):
    """Simulated monthly attacks and deaths against the observed 2011 series, with the policy milestones."""

    def __init__(self, model: LiveModel) -> None:
        self.fig = fig = new_figure()
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


def national_summary(spec: Scenario) -> str:
    """One line naming the levers of a national run."""
    lv = spec.levers
    law = f"religion law from {lv.religion_law.start}" if lv.religion_law.enabled else "religion law off"
    sweeps = f"sweeps of {lv.sweeps.size} (precision {lv.sweeps.precision})" if lv.sweeps.enabled else "sweeps off"
    raids = (f"raids at intel {lv.raids.intel_threshold}, lethality {lv.raids.lethality}" if lv.raids.enabled
             else "raids off")
    return (f"Run: {spec.name}, seed {spec.seed}; {law}; {raids}; {sweeps}; "
            f"patrols x{lv.patrols.intensity}; community policing {lv.informants.effort}")
