"""How the page shows the national model's map: regions and cities named, sympathy, police, militant cells,
incidents."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import matplotlib.patheffects as path_effects
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import Bbox

from sim.app.figures import (
    AROUND,
    CENTRED,
    FULL,
    OKABE_ITO,
    FigureSize,
    Layer,
    Painter,
    baked_layer,
    new_figure,
    place_labels,
)
from sim.app.live import LiveModel
from sim.data import ObservedData
from sim.events import ATTACK_KINDS, DEATH_COLUMNS, monthly_series
from sim.geography import build_layout

REGION_EDGE = "#4d4d4d"
#: Share of people openly sympathising, white to purple (one hue: legible with any colour vision, and apart
#: from the markers' colours).
SYMPATHY = LinearSegmentedColormap.from_list("sympathy", ["#ffffff", "#dcd0ea", "#9e7cc1", "#54278f"])
SYMPATHY_MAX = 0.2
#: Map aspect: a degree of longitude is cos(48°) of a degree of latitude at Kazakhstan's mean latitude.
ASPECT = 1 / np.cos(np.radians(48.0))
HALO = [path_effects.withStroke(linewidth=3, foreground="white")]
ATTACK, POLICE_OPERATION = OKABE_ITO["vermillion"], OKABE_ITO["blue"]


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


def short_place(name: str) -> str:
    """A city's name without the older name in brackets (``Oral (Uralsk)`` → ``Oral``)."""
    return name.split(" (")[0]


def _names(fig: Figure, ax, layout, size: FigureSize) -> None:
    """Region boundaries, then the main cities and the region names wherever they fit without overlap."""
    ax.add_collection(LineCollection(boundary_segments(), colors=REGION_EDGE, linewidths=0.8))
    regions = observed().regions.sort_values("population", ascending=False)
    city_size, region_size = size.small, size.small - 1
    labels = []
    for row in regions.itertuples():
        ax.plot(row.centre_lon, row.centre_lat, marker="o", markersize=4, color="black", linestyle="none")
        text = ax.annotate(short_place(row.admin_centre), (row.centre_lon, row.centre_lat), textcoords="offset points",
                           xytext=(5, 0), fontsize=city_size, color="black", path_effects=HALO)
        labels.append((text, AROUND))
    for row in regions.itertuples():
        if row.region.endswith(" City"):
            continue  # Almaty and Astana: the city label names them
        cells = np.flatnonzero(layout.cell_region == layout.regions.index(row.region))
        points = layout.lonlat(cells)
        inner = points[np.argmin(((points - points.mean(axis=0)) ** 2).sum(axis=1))]
        name = row.region.removesuffix(" Region").upper().replace(" ", "\n")
        text = ax.annotate(name, tuple(inner), textcoords="offset points", xytext=(0, 0), fontsize=region_size,
                           color="#555555", fontstyle="italic", linespacing=0.95, path_effects=HALO)
        labels.append((text, CENTRED))
    place_labels(fig, labels, ax.get_window_extent())


@lru_cache(maxsize=8)
def names_layer(size: FigureSize, rect: tuple[float, ...], cell_degrees: float) -> tuple[Layer, list]:
    """The boundaries and the names placed on them, drawn once per server for each size of map."""
    layout = build_layout(cell_degrees)
    d = layout.cell_degrees
    extent = (layout.lon0, layout.lon0 + layout.width * d, layout.lat0, layout.lat0 + layout.height * d)
    pixels, texts = baked_layer(size, rect, extent, ASPECT, "N", lambda fig, ax: _names(fig, ax, layout, size))
    return Layer(pixels), texts


