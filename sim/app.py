"""The live page: kazsim on Mesa's SolaraViz (visualisation only; the models live elsewhere).

Serve it with ``kazsim demo``, which first fetches Solara's front-end files into its local cache if
they are missing (sim/frontend.py), or with ``solara run sim.app --host 127.0.0.1`` from the repository
root (offline, after ``python -m sim.frontend``). The page shows

* a map of Kazakhstan's grid: region boundaries, civilians shaded by the share of open
  sympathisers in each cell, police units, militant cells, and the incidents of the last days;
* a timeline: simulated monthly attacks and deaths against the observed 2011 series, with the
  dates of the religion law and the policy milestones;
* a guide with three classroom exercises, and a list of observed and simulated incidents.

The sidebar (SolaraViz) holds play/pause/step/reset, the play interval (speed) and the controls
below. Controls take effect on **Reset**. A control left at its starting value keeps the
scenario file's value; a moved control replaces it. Every value the page sends is validated by
the scenario schema (pydantic) and nothing is evaluated or deserialised: a bad value is shown
on the page as the scenario error and the run goes on with the scenario file's own values.

Scenario ``epstein_2002`` switches to Epstein's (2002) classic civil-violence grid.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import re
from functools import lru_cache
from typing import Any

import mesa
import numpy as np
import solara
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter
from PIL import Image as PILImage

from sim.data import ObservedData
from sim.errors import KazsimInputError
from sim.events import ATTACK_KINDS, DEATH_COLUMNS, monthly_series
from sim.scenario import (
    SCENARIOS_DIR,
    Scenario,
    ScenarioError,
    build_scenario,
    load_scenario,
)

# --- controls -------------------------------------------------------------------------------

SCENARIO_NAMES: tuple[str, ...] = tuple(sorted(p.stem for p in SCENARIOS_DIR.glob("*.toml")))
DEFAULT_SCENARIO = "baseline_2011"
LAW_DATE = "2011-10-25"
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
SEED_PATTERN = re.compile(r"\d{1,9}")

#: Control name -> (starting value, scenario field it sets). A control at its starting value
#: keeps the scenario file's value.
LEVER_CONTROLS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "religion_law": (True, ("levers", "religion_law", "enabled")),
    "law_date": (LAW_DATE, ("levers", "religion_law", "start")),
    "raid_threshold": (1.0, ("levers", "raids", "intel_threshold")),
    "raid_lethality": (0.5, ("levers", "raids", "lethality")),
    "sweeps": (True, ("levers", "sweeps", "enabled")),
    "sweep_size": (40, ("levers", "sweeps", "size")),
    "sweep_precision": (0.15, ("levers", "sweeps", "precision")),
    "patrol_intensity": (1.0, ("levers", "patrols", "intensity")),
    "tip_multiplier": (1.0, ("levers", "informants", "tip_multiplier")),
}


def initial_scenario() -> str:
    """The scenario the page opens with (``kazsim demo SCENARIO`` sets ``KAZSIM_DEMO_SCENARIO``)."""
    name = os.environ.get("KAZSIM_DEMO_SCENARIO", DEFAULT_SCENARIO)
    return name if name in SCENARIO_NAMES else DEFAULT_SCENARIO


def model_params(scenario: str | None = None) -> dict[str, dict]:
    """The sidebar controls, in SolaraViz's ``model_params`` format."""
    law, raid_t, raid_l, sweeps, size, precision, patrol, tips = (
        LEVER_CONTROLS[k][0]
        for k in (
            "religion_law", "raid_threshold", "raid_lethality", "sweeps",
            "sweep_size", "sweep_precision", "patrol_intensity", "tip_multiplier",
        )
    )
    return {
        "scenario_name": {"type": "Select", "value": scenario or initial_scenario(), "values": list(SCENARIO_NAMES),
                     "label": "Scenario"},
        "religion_law": {"type": "Checkbox", "value": law, "label": "Religion law"},
        "law_date": {"type": "InputText", "value": LAW_DATE, "label": "Religion law in force from (YYYY-MM-DD)"},
        "raid_threshold": {"type": "SliderFloat", "value": raid_t, "min": 0.1, "max": 3.0, "step": 0.1,
                           "label": "Raid: intelligence threshold"},
        "raid_lethality": {"type": "SliderFloat", "value": raid_l, "min": 0.0, "max": 1.0, "step": 0.05,
                           "label": "Raid: lethality"},
        "sweeps": {"type": "Checkbox", "value": sweeps, "label": "Detention sweeps after attacks"},
        "sweep_size": {"type": "SliderInt", "value": size, "min": 0, "max": 200, "step": 5,
                       "label": "Sweep: people detained"},
        "sweep_precision": {"type": "SliderFloat", "value": precision, "min": 0.0, "max": 1.0, "step": 0.05,
                            "label": "Sweep: precision"},
        "patrol_intensity": {"type": "SliderFloat", "value": patrol, "min": 0.0, "max": 3.0, "step": 0.1,
                             "label": "Patrol intensity"},
        "tip_multiplier": {"type": "SliderFloat", "value": tips, "min": 0.0, "max": 5.0, "step": 0.1,
                           "label": "Informant tip multiplier"},
        "seed": {"type": "InputText", "value": "", "label": "Seed (blank: the scenario's)"},
        "flash_days": {"type": "SliderInt", "value": 30, "min": 1, "max": 120, "step": 1,
                       "label": "Highlight incidents of the last N days"},
    }


def scenario_from_controls(scenario: Any, controls: dict[str, Any], seed: Any = "") -> Scenario:
    """Validate the page's values into a scenario; raises :class:`ScenarioError` on a bad one.

    Values are only compared, matched against fixed patterns and handed to the pydantic schema;
    nothing is evaluated, parsed as code or deserialised.
    """
    if not isinstance(scenario, str) or scenario not in SCENARIO_NAMES:
        raise ScenarioError(SCENARIOS_DIR, "scenario", f"unknown scenario {str(scenario)[:80]!r}")
    base = load_scenario(scenario)
    path = SCENARIOS_DIR / f"{scenario}.toml"
    data = base.model_dump()
    for name, value in controls.items():
        if name not in LEVER_CONTROLS:
            raise ScenarioError(path, name, "not a control of this page")
        start, (*parents, leaf) = LEVER_CONTROLS[name]
        if value == start and type(value) is type(start):
            continue  # untouched: the scenario file's value stands
        field = ".".join((*parents, leaf))
        if name == "law_date":
            if not isinstance(value, str) or not DATE_PATTERN.fullmatch(value.strip()):
                raise ScenarioError(path, field, f"expected a date as YYYY-MM-DD (got {str(value)[:80]!r})")
            try:
                value = dt.date.fromisoformat(value.strip())
            except ValueError:
                raise ScenarioError(path, field, f"expected a real date as YYYY-MM-DD (got {value.strip()!r})") from None
        elif isinstance(start, bool):
            if not isinstance(value, bool):
                raise ScenarioError(path, field, f"expected on or off (got {str(value)[:80]!r})")
        elif isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ScenarioError(path, field, f"expected a finite number (got {str(value)[:80]!r})")
        elif isinstance(start, int) and isinstance(value, float) and value.is_integer():
            value = int(value)  # an integer slider may report 40.0
        node = data
        for part in parents:
            node = node[part]
        node[leaf] = value
    if seed not in ("", None):
        text = str(seed).strip()
        if not SEED_PATTERN.fullmatch(text):
            raise ScenarioError(path, "seed", f"expected a whole number of up to 9 digits (got {text[:80]!r})")
        data["seed"] = int(text)
    return build_scenario(data, path)