class RegionMap(Painter):
    """The national map: sympathy by grid cell, regions and cities, police, militant cells and recent incidents."""

    def __init__(self, model: LiveModel, size: FigureSize = FULL) -> None:
        self.size = size
        self.fig = fig = new_figure(size)
        layout = model.sim.layout
        d = layout.cell_degrees
        extent = (layout.lon0, layout.lon0 + layout.width * d, layout.lat0, layout.lat0 + layout.height * d)
        rect = (0.01, 0.24, 0.98, 0.74) if size.compact else (0.01, 0.02, 0.72, 0.96)
        ax = self.ax = fig.add_axes(rect)
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        ax.set_aspect(ASPECT)
        ax.set_anchor("N")
        ax.set_xticks([])
        ax.set_yticks([])
        self.layout = layout
        self.colours = (SYMPATHY(np.linspace(0.0, 1.0, 256)) * 255).astype(np.uint8)
        self.raster: tuple[np.ndarray, np.ndarray] | None = None
        self.names, self.baked_texts = names_layer(size, rect, layout.cell_degrees)
        self.share = np.zeros(layout.n_cells)
        empty = np.empty((0, 2))
        self.patrols = ax.scatter(empty[:, 0], empty[:, 1], s=12, marker="s", c=OKABE_ITO["sky_blue"],
                                  edgecolors=OKABE_ITO["blue"], linewidths=0.5, zorder=4)
        self.special = ax.scatter(empty[:, 0], empty[:, 1], s=22, marker="D", c=OKABE_ITO["green"], linewidths=0,
                                  zorder=4)
        self.militant_cells = ax.scatter(empty[:, 0], empty[:, 1], s=40, marker="^", c="black", zorder=5)
        self.events = ax.scatter(empty[:, 0], empty[:, 1], s=140, marker="*", c=ATTACK, edgecolors="black",
                                 linewidths=0.6, zorder=6)
        self._legend(model, size)
        self._animate([self.patrols, self.special, self.militant_cells, self.events])

    def _paint(self, rgba: np.ndarray) -> None:
        """Grid cells shaded by sympathy, then the names and boundaries, written straight into the pixels."""
        if self.raster is None:
            self.raster = self._raster(rgba.shape[0])
        where, cells = self.raster
        level = np.clip(self.share / SYMPATHY_MAX * 255, 0, 255).astype(np.intp)
        rgba.reshape(-1, 4)[where] = self.colours[level][cells]
        self.names.over(rgba)

    def _raster(self, height: int) -> tuple[np.ndarray, np.ndarray]:
        """Which canvas pixels show which grid cell: flat pixel indices and their cells."""
        box = self.ax.get_window_extent()
        columns = np.arange(int(np.ceil(box.x0)), int(np.floor(box.x1)))
        rows = np.arange(int(np.ceil(box.y0)), int(np.floor(box.y1)))
        x, y = np.meshgrid(columns, rows)
        lon, lat = self.ax.transData.inverted().transform(np.column_stack([x.ravel() + 0.5, y.ravel() + 0.5])).T
        layout = self.layout
        gx = np.floor((lon - layout.lon0) / layout.cell_degrees).astype(np.intp)
        gy = np.floor((lat - layout.lat0) / layout.cell_degrees).astype(np.intp)
        inside = (gx >= 0) & (gx < layout.width) & (gy >= 0) & (gy < layout.height)
        lookup = layout.grid_array(np.arange(layout.n_cells), fill=-1).astype(np.intp)
        cells = np.full(len(gx), -1)
        cells[inside] = lookup[gx[inside], gy[inside]]
        shown = cells >= 0
        flat = (height - 1 - y.ravel()) * self.fig.canvas.get_width_height()[0] + x.ravel()
        return flat[shown], cells[shown]

    def _legend(self, model: LiveModel, size: FigureSize) -> None:
        """Legend and colour bar beside the map (below it when compact): never over the data."""
        fig = self.fig
        shading = ScalarMappable(Normalize(0.0, SYMPATHY_MAX), SYMPATHY)

        def marker(shape: str, colour: str, edge: str = "none", area: float = 8) -> Line2D:
            return Line2D([], [], marker=shape, color="none", markerfacecolor=colour, markeredgecolor=edge,
                          markersize=area)

        handles = [marker("s", OKABE_ITO["sky_blue"], OKABE_ITO["blue"]), marker("D", OKABE_ITO["green"], area=7),
                   marker("^", "black"), marker("*", ATTACK, "black", 13), marker("*", POLICE_OPERATION, "black", 13),
                   marker("o", "black", area=5)]
        days = model.flash_days
        labels = ["patrol police", "special forces", "militant cell", f"attack,\nlast {days} days",
                  f"police operation,\nlast {days} days", "regional capital"]
        if size.compact:
            labels = [label.replace(",\n", ", ").replace("last ", "").replace(" days", " d") for label in labels]
            fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=size.small - 1,
                       frameon=False, handletextpad=0.2, columnspacing=0.8)
            bar_axes = fig.add_axes((0.25, 0.195, 0.5, 0.025))
            bar = fig.colorbar(shading, cax=bar_axes, orientation="horizontal")
        else:
            fig.legend(handles, labels, loc="upper left", bbox_to_anchor=(0.745, 0.50), fontsize=size.small,
                       frameon=False, handletextpad=0.3, labelspacing=0.5)
            bar_axes = fig.add_axes((0.76, 0.56, 0.025, 0.3))
            bar = fig.colorbar(shading, cax=bar_axes)
            bar.set_label("openly sympathise\n(% of people)", fontsize=size.small)
        bar.set_ticks(np.linspace(0, SYMPATHY_MAX, 5))
        bar.set_ticklabels([f"{v:.0%}" for v in np.linspace(0, SYMPATHY_MAX, 5)])
        bar.ax.tick_params(labelsize=size.small - 1)

    def update(self, model: LiveModel) -> Figure:
        """Redraw the data of the current day; returns the figure."""
        sim = model.sim
        layout = sim.layout
        self.share = sympathiser_share(model)
        units = sim.police
        for artist, kind in ((self.patrols, 0), (self.special, 1)):
            artist.set_offsets(layout.lonlat(units.cell[(units.kind == kind) & (units.strength >= 1)]))
        living = sim.militants.living
        self.militant_cells.set_offsets(layout.lonlat(sim.militants.home[living]))
        events = recent_events(model)
        if events:
            self.events.set_offsets(np.array([(e.lon, e.lat) for e in events]))
            self.events.set_sizes([140 + 50 * min(e.deaths, 10) for e in events])
            self.events.set_facecolors([ATTACK if e.initiator == "militant" else POLICE_OPERATION for e in events])
        else:
            self.events.set_offsets(np.empty((0, 2)))
        return self.fig

    def caption(self, model: LiveModel) -> str:
        """The scenario, the date and the militant cells alive."""
        living = len(model.sim.militants.living)
        return f"{model.spec.name} · {model.date:%d %b %Y} · {living} militant cell{'s' if living != 1 else ''}"

    @property
    def map_area(self) -> Bbox:
        """The map's axes in pixels."""
        return self.ax.get_window_extent()