class LiveModel(mesa.Model):
    """What the page runs: a kazsim model built from the controls, or Epstein's grid.

    A bad control value does not stop the page: the scenario file's own values are used and
    ``input_error`` holds the message to show.
    """

    def __init__(
        self,
        scenario_name: str = DEFAULT_SCENARIO,
        religion_law: bool = True,
        law_date: str = LAW_DATE,
        raid_threshold: float = 1.0,
        raid_lethality: float = 0.5,
        sweeps: bool = True,
        sweep_size: int = 40,
        sweep_precision: float = 0.15,
        patrol_intensity: float = 1.0,
        tip_multiplier: float = 1.0,
        seed: str = "",
        flash_days: int = 30,
    ) -> None:
        super().__init__(rng=0)
        controls = {
            "religion_law": religion_law, "law_date": law_date, "raid_threshold": raid_threshold,
            "raid_lethality": raid_lethality, "sweeps": sweeps, "sweep_size": sweep_size,
            "sweep_precision": sweep_precision, "patrol_intensity": patrol_intensity,
            "tip_multiplier": tip_multiplier,
        }
        self.input_error: str | None = None
        try:
            spec = scenario_from_controls(scenario_name, controls, seed)
        except KazsimInputError as error:
            fallback = self._fallback_name(scenario_name)
            self.input_error = f"{error}. Running {fallback} with the file's own values."
            spec = load_scenario(fallback)
        self.spec = spec
        try:
            self.flash_days = max(1, min(366, int(flash_days)))
        except (TypeError, ValueError, OverflowError):
            self.flash_days = 30
        from sim.run import build_model

        self.sim = build_model(spec)
        self.epstein = spec.model == "epstein"
        self.running = True

    @staticmethod
    def _fallback_name(scenario: Any) -> str:
        return scenario if isinstance(scenario, str) and scenario in SCENARIO_NAMES else DEFAULT_SCENARIO

    @property
    def days(self) -> int:
        """Days simulated so far."""
        return self.sim.steps if self.epstein else self.sim.day

    @property
    def date(self) -> dt.date:
        """The date of the next day to simulate."""
        return self.spec.period.start + dt.timedelta(days=self.days)

    def step(self) -> None:
        """One day of the underlying model."""
        if self.days >= self.spec.period.days:
            self.running = False
            return
        self.sim.step()
        self.running = self.days < self.spec.period.days


# --- data shared by all pages -----------------------------------------------------------------

@lru_cache(maxsize=1)
def observed() -> ObservedData:
    """The seed data (loaded once per server)."""
    return ObservedData()


@lru_cache(maxsize=4)
def observed_monthly(start: dt.date, end: dt.date):
    """Observed monthly series of the seed-documented incidents."""
    return monthly_series(observed().seed_incidents, start, end)


@lru_cache(maxsize=4)
def boundary_segments(lon0: float, lat0: float) -> list[np.ndarray]:
    """Region boundary rings as arrays of (lon, lat)."""
    del lon0, lat0  # cache key only
    rings = []
    for feature in observed().boundaries.get("features", []):
        geometry = feature["geometry"]
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        for polygon in polygons:
            for ring in polygon:
                rings.append(np.asarray(ring, dtype=float)[:, :2])
    return rings


GRID_CELL = re.compile(r"grid cell \((\d+), (\d+)\)")


def recent_events(model: LiveModel) -> list[tuple[float, float, str, int]]:
    """(lon, lat, initiator, deaths) of the simulated incidents of the last ``flash_days`` days."""
    sim = model.sim
    layout = sim.layout
    today = model.date
    cutoff = today - dt.timedelta(days=model.flash_days)
    out = []
    for event in reversed(sim._events):
        if event["date"] < cutoff:
            break
        match = GRID_CELL.search(event["notes"])
        if not match:
            continue
        x, y = int(match[1]), int(match[2])
        lon = layout.lon0 + (x + 0.5) * layout.cell_degrees
        lat = layout.lat0 + (y + 0.5) * layout.cell_degrees
        deaths = sum(int(event[c]) for c in DEATH_COLUMNS if c in event)
        out.append((lon, lat, event["initiator"], deaths))
    return out


def simulated_monthly(model: LiveModel) -> dict[str, np.ndarray]:
    """Monthly attacks and deaths by category of the simulated incidents so far."""
    start, end = model.spec.period.start, model.spec.period.end
    n = (end.year - start.year) * 12 + end.month - start.month + 1
    out = {"attacks": np.zeros(n), **{c: np.zeros(n) for c in DEATH_COLUMNS}}
    for event in model.sim._events:
        date = event["date"]
        month = (date.year - start.year) * 12 + date.month - start.month
        if not 0 <= month < n:
            continue
        if event["kind"] in ATTACK_KINDS:
            out["attacks"][month] += 1
        for column in DEATH_COLUMNS:
            out[column][month] += event.get(column, 0)
    return out


# --- figures (pure functions of the model; the benchmark renders them offscreen) --------------

REGION_EDGE = "#555555"
EPSTEIN_COLOURS = ListedColormap(["#ffffff", "#d62728", "#9ecae1", "#222222", "#1f3fbf"])


def sympathiser_share(model: LiveModel) -> np.ndarray:
    """Share of each cell's free people who openly sympathise with or back militancy (stage >= 1)."""
    sim = model.sim
    groups = sim.civilians
    free = groups.free.astype(float)
    n = sim.layout.n_cells
    people = np.bincount(groups.cell, weights=free, minlength=n)
    open_ = np.bincount(groups.cell, weights=free * (groups.stage > 0), minlength=n)
    return np.divide(open_, people, out=np.zeros(n), where=people > 0)


def _figure() -> Figure:
    fig = Figure(figsize=(7.6, 4.2), dpi=80)
    FigureCanvasAgg(fig)
    return fig


class _Painter:
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
        raise NotImplementedError


class MapPainter(_Painter):
    """The map figure of one run: built once, its artists' data updated after each step."""

    def __init__(self, model: LiveModel) -> None:
        self.fig = fig = _figure()
        if model.epstein:
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
            return
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
        borders = ax.add_collection(LineCollection(boundary_segments(layout.lon0, layout.lat0),
                                                   colors=REGION_EDGE, linewidths=0.6))
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
        if model.epstein:
            self.image.set_data(model.sim.grid_codes().T)
            self.title.set_text(f"Epstein civil violence, step {model.sim.steps}")
            return self.fig
        sim = model.sim
        layout = sim.layout
        d = layout.cell_degrees
        self.image.set_data(layout.grid_array(sympathiser_share(model), fill=np.nan).T)

        def lonlat(cells: np.ndarray) -> np.ndarray:
            xy = layout.coords[cells]
            return np.column_stack([layout.lon0 + (xy[:, 0] + 0.5) * d, layout.lat0 + (xy[:, 1] + 0.5) * d])

        units = sim.police
        for artist, kind in ((self.patrols, 0), (self.special, 1)):
            artist.set_offsets(lonlat(units.cell[(units.kind == kind) & (units.strength >= 1)]))
        living = sim.militants.living
        self.cells.set_offsets(lonlat(sim.militants.home[living]))
        events = recent_events(model)
        if events:
            lon, lat, who, deaths = zip(*events, strict=True)
            self.events.set_offsets(np.column_stack([lon, lat]))
            self.events.set_sizes([90 + 40 * min(k, 10) for k in deaths])
            self.events.set_facecolors(["#ff7f0e" if w == "militant" else "#2ca02c" for w in who])
        else:
            self.events.set_offsets(np.empty((0, 2)))
        self.title.set_text(f"{model.spec.name}: {model.date:%d %b %Y}  ·  {len(living)} militant cells")
        return self.fig


def lever_dates(spec: Scenario) -> list[tuple[dt.date, str]]:
    """Dates to mark on the timeline: the religion law (if enabled) and the policy milestones."""
    marks = []
    law = spec.levers.religion_law
    if law.enabled and law.start:
        marks.append((law.start, "religion law (this run)"))
    for row in observed().policy_events.itertuples():
        marks.append((row.date.date() if hasattr(row.date, "date") else row.date, row.id))
    return [(d, label) for d, label in marks if spec.period.start <= d <= spec.period.end]


DEATH_COLOURS = {"deaths_security": "#1f77b4", "deaths_civilian": "#9467bd",
                 "deaths_militant": "#8c564b", "deaths_unknown": "#bcbd22"}


class TimelinePainter(_Painter):
    """The timeline figure of one run: built once, bar heights updated after each step."""

    def __init__(self, model: LiveModel) -> None:
        self.fig = fig = _figure()
        spec = model.spec
        if model.epstein:
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
            return
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
        if model.epstein:
            frame = model.sim.daily_frame()
            for column, line in self.lines.items():
                line.set_data(frame["step"].to_numpy(), frame[column].to_numpy())
            return self.fig
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
        spec = model.spec
        self.title.set_text(
            f"{spec.name}: simulated to {model.date:%d %b %Y} ({int(series['attacks'].sum())} attacks) "
            f"vs observed 2011"
        )
        return self.fig


def _painter(model: LiveModel, cls: type):
    painters = model.__dict__.setdefault("_painters", {})
    if cls not in painters:
        painters[cls] = cls(model)
    return painters[cls]


def map_figure(model: LiveModel) -> Figure:
    """The map of Kazakhstan (or Epstein's lattice) for the model's current day."""
    return _painter(model, MapPainter).update(model)


def timeline_figure(model: LiveModel) -> Figure:
    """Monthly simulated attacks and deaths against the observed 2011 series (or Epstein's counts)."""
    return _painter(model, TimelinePainter).update(model)


def map_png(model: LiveModel) -> bytes:
    """The map of the current day as PNG bytes (what the page shows)."""
    return _painter(model, MapPainter).png(model)


def timeline_png(model: LiveModel) -> bytes:
    """The timeline of the current day as PNG bytes (what the page shows)."""
    return _painter(model, TimelinePainter).png(model)


def render_png(figure: Figure) -> bytes:
    """A whole figure as PNG bytes (full redraw)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


# --- components ------------------------------------------------------------------------------

def _image(png_fn, model: LiveModel, classes: list[str]):
    key = (id(model.sim), model.days)
    data = solara.use_memo(lambda: png_fn(model), [key])
    return solara.Image(data, format="png", width="100%", classes=classes)


def MapView(model: LiveModel):
    """The map, with the input error (if any) above it; redrawn by :func:`Dashboard` after each step."""
    with solara.Column(classes=["kazsim-map"]) as column:
        if model.input_error:
            solara.Error(f"Input rejected: {model.input_error}", classes=["kazsim-input-error"])
        _image(map_png, model, ["kazsim-map-image"])
    return column


def TimelineView(model: LiveModel):
    """The timeline, the day counter and the levers of the run."""
    with solara.Column(classes=["kazsim-timeline"]) as column:
        _image(timeline_png, model, ["kazsim-timeline-image"])
        solara.Text(f"Day {model.days} of {model.spec.period.days}", classes=["kazsim-day"])
        solara.Text(lever_summary(model), classes=["kazsim-levers"])
    return column


GUIDE = """
**What you see.** The *map* is Kazakhstan in 2011 cut into cells of {deg}°; grey lines are the
16 regions. Red shading is the share of people in a cell who openly sympathise with or back
militancy. Blue squares are police patrol units, teal diamonds special forces, black triangles
militant cells. Stars are incidents of the last days (orange: attacks, green: police operations;
bigger = more deaths). The *timeline* compares simulated attacks and deaths per month (coloured)
with the incidents the 2011 record documents (grey bars; each ▼ marks one observed
incident, listed under *Incidents*). The red vertical line is the religion law in this run; dotted lines are
the policy milestones P01–P06 (Senate vote, signature, threat video, law in force, court ban,
Zhanaozen).

**How to use it.** Pick a scenario and move levers in the sidebar, then press **Reset** to start
a new run with them; **Step** advances one day, **▶** plays. *Play interval* sets the speed,
*render interval* how many days pass between redraws. A control left where it started keeps the
scenario file's value. The model is stochastic: change the seed to see another possible 2011.
Scenario `epstein_2002` shows Epstein's classic civil-violence grid (red active, light blue
quiet, black jailed, blue cops); the lever controls do not apply there.

**Exercises.**

1. *Religion law.* Type seed 1, run `baseline_2011` to December and count the attacks before
   and after 25 Oct. Untick *Religion law*, Reset, run again; then tick it, set the date to
   2011-06-01 and run again. Which changes first: the red shading or the attacks?
2. *Sweeps or targeted raids.* With the same seed, compare `baseline_2011`, `no_sweeps` and
   `targeted_raids_only`: attacks, deaths, and the red shading around places that were swept.
3. *Epstein's outbursts.* Choose `epstein_2002`, Reset and play. When do outbursts come, and
   what does the jailed count do after each one?

Expected observations are in `docs/teaching.md`.
"""


def lever_summary(model: LiveModel) -> str:
    """One line naming the levers of this run."""
    spec = model.spec
    if model.epstein:
        e = spec.epstein
        return f"Run: {spec.name}, seed {spec.seed}; legitimacy {e.legitimacy}, cop density {e.cop_density}"
    lv = spec.levers
    law = f"religion law from {lv.religion_law.start}" if lv.religion_law.enabled else "religion law off"
    sweeps = f"sweeps of {lv.sweeps.size} (precision {lv.sweeps.precision})" if lv.sweeps.enabled else "sweeps off"
    raids = (f"raids at intel {lv.raids.intel_threshold}, lethality {lv.raids.lethality}" if lv.raids.enabled
             else "raids off")
    return (f"Run: {spec.name}, seed {spec.seed}; {law}; {raids}; {sweeps}; "
            f"patrols x{lv.patrols.intensity}; tips x{lv.informants.tip_multiplier}")


def GuidePanel(model: LiveModel):
    """Plain-words guide and classroom exercises."""
    deg = model.spec.scale.cell_degrees
    return solara.Markdown(GUIDE.format(deg=deg))


def IncidentList(model: LiveModel):
    """Observed seed incidents and the latest simulated ones."""
    seed = observed().seed_incidents
    lines = ["**Observed 2011 incidents (seed articles)**", "", "| id | date | kind | place | deaths |",
             "|---|---|---|---|---|"]
    for row in seed.itertuples():
        deaths = sum(int(getattr(row, c)) for c in DEATH_COLUMNS)
        lines.append(f"| {row.id} | {row.date:%d %b} | {row.kind} | {str(row.place)[:48]} | {deaths} |")
    if not model.epstein:
        lines += ["", "**Latest simulated incidents**", "", "| date | kind | place | deaths |", "|---|---|---|---|"]
        for event in model.sim._events[-8:][::-1]:
            deaths = sum(int(event[c]) for c in DEATH_COLUMNS)
            lines.append(f"| {event['date']:%d %b} | {event['kind']} | {event['place']} | {deaths} |")
    return solara.Markdown("\n".join(lines))


@solara.component
def Dashboard(model: LiveModel):
    """The main area: map and timeline side by side, then the guide and the incident lists.

    SolaraViz's own main area (``ComponentsView``) uses ``GridDraggable``, whose front-end
    (vue-grid-layout, Vue 2) does not render with the Vue 3 front-end that ipyvue 3 brings; so the
    page passes no components to SolaraViz and lays out its own, refreshed by the same counter.
    """
    update_counter.get()
    with solara.Column(style={"padding": "8px"}):
        with solara.Columns([1, 1]):
            MapView(model)
            TimelineView(model)
        with solara.Columns([1, 1]):
            with solara.Card("Guide", classes=["kazsim-guide"]):
                GuidePanel(model)
            with solara.Card("Incidents", classes=["kazsim-incidents"]):
                IncidentList(model)


@solara.component
def Page():
    """The page ``solara run sim.app`` serves: SolaraViz's sidebar and controls, and the dashboard."""
    name = initial_scenario()
    initial = solara.use_memo(lambda: LiveModel(scenario_name=name), [])
    model = solara.use_reactive(initial)
    SolaraViz(
        model,
        components=[],
        model_params=model_params(name),
        name="kazsim: militancy and policing in Kazakhstan, 2011",
        play_interval=150,
    )
    Dashboard(model.value)
